"""Redis stops in the middle of a conversation and comes back: answers never stop.

What happens to duplicates during the outage (documented in docs/reliability.md): dedupe needs
Redis, and without it `first_delivery` answers rather than risk never answering, so a Slack retry
of an event first seen *during* the outage is answered again. Retries of events seen before the
outage are still caught once Redis is back, because the seen-markers survive the restart.
"""

from __future__ import annotations

import json

import pytest

from bot.deps import Deps
from bot.memory.conversation import UNAVAILABLE_NOTE, conversation_key
from bot.memory.embedded_redis import EmbeddedRedis
from tests.support.redis_fixtures import redis_stopped
from tests.support.slack_api import BOT_USER_ID, TEAM_ID
from tests.support.slack_harness import SlackHarness, context_texts, statuses
from tests.support.slack_requests import CHANNEL, message_event

pytestmark = pytest.mark.slow
QUESTION = "How many labelled examples do we need before fine-tuning is worth it?"


def mention(text: str, thread_ts: str | None = None) -> dict[str, object]:
    return message_event(f"<@{BOT_USER_ID}> {text}", kind="app_mention", thread_ts=thread_ts)


async def answered(rig: SlackHarness, count: int) -> None:
    await rig.api.wait_for("chat.stopStream", count=count, within=30)


async def test_answers_continue_through_a_redis_restart(
    engine_rig: SlackHarness, knowledge_deps: Deps, redis_server: EmbeddedRedis
) -> None:
    rig = engine_rig
    assert knowledge_deps.memory is not None
    first = mention(QUESTION)
    thread = str(first["ts"])
    assert await rig.post_event(first, event_id="EvRestart1") == 200
    await answered(rig, 1)

    with redis_stopped(redis_server):
        during = mention("And what about LoRA?", thread_ts=thread)
        assert await rig.post_event(during, event_id="EvRestart2") == 200
        await answered(rig, 2)
        assert await rig.post_event(mention("Is RAG cheaper?", thread_ts=thread)) == 200
        await answered(rig, 3)
        # Dedupe is down too: a retry of an event first seen during the outage is answered again.
        assert await rig.post_event(during, event_id="EvRestart2", retry_num=1) == 200
        await answered(rig, 4)
        await rig.api.settle()

    # The outage was said once, in the first answer of the outage only.
    assert context_texts(rig.api).count(UNAVAILABLE_NOTE[:40]) == 1
    # Redis is back: a retry of an event seen before the outage is still caught...
    assert await rig.post_event(first, event_id="EvRestart1", retry_num=2) == 200
    after = mention("Which option is cheapest to run?", thread_ts=thread)
    assert await rig.post_event(after, event_id="EvRestart3") == 200
    await answered(rig, 5)
    await rig.api.settle()
    assert len(rig.api.calls_to("chat.stopStream")) == 5
    last_blocks = json.dumps(rig.api.calls_to("chat.stopStream")[-1].params.get("blocks"))
    assert UNAVAILABLE_NOTE[:40] not in last_blocks
    # ...and memory resumed: the turns before and after the outage are stored, not those during.
    history = await knowledge_deps.memory.load(conversation_key(TEAM_ID, CHANNEL, thread))
    questions = [turn.content for turn in history.turns if turn.role == "user"]
    assert questions == [QUESTION, "Which option is cheapest to run?"]
    # Every answer cleared its status line.
    assert [s for s in statuses(rig.api) if s == ""] == [""] * 5
