"""Slack event dedupe with SET NX EX on a real Redis."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from bot.memory.connection import make_client
from bot.memory.dedupe import first_delivery, seen_key


async def test_first_delivery_only_once_per_key(redis_client: Redis) -> None:
    assert await first_delivery(redis_client, "Ev001") is True
    assert await first_delivery(redis_client, "Ev001") is False
    assert await first_delivery(redis_client, "Ev002") is True


async def test_seen_marker_expires(redis_client: Redis) -> None:
    await first_delivery(redis_client, "Ev003", ttl_seconds=120)

    assert seen_key("Ev003") == "advisor:seen:Ev003"
    assert 110 <= await redis_client.ttl("advisor:seen:Ev003") <= 120


async def test_unreachable_redis_means_answer_anyway(closed_port: int) -> None:
    client = make_client(f"redis://127.0.0.1:{closed_port}/0")
    try:
        assert await first_delivery(client, "Ev004") is True
        assert await first_delivery(client, "Ev004") is True
    finally:
        await client.aclose()


async def test_a_hung_redis_is_bounded_by_the_timeout(hung_port: int) -> None:
    client = make_client(f"redis://127.0.0.1:{hung_port}/0")
    started = time.monotonic()
    try:
        assert await first_delivery(client, "Ev005", timeout_seconds=0.5) is True
    finally:
        await client.aclose()
    assert time.monotonic() - started < 2
