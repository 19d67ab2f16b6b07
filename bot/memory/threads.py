"""Slack threads the bot takes part in, so follow-ups there need no new mention (shared by every
replica through Redis, each mark expiring `ttl_seconds` after the bot last spoke there)."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def thread_key(team_id: str, channel_id: str, thread_ts: str) -> str:
    return f"advisor:thread:{team_id}:{channel_id}:{thread_ts}"


class ThreadMarks:
    def __init__(self, redis: Redis, ttl_seconds: int) -> None:
        self._redis = redis
        self._ttl = ttl_seconds

    async def mark(self, team_id: str, channel_id: str, thread_ts: str) -> None:
        """Remember (or refresh) the thread. An outage only costs follow-ups needing a mention."""
        try:
            await self._redis.set(thread_key(team_id, channel_id, thread_ts), "1", ex=self._ttl)
        except (RedisError, OSError) as exc:
            logger.warning("Could not remember thread %s/%s: %s", channel_id, thread_ts, exc)

    async def is_marked(self, team_id: str, channel_id: str, thread_ts: str) -> bool:
        try:
            return bool(await self._redis.exists(thread_key(team_id, channel_id, thread_ts)))
        except (RedisError, OSError) as exc:
            logger.warning("Could not check thread %s/%s: %s", channel_id, thread_ts, exc)
            return False
