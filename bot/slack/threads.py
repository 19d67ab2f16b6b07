"""Threads the bot takes part in, so follow-ups there need no new mention."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def thread_key(team_id: str, channel_id: str, thread_ts: str) -> str:
    return f"advisor:thread:{team_id}:{channel_id}:{thread_ts}"


async def mark_thread(
    redis: Redis, team_id: str, channel_id: str, thread_ts: str, ttl_seconds: int
) -> None:
    """Remember (or refresh) the thread. An outage only costs follow-ups needing a mention."""
    try:
        await redis.set(thread_key(team_id, channel_id, thread_ts), "1", ex=ttl_seconds)
    except (RedisError, OSError) as exc:
        logger.warning("Could not remember thread %s/%s: %s", channel_id, thread_ts, exc)


async def in_bot_thread(redis: Redis, team_id: str, channel_id: str, thread_ts: str) -> bool:
    try:
        return bool(await redis.exists(thread_key(team_id, channel_id, thread_ts)))
    except (RedisError, OSError) as exc:
        logger.warning("Could not check thread %s/%s: %s", channel_id, thread_ts, exc)
        return False
