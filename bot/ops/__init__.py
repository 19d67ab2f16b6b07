"""Operations: health and readiness checks, Prometheus metrics, their HTTP endpoints."""
