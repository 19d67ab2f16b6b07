from __future__ import annotations

from redis.asyncio import Redis

from bot.memory.feedback import AnswerRecord, FeedbackStore, new_answer_id
from tests.support.scripted import CITATIONS


def _answer(answer_id: str | None = None) -> AnswerRecord:
    return AnswerRecord(
        answer_id=answer_id or new_answer_id(),
        team_id="T1",
        channel_id="C1",
        thread_ts="1.1",
        user_id="U1",
        question="q?",
        answer="a.",
        mode="llm",
        citations=CITATIONS,
        index_version="v7",
    )


async def test_answer_round_trip(redis_client: Redis) -> None:
    store = FeedbackStore(redis_client)
    record = _answer()
    await store.save_answer(record)
    assert await store.get_answer(record.answer_id) == record
    assert await store.get_answer("ffffff") is None


async def test_one_record_per_user_and_capped_recent(redis_client: Redis) -> None:
    store = FeedbackStore(redis_client, max_recent=3)
    first = _answer()
    await store.record(first, user_id="U1", rating="helpful")
    await store.record(first, user_id="U1", rating="not_helpful", reason="  too vague ")
    for user in ("U2", "U3", "U4"):
        await store.record(_answer(), user_id=user, rating="helpful")
    recent = await store.recent(10)
    assert [r.user_id for r in recent] == ["U4", "U3", "U2"]
    latest = await store.get(first.answer_id, "U1")
    assert latest is not None
    assert (latest.rating, latest.reason) == ("not_helpful", "too vague")
    assert latest.index_version == "v7"
    assert latest.citations == CITATIONS


async def test_corrupt_records_are_skipped(redis_client: Redis) -> None:
    store = FeedbackStore(redis_client)
    await store.record(_answer(), user_id="U1", rating="helpful")
    await redis_client.lpush("advisor:feedback:recent", "bogus:U9")
    await redis_client.set("advisor:feedback:item:bogus:U9", "{not json")
    assert [r.user_id for r in await store.recent(5)] == ["U1"]
    assert await store.recent(0) == []
