"""Conversation memory against a real Redis: round trip, bounds, TTL, corrupt data, outages."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.memory.connection import make_client
from bot.memory.conversation import (
    UNAVAILABLE_NOTE,
    ConversationMemory,
    History,
    bound_turns,
    conversation_key,
    estimate_tokens,
)
from bot.memory.embedded_redis import EmbeddedRedis
from bot.models import Turn
from tests.support.redis_fixtures import redis_stopped

KEY = conversation_key("T1", "C1", "1700000000.000100")


def user(text: str) -> Turn:
    return Turn(role="user", content=text, created_at=1.0)


def bot(text: str) -> Turn:
    return Turn(role="assistant", content=text, created_at=2.0)


def memory(redis: Redis, *, max_turns: int = 12, max_tokens: int = 3000) -> ConversationMemory:
    return ConversationMemory(redis, ttl_seconds=600, max_turns=max_turns, max_tokens=max_tokens)


def test_conversation_key_names_team_channel_and_thread() -> None:
    assert conversation_key("T1", "C1", "17.1") == "advisor:conv:T1:C1:17.1"
    assert conversation_key("T1", "D9", None) == "advisor:conv:T1:D9:main"


@pytest.mark.parametrize(
    ("sizes", "max_turns", "max_tokens", "kept"),
    [
        ([4, 4, 4], 12, 100, [0, 1, 2]),  # everything fits
        ([4, 4, 4], 2, 100, [1, 2]),  # newest turns win the turn limit
        ([40, 4, 4], 12, 10, [1, 2]),  # token budget drops the oldest first
        ([4, 40, 4], 12, 10, [2]),  # contiguous: no skipping over a big turn to older ones
        ([], 12, 10, []),
    ],
)
def test_bound_turns(sizes: list[int], max_turns: int, max_tokens: int, kept: list[int]) -> None:
    turns = [user(f"{i}" * (4 * size)) for i, size in enumerate(sizes)]
    assert bound_turns(turns, max_turns, max_tokens) == tuple(turns[i] for i in kept)


def test_bound_turns_cuts_a_newest_turn_larger_than_the_budget() -> None:
    huge = bot("recommendation first. " + "x" * 4000)
    (kept,) = bound_turns([user("q"), huge], 12, 100)
    assert kept.content.startswith("recommendation first.")
    assert estimate_tokens(kept.content) <= 100
    assert kept.role == "assistant"


async def test_round_trip(redis_client: Redis) -> None:
    mem = memory(redis_client)
    assert await mem.load(KEY) == History(())

    assert await mem.append(KEY, user("Should we fine-tune?"), bot("Start with prompting."))
    assert await mem.append(KEY, user("And RAG?"))

    history = await mem.load(KEY)
    assert history.note is None
    assert [t.content for t in history.turns] == [
        "Should we fine-tune?",
        "Start with prompting.",
        "And RAG?",
    ]
    assert [t.role for t in history.turns] == ["user", "assistant", "user"]

    await mem.clear(KEY)
    assert await mem.load(KEY) == History(())


async def test_bounded_by_turns_in_storage_and_on_load(redis_client: Redis) -> None:
    mem = memory(redis_client, max_turns=4)
    for i in range(10):
        await mem.append(KEY, user(f"q{i}"))

    assert await redis_client.llen(KEY) == 4
    assert [t.content for t in (await mem.load(KEY)).turns] == ["q6", "q7", "q8", "q9"]


async def test_bounded_by_tokens(redis_client: Redis) -> None:
    mem = memory(redis_client, max_tokens=250)
    await mem.append(KEY, user("a" * 800), bot("b" * 400), user("c" * 400))  # 200 + 100 + 100

    assert [t.content[0] for t in (await mem.load(KEY)).turns] == ["b", "c"]


async def test_append_sets_the_ttl(redis_client: Redis) -> None:
    mem = memory(redis_client)
    await mem.append(KEY, user("hello"))

    assert 590 <= await redis_client.ttl(KEY) <= 600


async def test_corrupt_entries_are_dropped(
    redis_client: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    mem = memory(redis_client)
    await mem.append(KEY, user("first"))
    await redis_client.rpush(KEY, "not json", '{"role": "robot", "content": "x"}')
    await mem.append(KEY, bot("last"))

    history = await mem.load(KEY)

    assert [t.content for t in history.turns] == ["first", "last"]
    assert history.note is None
    assert caplog.text.count("Dropping a corrupt turn") == 2


async def test_a_key_of_another_type_reads_as_empty(redis_client: Redis) -> None:
    await redis_client.set(KEY, "[]")
    assert await memory(redis_client).load(KEY) == History(())


@pytest.fixture
async def prod_client(redis_server: EmbeddedRedis) -> AsyncIterator[Redis]:
    # The production client settings: short timeouts, two quick retries.
    client = make_client(redis_server.start())
    await client.flushall()
    yield client
    await client.aclose()


async def test_outage_is_noted_once_and_memory_recovers(
    prod_client: Redis, redis_server: EmbeddedRedis
) -> None:
    mem = memory(prod_client)
    assert await mem.append(KEY, user("before the outage"))

    with redis_stopped(redis_server):
        assert await mem.load(KEY) == History((), note=UNAVAILABLE_NOTE)
        assert await mem.load(KEY) == History(())
        assert await mem.append(KEY, user("lost")) is False
        await mem.clear(KEY)  # logged, not raised
        assert await mem.load(KEY) == History(())

    # Back: the data saved before the outage is still there and writes work again.
    assert [t.content for t in (await mem.load(KEY)).turns] == ["before the outage"]
    assert await mem.append(KEY, bot("after"))

    with redis_stopped(redis_server):
        assert await mem.append(KEY, user("lost again")) is False
        # A failed append does not use up the note: the user has not been told yet.
        assert (await mem.load(KEY)).note == UNAVAILABLE_NOTE
        assert (await mem.load(KEY)).note is None

    assert [t.content for t in (await mem.load(KEY)).turns] == ["before the outage", "after"]


async def test_a_hung_redis_is_an_outage_bounded_by_the_timeout(hung_port: int) -> None:
    client = make_client(f"redis://127.0.0.1:{hung_port}/0")
    mem = ConversationMemory(
        client, ttl_seconds=600, max_turns=12, max_tokens=3000, timeout_seconds=0.5
    )
    started = time.monotonic()
    try:
        assert await mem.load(KEY) == History((), note=UNAVAILABLE_NOTE)
        assert await mem.append(KEY, user("lost")) is False
    finally:
        await client.aclose()
    assert time.monotonic() - started < 3
