"""connect_redis and redis_health against the embedded server and an unreachable address."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.config import RedisSettings
from bot.memory.connection import connect_redis, redis_health
from bot.memory.embedded_redis import EmbeddedRedis


async def test_redis_url_to_the_embedded_socket(
    redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    redis, embedded = await connect_redis(RedisSettings(url=redis_server.start()), tmp_path)
    try:
        assert embedded is None
        assert await redis_health(redis) is None
        await redis.set("advisor:test:conn", "é")
        assert await redis.get("advisor:test:conn") == "é"  # decode_responses
    finally:
        await redis.aclose()
    assert not (tmp_path / "redis").exists()  # nothing embedded was started


async def test_unreachable_url_gives_a_reason_quickly(closed_port: int, tmp_path: Path) -> None:
    started = time.monotonic()
    redis, embedded = await connect_redis(
        RedisSettings(url=f"redis://127.0.0.1:{closed_port}/0"), tmp_path
    )
    try:
        reason = await redis_health(redis)
    finally:
        await redis.aclose()

    assert embedded is None
    assert reason is not None
    assert str(closed_port) in reason
    assert time.monotonic() - started < 5


async def test_without_url_starts_the_embedded_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data_dir = tmp_path_factory.mktemp("conn")
    redis, embedded = await connect_redis(RedisSettings(), data_dir)
    try:
        assert embedded is not None
        assert embedded.url == f"unix://{data_dir.absolute() / 'redis' / 'redis.sock'}"
        assert await redis_health(redis) is None
    finally:
        await redis.aclose()
        assert embedded is not None
        embedded.stop()


async def test_a_hung_server_is_reported_within_a_few_seconds(hung_port: int) -> None:
    redis, _ = await connect_redis(RedisSettings(url=f"redis://127.0.0.1:{hung_port}/0"), Path("."))
    started = time.monotonic()
    try:
        assert await redis_health(redis) == "no answer within 3s"
    finally:
        await redis.aclose()
    assert time.monotonic() - started < 4
