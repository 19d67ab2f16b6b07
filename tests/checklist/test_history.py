"""The per-channel decision history against a real embedded redis-server."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from bot.checklist.definition import ChecklistError
from bot.checklist.history import Decision, DecisionHistory, history_key
from bot.memory.embedded_redis import EmbeddedRedis
from tests.support.redis_fixtures import redis_stopped

KEY = history_key("T1", "C1")


def _decision(thread_ts: str, label: str = "Prompting + RAG") -> Decision:
    return Decision(
        thread_ts=thread_ts,
        recommendation="prompting_rag",
        label=label,
        checklist_version="2025.1",
        user_ids=("U1", "U2"),
        permalink="https://example.slack.com/archives/C1/p1",
    )


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        DecisionHistory(Redis(), ttl_days=0)  # never connects: the check runs first
    with pytest.raises(ValueError, match="positive"):
        DecisionHistory(Redis(), max_entries=0)


async def test_newest_first_capped_with_ttl(redis_client: Redis) -> None:
    history = DecisionHistory(redis_client, ttl_days=3, max_entries=3)
    for n in range(5):
        assert await history.add("T1", "C1", _decision(f"1.{n}"))
    recent = await history.recent("T1", "C1")
    assert [d.thread_ts for d in recent] == ["1.4", "1.3", "1.2"]
    assert await redis_client.llen(KEY) == 3
    assert 3 * 86400 - 5 <= await redis_client.ttl(KEY) <= 3 * 86400
    assert await history.recent("T1", "C2") == []
    assert [d.thread_ts for d in await history.recent("T1", "C1", limit=1)] == ["1.4"]


async def test_one_entry_per_thread_keeps_the_newest(redis_client: Redis) -> None:
    history = DecisionHistory(redis_client)
    await history.add("T1", "C1", _decision("1.1", "Prompting first"))
    await history.add("T1", "C1", _decision("1.2"))
    await history.add("T1", "C1", _decision("1.1", "Not yet"))
    assert [(d.thread_ts, d.label) for d in await history.recent("T1", "C1")] == [
        ("1.1", "Not yet"),
        ("1.2", "Prompting + RAG"),
    ]


async def test_unreadable_entries_are_skipped(redis_client: Redis) -> None:
    history = DecisionHistory(redis_client)
    await history.add("T1", "C1", _decision("1.1"))
    await redis_client.lpush(KEY, "not json", '{"thread_ts": "1.9", "recommendation": "magic"}')
    assert [d.thread_ts for d in await history.recent("T1", "C1")] == ["1.1"]


async def test_wrong_type_under_the_key_reads_as_empty(redis_client: Redis) -> None:
    await redis_client.set(KEY, "oops")
    history = DecisionHistory(redis_client)
    assert await history.recent("T1", "C1") == []
    assert not await history.add("T1", "C1", _decision("1.1"))


async def test_outage_fails_reads_clearly_and_writes_softly(
    redis_client: Redis, redis_server: EmbeddedRedis
) -> None:
    history = DecisionHistory(redis_client)
    with redis_stopped(redis_server):
        assert not await history.add("T1", "C1", _decision("1.1"))
        with pytest.raises(ChecklistError, match="cannot be read right now"):
            await history.recent("T1", "C1")
