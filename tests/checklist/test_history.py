"""The decision records against a real embedded redis-server: one per thread, indexed per
channel and across channels, updated only for the decision they name."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from bot.checklist.definition import ChecklistError
from bot.checklist.history import (
    ALL_DECISIONS_KEY,
    Decision,
    DecisionHistory,
    FollowUp,
    channel_index_key,
    decision_key,
)
from bot.memory.embedded_redis import EmbeddedRedis
from tests.support.redis_fixtures import redis_stopped

INDEX = channel_index_key("T1", "C1")


def _decision(
    thread_ts: str, label: str = "Prompting + RAG", channel: str = "C1", at: float = 1000.0
) -> Decision:
    return Decision(
        team_id="T1",
        channel_id=channel,
        thread_ts=thread_ts,
        recommendation="prompting_rag",
        label=label,
        checklist_version="2025.1",
        user_ids=("U1", "U2"),
        started_by="U1",
        permalink="https://example.slack.com/archives/C1/p1",
        decided_at=at,
    )


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        DecisionHistory(Redis(), ttl_days=0)  # never connects: the check runs first
    with pytest.raises(ValueError, match="positive"):
        DecisionHistory(Redis(), max_entries=0)


async def test_newest_first_capped_with_ttl(redis_client: Redis) -> None:
    history = DecisionHistory(redis_client, ttl_days=3, max_entries=3, max_all=4)
    for n in range(5):
        assert await history.add(_decision(f"1.{n}", at=1000.0 + n))
    assert await history.add(_decision("2.0", channel="C2", at=2000.0))
    recent = await history.recent("T1", "C1")
    assert [d.thread_ts for d in recent] == ["1.4", "1.3", "1.2"]
    assert await redis_client.zcard(INDEX) == 3
    for key in (INDEX, decision_key("T1", "C1", "1.4")):
        assert 3 * 86400 - 5 <= await redis_client.ttl(key) <= 3 * 86400
    assert [d.thread_ts for d in await history.recent("T1", "C1", limit=1)] == ["1.4"]
    # Across channels, capped on its own.
    assert [(d.channel_id, d.thread_ts) for d in await history.everything()] == [
        ("C2", "2.0"),
        ("C1", "1.4"),
        ("C1", "1.3"),
        ("C1", "1.2"),
    ]
    assert await history.recent("T1", "C3") == []


async def test_one_record_per_thread_keeps_the_newest(redis_client: Redis) -> None:
    history = DecisionHistory(redis_client)
    await history.add(_decision("1.1", "Prompting first", at=1.0))
    await history.add(_decision("1.2", at=2.0))
    await history.add(_decision("1.1", "Not yet", at=3.0))
    assert [(d.thread_ts, d.label) for d in await history.recent("T1", "C1")] == [
        ("1.1", "Not yet"),
        ("1.2", "Prompting + RAG"),
    ]
    got = await history.get("T1", "C1", "1.1")
    assert got is not None and got.label == "Not yet"
    assert await history.get("T1", "C1", "9.9") is None


async def test_update_applies_only_to_the_decision_it_names(redis_client: Redis) -> None:
    history = DecisionHistory(redis_client)
    first = _decision("1.1")
    await history.add(first)
    followup = FollowUp(scheduled_message_id="Q1", channel_id="C1", post_at=5, user_id="U1")
    changed = await history.update(
        "T1", "C1", "1.1", first.id, lambda d: d.model_copy(update={"followup": followup})
    )
    assert changed is not None
    before, after = changed
    assert (before.followup, after.followup) == (None, followup)
    stored = await history.get("T1", "C1", "1.1")
    assert stored is not None and stored.followup == followup
    # The thread decides again: an update naming the first decision finds nothing.
    second = _decision("1.1", "Not yet")
    await history.add(second)
    assert await history.update("T1", "C1", "1.1", first.id, lambda d: d) is None
    # The TTL survives an update.
    assert await redis_client.ttl(decision_key("T1", "C1", "1.1")) > 0


async def test_concurrent_updates_are_both_applied(redis_client: Redis) -> None:
    history = DecisionHistory(redis_client)
    decision = _decision("1.1")
    await history.add(decision)

    def add_user(user: str) -> Callable[[Decision], Decision]:
        return lambda d: d.model_copy(update={"user_ids": (*d.user_ids, user)})

    updates = [add_user(f"U{n}") for n in range(3, 9)]
    await asyncio.gather(*(history.update("T1", "C1", "1.1", decision.id, u) for u in updates))
    stored = await history.get("T1", "C1", "1.1")
    assert stored is not None
    assert sorted(stored.user_ids) == sorted(["U1", "U2", *(f"U{n}" for n in range(3, 9))])


async def test_unreadable_records_are_skipped(redis_client: Redis) -> None:
    history = DecisionHistory(redis_client)
    await history.add(_decision("1.1"))
    bad = decision_key("T1", "C1", "1.9")
    await redis_client.set(bad, '{"thread_ts": "1.9", "recommendation": "magic"}')
    await redis_client.zadd(INDEX, {bad: 5000, decision_key("T1", "C1", "gone"): 6000})
    assert [d.thread_ts for d in await history.recent("T1", "C1")] == ["1.1"]
    assert await history.get("T1", "C1", "1.9") is None


async def test_wrong_type_under_the_index_reads_as_empty(redis_client: Redis) -> None:
    await redis_client.set(ALL_DECISIONS_KEY, "oops")
    history = DecisionHistory(redis_client)
    assert await history.everything() == []
    assert not await history.add(_decision("1.1"))


async def test_outage_fails_reads_clearly_and_writes_softly(
    redis_client: Redis, redis_server: EmbeddedRedis
) -> None:
    history = DecisionHistory(redis_client)
    with redis_stopped(redis_server):
        assert not await history.add(_decision("1.1"))
        with pytest.raises(ChecklistError, match="cannot be read right now"):
            await history.recent("T1", "C1")
        with pytest.raises(ChecklistError, match="could not be updated"):
            await history.update("T1", "C1", "1.1", "0" * 16, lambda d: d)
