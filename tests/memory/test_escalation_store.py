"""Escalation records in real Redis: one open per thread, one resolution, bounded, expiring."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from bot.escalation.models import Escalation, EscalationSummary, new_escalation_id
from bot.memory.escalations import EscalationStore, open_key, record_key


def _escalation(thread_ts: str = "1700000000.000001") -> Escalation:
    return Escalation(
        escalation_id=new_escalation_id(),
        team_id="T1",
        channel_id="C1",
        thread_ts=thread_ts,
        requested_by="U1",
        asker_id="U1",
        source="message",
        summary=EscalationSummary(question="Should we fine-tune?"),
    )


async def test_one_open_escalation_per_thread_even_when_created_at_once(
    redis_client: Redis,
) -> None:
    store = EscalationStore(redis_client, ttl_seconds=600)
    first, second = _escalation(), _escalation()
    created = await asyncio.gather(store.create(first), store.create(second))
    assert sorted(created) == [False, True]
    winner = first if created[0] else second
    loser = second if created[0] else first
    assert (await store.open_in("T1", "C1", first.thread_ts)) == winner
    assert await store.get(loser.escalation_id) is None  # the loser leaves nothing behind
    assert [e.escalation_id for e in await store.recent()] == [winner.escalation_id]


async def test_every_key_expires(redis_client: Redis) -> None:
    store = EscalationStore(redis_client, ttl_seconds=600)
    escalation = _escalation()
    await store.create(escalation)
    for key in (record_key(escalation.escalation_id), open_key("T1", "C1", escalation.thread_ts)):
        assert 0 < await redis_client.ttl(key) <= 600


async def test_a_resolution_is_claimed_once_and_frees_the_thread(redis_client: Redis) -> None:
    store = EscalationStore(redis_client, ttl_seconds=600)
    escalation = _escalation()
    await store.create(escalation)
    assert await store.is_open("T1", "C1", escalation.thread_ts)
    assert [await store.claim(escalation.escalation_id) for _ in range(2)] == [True, False]
    await store.close(escalation.model_copy(update={"status": "resolved"}))
    assert not await store.is_open("T1", "C1", escalation.thread_ts)
    stored = await store.get(escalation.escalation_id)
    assert stored is not None and stored.status == "resolved"


async def test_the_recent_list_is_capped(redis_client: Redis) -> None:
    store = EscalationStore(redis_client, ttl_seconds=600, max_recent=3)
    for n in range(5):
        await store.create(_escalation(thread_ts=f"1700000000.00000{n}"))
    assert await redis_client.llen("advisor:escalation:recent") == 3
    assert len(await store.recent(10)) == 3


async def test_a_withdrawn_escalation_lets_the_thread_try_again(redis_client: Redis) -> None:
    store = EscalationStore(redis_client, ttl_seconds=600)
    escalation = _escalation()
    await store.create(escalation)
    await store.withdraw(escalation)
    assert await store.open_in("T1", "C1", escalation.thread_ts) is None
    assert await store.create(_escalation())
