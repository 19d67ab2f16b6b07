"""The Redis session store against a real embedded redis-server (fixture from tests/support)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.checklist import engine
from bot.checklist.loader import load_checklist
from bot.checklist.state import ChecklistStore, checklist_key

CHECKLIST = load_checklist(Path(__file__).resolve().parents[2] / "knowledge" / "checklist.yaml")
IDS = ("T1", "C1", "1700000000.000100")
KEY = checklist_key(*IDS)


def test_key_names_team_channel_and_thread() -> None:
    assert KEY == "advisor:checklist:T1:C1:1700000000.000100"


def test_ttl_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ttl_days"):
        ChecklistStore(Redis(), ttl_days=0)  # never connects: the check runs first


async def test_round_trip_with_ttl(redis_client: Redis) -> None:
    store = ChecklistStore(redis_client, ttl_days=2)
    assert await store.load(*IDS) is None
    session = engine.answer(CHECKLIST, engine.start(CHECKLIST), "failure_type", "knowledge", "U1")
    assert await store.save(*IDS, session, expected_revision=None)
    assert await store.load(*IDS) == session
    assert 2 * 86400 - 5 <= await redis_client.ttl(KEY) <= 2 * 86400
    assert await store.delete(*IDS)
    assert await store.load(*IDS) is None
    assert not await store.delete(*IDS)


async def test_two_clicks_on_the_same_step_apply_once(redis_client: Redis) -> None:
    store = ChecklistStore(redis_client)
    first = engine.start(CHECKLIST)
    assert await store.save(*IDS, first, expected_revision=None)
    assert not await store.save(*IDS, first, expected_revision=None)  # already exists
    loaded = await store.load(*IDS)
    assert loaded is not None
    click_a = engine.answer(CHECKLIST, loaded, "failure_type", "knowledge", "UA")
    click_b = engine.answer(CHECKLIST, loaded, "failure_type", "behaviour", "UB")
    assert await store.save(*IDS, click_a, expected_revision=loaded.revision)
    assert not await store.save(*IDS, click_b, expected_revision=loaded.revision)
    assert await store.load(*IDS) == click_a
    assert not await store.save(*IDS, click_b, expected_revision=7)  # unknown revision


async def test_save_with_a_revision_when_nothing_is_stored_is_a_conflict(
    redis_client: Redis,
) -> None:
    store = ChecklistStore(redis_client)
    assert not await store.save(*IDS, engine.start(CHECKLIST), expected_revision=0)


@pytest.mark.parametrize(
    "tamper",
    [
        {"rev": "1", "data": "{not json"},
        {"rev": "1", "data": '{"checklist_version": "x", "revision": -3}'},
        {"rev": "1", "data": '{"checklist_version": "x", "answers": [{"question_id": 1}]}'},
        {"rev": "99", "data": '{"checklist_version": "x", "revision": 1}'},
        {"data": '{"checklist_version": "x", "revision": 1}'},
    ],
)
async def test_tampered_values_load_as_none_with_a_warning(
    redis_client: Redis, caplog: pytest.LogCaptureFixture, tamper: dict[str, str]
) -> None:
    store = ChecklistStore(redis_client)
    for field, value in tamper.items():
        await redis_client.hset(KEY, field, value)
    with caplog.at_level(logging.WARNING, logger="bot.checklist.state"):
        assert await store.load(*IDS) is None
    assert "unreadable checklist session" in caplog.text
    # The bad value is dropped so the thread can start over.
    assert await store.save(*IDS, engine.start(CHECKLIST), expected_revision=None)


async def test_a_value_of_the_wrong_type_loads_as_none(redis_client: Redis) -> None:
    store = ChecklistStore(redis_client)
    await redis_client.set(KEY, "hello")
    assert not await store.save(*IDS, engine.start(CHECKLIST), expected_revision=None)
    assert await store.load(*IDS) is None
    assert await store.save(*IDS, engine.start(CHECKLIST), expected_revision=None)
