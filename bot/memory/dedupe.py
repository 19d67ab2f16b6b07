"""Slack event dedupe shared by every replica: Slack retries events it thinks were not acked."""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

SEEN_PREFIX = "advisor:seen:"


def seen_key(key: str) -> str:
    return f"{SEEN_PREFIX}{key}"


async def first_delivery(
    redis: Redis, key: str, ttl_seconds: int = 3600, *, timeout_seconds: float = 2.0
) -> bool:
    """True the first time `key` (e.g. a Slack `event_id`) is seen within `ttl_seconds`.

    When Redis is unreachable this says True: answering a retried event twice is better than
    never answering it. `timeout_seconds` bounds the whole call (retries included), since
    Slack wants its ack within 3 seconds.
    """
    try:
        async with asyncio.timeout(timeout_seconds):
            created = await redis.set(seen_key(key), "1", nx=True, ex=ttl_seconds)
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        # OSError covers asyncio's TimeoutError, whose message is empty.
        reason = str(exc) or type(exc).__name__
        logger.warning("Event dedupe unavailable, handling %s anyway: %s", key, reason)
        return True
    return bool(created)


class Deliveries:
    """`first_delivery` bound to one Redis client and a default expiry."""

    def __init__(self, redis: Redis, ttl_seconds: int) -> None:
        self._redis = redis
        self._ttl = ttl_seconds

    async def first(self, key: str, ttl_seconds: int | None = None) -> bool:
        return await first_delivery(self._redis, key, ttl_seconds or self._ttl)
