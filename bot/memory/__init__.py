"""Conversation memory and event dedupe in Redis, plus the embedded redis-server used by default."""
