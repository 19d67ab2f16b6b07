"""Real Redis for tests: one embedded server per session, a fresh flushed client per test.

Loaded by the top-level conftest through `pytest_plugins`; importing it has no side effects.

    async def test_x(redis_client: Redis) -> None: ...           # empty database, real server
    def test_y(redis_server: EmbeddedRedis) -> None:
        with redis_stopped(redis_server): ...                     # an outage, restarted after
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest
from redis.asyncio import Redis

from bot.memory.embedded_redis import EmbeddedRedis


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    # A short directory name: unix socket paths are limited to 107 bytes.
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def redis_client(redis_server: EmbeddedRedis) -> AsyncIterator[Redis]:
    # start() is idempotent and restarts a server that an earlier outage test left stopped.
    client = Redis.from_url(redis_server.start(), decode_responses=True)
    await client.flushall()
    try:
        yield client
    finally:
        await client.aclose()


def restart_redis(server: EmbeddedRedis) -> None:
    """Stop the server (saving its data) and start it again on the same socket and data dir."""
    server.stop()
    server.start()


@contextmanager
def redis_stopped(server: EmbeddedRedis) -> Iterator[None]:
    """Simulate an outage for the duration of the block; the server is back afterwards."""
    server.stop()
    try:
        yield
    finally:
        server.start()
