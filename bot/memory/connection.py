"""Build the one async Redis client: from REDIS_URL, or on the embedded server's unix socket."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.config import RedisSettings
from bot.memory.embedded_redis import EmbeddedRedis

logger = logging.getLogger(__name__)

# Short timeouts and two quick retries: a blip is absorbed, an outage surfaces within a few
# seconds so the bot answers without memory instead of leaving Slack waiting.
_TIMEOUT_SECONDS = 2.0
_RETRIES = 2
_HEALTH_TIMEOUT_SECONDS = 3.0
# redis-py 8's pool raises MaxConnectionsError at once when its 100 connections are busy; that
# error is a ConnectionError, so a burst of Slack events looked like an outage: dedupe let
# retries through and memory was skipped. A blocking pool makes a burst wait its turn instead.
_MAX_CONNECTIONS = 100


def make_client(url: str) -> Redis:
    """A lazily connecting client: creating it never fails, whether or not the server is up."""
    pool = BlockingConnectionPool.from_url(
        url,
        decode_responses=True,
        socket_timeout=_TIMEOUT_SECONDS,
        socket_connect_timeout=_TIMEOUT_SECONDS,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), _RETRIES),
        retry_on_error=[RedisConnectionError, RedisTimeoutError, OSError],
        max_connections=_MAX_CONNECTIONS,
        timeout=_TIMEOUT_SECONDS,  # the longest wait for a free connection
    )
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes it


async def connect_redis(
    settings: RedisSettings, data_dir: Path
) -> tuple[Redis, EmbeddedRedis | None]:
    """Return the client and, when we use the embedded server, its handle (to stop at exit).

    With REDIS_URL set the server may be down now; the client works once it is back. The
    embedded server is started here (or reused if another process already runs it); a failure
    to start it raises `EmbeddedRedisError`, whose message is safe to show.
    """
    if settings.url:
        return make_client(settings.url), None
    embedded = EmbeddedRedis(data_dir / "redis")
    # Starting waits (bounded) for PING; keep that blocking work off the event loop.
    url = await asyncio.to_thread(embedded.start)
    return make_client(url), embedded


async def redis_health(redis: Redis) -> str | None:
    """None when Redis answers PING, otherwise a short reason fit for a status line."""
    try:
        async with asyncio.timeout(_HEALTH_TIMEOUT_SECONDS):
            await redis.ping()
    except TimeoutError:
        return f"no answer within {_HEALTH_TIMEOUT_SECONDS:g}s"
    except (RedisError, OSError) as exc:
        return _short_reason(exc)
    return None


def _short_reason(exc: BaseException) -> str:
    # redis-py messages name host:port and the OS error, never the password from the URL.
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
