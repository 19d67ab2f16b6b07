# syntax=docker/dockerfile:1
# The fine-tune advisor. Two variants from one file:
#   docker build -t advisor .                          # OpenAI-compatible embeddings (small image)
#   docker build -t advisor:local --build-arg EMBEDDER=local .   # bundled CPU embedding model
# The local variant pins torch==2.13.0 from the CPU wheel index: an unpinned torch from PyPI
# pulls gigabytes of CUDA libraries that a CPU-only pod never uses.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: resolve and install every dependency into a self-contained virtualenv -----------
FROM ${PYTHON_IMAGE} AS build
ARG EMBEDDER=openai
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Metadata first so dependency layers are cached across code changes.
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN if [ "$EMBEDDER" = "local" ]; then \
        pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \
        && pip install ".[local]"; \
    else \
        pip install .; \
    fi \
    && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} +

# ---- runtime: the virtualenv and the knowledge folder, no compilers, not root ---------------
FROM ${PYTHON_IMAGE} AS runtime
ARG EMBEDDER=openai
LABEL org.opencontainers.image.title="finetune-advisor" \
      org.opencontainers.image.description="Slack bot: fine-tune, prompt or RAG?"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    ADVISOR_KNOWLEDGE_DIR=/app/knowledge \
    ADVISOR_DATA_DIR=/data \
    ADVISOR_HOST=0.0.0.0 \
    ADVISOR_PORT=3000 \
    ADVISOR_HEALTH_PORT=8080 \
    ADVISOR_LOG_JSON=true \
    ADVISOR_LOG_LEVEL=INFO
RUN groupadd --system --gid 10001 advisor \
    && useradd --system --uid 10001 --gid advisor --home-dir /app --shell /usr/sbin/nologin advisor \
    && mkdir -p /app /data \
    && chown advisor:advisor /data
COPY --from=build /opt/venv /opt/venv
# The bundled guidance is the default; mount a folder over /app/knowledge to use your own.
COPY --chown=advisor:advisor knowledge /app/knowledge
WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
# 3000: Slack events in HTTP mode (also /healthz /readyz /metrics); 8080: the same probes and
# metrics in Socket Mode.
EXPOSE 3000 8080
# Liveness only (the process serves HTTP): whichever port this mode uses answers /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request as r\nfor port in (os.environ.get('ADVISOR_HEALTH_PORT', '8080'), os.environ.get('ADVISOR_PORT', '3000')):\n    try:\n        r.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=3)\n        sys.exit(0)\n    except Exception:\n        pass\nsys.exit(1)"]
ENTRYPOINT ["advisor"]
CMD ["serve"]
