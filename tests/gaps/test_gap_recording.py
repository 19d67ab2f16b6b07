"""Every kind of gap recorded through the real paths: the answer use case (real engine: local
embedder, embedded index of knowledge/, real Redis), a vote through the real Bolt app with signed
requests against the mock Slack API, escalations, and verdicts left provisional."""

from __future__ import annotations

import copy
import dataclasses
import time
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.answer import Advisor
from bot.config import EscalationSettings
from bot.deps import Deps
from bot.gaps.recorder import GapRecorder
from bot.memory.gaps import ITEMS, LOG, GapLog, GapRecord, conversation_digest
from bot.models import DoneEvent, Question
from bot.slack.blocks import (
    FEEDBACK_HELPFUL,
    FEEDBACK_NOT_HELPFUL,
    FEEDBACK_REASON_BLOCK,
    FEEDBACK_REASON_INPUT,
)
from bot.slack.escalation_blocks import ESCALATE_ACTION
from bot.slack.wiring import build_slack_services
from tests.gaps.conftest import FakeClock, at
from tests.support.slack_api import TEAM_ID
from tests.support.slack_fixtures import MakeHarness
from tests.support.slack_harness import engine_services, open_harness
from tests.support.slack_requests import CHANNEL, USER, click_payload, mention, view_submission

pytestmark = pytest.mark.slow

OFF_TOPIC = "What is the best recipe for sourdough pizza in Naples?"
BRAND_VOICE = "Marketing wants every answer in our brand voice. We have about 50 example posts."
WINDOW = 24 * 3600


async def answer(advisor: Advisor, text: str, key: str | None = None) -> DoneEvent:
    done = [e async for e in advisor.respond(Question(text=text, conversation_key=key))][-1]
    assert isinstance(done, DoneEvent)
    return done


def gap_count(deps: Deps, kind: str) -> float:
    value = deps.metrics.registry.get_sample_value("advisor_gaps_total", {"kind": kind})
    return value or 0.0


def clocked_advisor(deps: Deps, clock: FakeClock) -> tuple[Advisor, GapRecorder]:
    """The real engine with a recorder on a clock the test moves (the window is a day)."""
    assert deps.gaps is not None
    recorder = GapRecorder(deps.gaps.log, pending_seconds=WINDOW, clock=clock.time)
    advisor = Advisor(
        deps.retriever,
        None,
        deps.memory,
        deps.verdicts,
        min_score=deps.settings.retrieval.min_score,
        max_question_chars=2000,
        gaps=recorder,
    )
    return advisor, recorder


async def test_a_no_match_answer_is_a_gap_with_the_index_version(
    knowledge_deps: Deps, redis_client: Redis
) -> None:
    assert knowledge_deps.gaps is not None
    before = gap_count(knowledge_deps, "no_match")
    done = await answer(knowledge_deps.advisor, f"  {OFF_TOPIC}  ")
    assert done.mode == "no_match"
    [gap] = await knowledge_deps.gaps.log.since(0)
    assert (gap.kind, gap.question) == ("no_match", OFF_TOPIC)
    assert gap.index_version == done.index_version and gap.index_version
    assert gap_count(knowledge_deps, "no_match") == before + 1
    # A covered question is not a gap.
    covered = await answer(knowledge_deps.advisor, "What is LoRA?")
    assert covered.mode != "no_match"
    assert len(await knowledge_deps.gaps.log.since(0)) == 1


async def test_a_provisional_verdict_never_completed_becomes_a_gap_after_the_window(
    knowledge_deps: Deps, redis_client: Redis
) -> None:
    clock = FakeClock(at("2026-11-02T10:00:00"))
    advisor, recorder = clocked_advisor(knowledge_deps, clock)
    first = await answer(advisor, BRAND_VOICE, "advisor:conv:T1:C1:1.1")
    assert first.assessment is not None and first.assessment.confidence == "provisional"
    assert "eval_set" in first.assessment.missing
    # A follow-up that reads no situation supplies nothing: the verdict keeps waiting.
    clock.advance(hours=2)
    await answer(advisor, "What is LoRA?", "advisor:conv:T1:C1:1.1")
    assert await recorder.log.count_pending() == 1
    clock.advance(hours=21)
    assert await recorder.promote_due() == 0  # 23 hours: still inside the window
    assert await recorder.log.since(0) == []
    clock.advance(hours=1)
    assert await recorder.promote_due() == 1
    assert await recorder.promote_due() == 0  # promoted once, never twice
    [gap] = await recorder.log.since(0)
    assert (gap.kind, gap.question, gap.outcome) == ("provisional", BRAND_VOICE, "prompting_first")
    assert gap.missing == first.assessment.missing
    assert gap.index_version == first.index_version
    assert await recorder.log.count_pending() == 0


async def test_a_verdict_whose_facts_are_supplied_is_no_gap(
    knowledge_deps: Deps, redis_client: Redis
) -> None:
    clock = FakeClock(at("2026-11-02T10:00:00"))
    advisor, recorder = clocked_advisor(knowledge_deps, clock)
    key = "advisor:conv:T1:C1:2.2"
    first = await answer(advisor, BRAND_VOICE, key)
    assert first.assessment is not None and "eval_set" in first.assessment.missing
    clock.advance(hours=3)
    second = await answer(advisor, "we also have an eval set now", key)
    assert second.assessment is not None
    waiting = await recorder.log.pending(conversation_digest(key))
    if second.assessment.confidence == "decided":
        assert waiting is None
    else:
        # Still provisional on other questions: it waits under the first message, afresh.
        assert waiting is not None
        assert waiting.question == BRAND_VOICE
        assert "eval_set" not in waiting.missing
        assert waiting.missing == second.assessment.missing
        assert waiting.created_at == clock.time()
    clock.advance(hours=23)
    assert await recorder.promote_due() == 0  # the first verdict was settled by the follow-up


async def test_a_one_shot_provisional_verdict_is_a_gap_at_once(
    knowledge_deps: Deps, redis_client: Redis
) -> None:
    clock = FakeClock(at("2026-11-02T10:00:00"))
    advisor, recorder = clocked_advisor(knowledge_deps, clock)
    await answer(advisor, BRAND_VOICE)  # no conversation: nothing can follow it up
    [gap] = await recorder.log.since(0)
    assert gap.kind == "provisional" and gap.missing
    assert await recorder.log.count_pending() == 0


async def test_not_helpful_votes_through_slack_are_gaps_with_their_reason(
    knowledge_deps: Deps, redis_client: Redis
) -> None:
    """The production wiring: the engine's feedback store tells the deps' gap recorder."""
    assert knowledge_deps.redis is not None and knowledge_deps.gaps is not None
    services = engine_services(knowledge_deps)
    async with open_harness(services, knowledge_deps.redis) as harness:
        event = mention("When should strict JSON output be handled by prompting?")
        await harness.post_event(event)
        stop = (await harness.api.wait_for("chat.stopStream", within=30))[0]
        buttons = {
            element["action_id"]: element
            for block in stop.params["blocks"]
            if block["type"] == "actions"
            for element in block["elements"]
        }
        not_helpful = buttons[FEEDBACK_NOT_HELPFUL]
        await harness.post_interaction(_click(not_helpful, str(event["ts"])))
        view = (await harness.api.wait_for("views.open"))[0].params["view"]
        [gap] = await knowledge_deps.gaps.log.since(0)
        assert gap.kind == "not_helpful" and gap.reason is None
        assert gap.question == "When should strict JSON output be handled by prompting?"
        assert gap.index_version == await knowledge_deps.index_version()
        reason = "Nothing on <!channel> costs, see https://x.io"
        await harness.post_interaction(
            view_submission(
                {**view, "id": "V0001"}, FEEDBACK_REASON_BLOCK, FEEDBACK_REASON_INPUT, reason
            )
        )
        await harness.api.settle()
        [gap] = await knowledge_deps.gaps.log.since(0)  # the same gap, now with its reason
        assert gap.reason == "Nothing on <!channel> costs, see https://x.io"
        # No Slack ids are kept with the gap.
        raw = str(await redis_client.hgetall(ITEMS))
        assert USER not in raw and CHANNEL not in raw and TEAM_ID not in raw
        # Changing the vote to helpful takes the gap back.
        await harness.post_interaction(_click(buttons[FEEDBACK_HELPFUL], str(event["ts"])))
        await harness.api.wait_for("chat.postEphemeral")
        assert await knowledge_deps.gaps.log.since(0) == []


def _click(button: dict[str, Any], thread_ts: str) -> dict[str, Any]:
    return click_payload(
        button["action_id"], button["value"], message_ts="1700000000.000001", thread_ts=thread_ts
    )


async def test_escalations_are_recorded_once_each(redis_client: Redis) -> None:
    recorder = GapRecorder(GapLog(redis_client))
    await recorder.record_escalation("E1", "Can a human check our GPU plan?", index_version="v1")
    await recorder.record_escalation("E1", "Can a human check our GPU plan?", reason="unclear")
    await recorder.record_escalation("E2", "Is our licence OK?")
    gaps = await recorder.log.since(0)
    assert [(g.kind, g.question, g.reason) for g in gaps] == [
        ("escalation", "Can a human check our GPU plan?", "unclear"),
        ("escalation", "Is our licence OK?", None),
    ]


async def test_the_log_is_bounded_and_expires(redis_client: Redis) -> None:
    log = GapLog(redis_client, ttl_seconds=3600, max_records=10)
    now = time.time()
    for n in range(25):
        await log.add(GapRecord(gap_id=f"g{n}", kind="no_match", question=f"q{n}", created_at=now))
    await log.add(GapRecord(gap_id="old", kind="no_match", question="old", created_at=now - 7200))
    kept = await log.since(0)
    assert len(kept) == 10 and "old" not in {g.gap_id for g in kept}
    assert await redis_client.hlen(ITEMS) == 10 and await redis_client.zcard(LOG) == 10
    assert 0 < await redis_client.ttl(ITEMS) <= 3600
    assert 0 < await redis_client.ttl(LOG) <= 3600


async def test_recording_never_breaks_an_answer_when_redis_is_gone(
    knowledge_deps: Deps,
) -> None:
    broken = Redis.from_url("unix:///nonexistent/redis.sock")
    recorder = GapRecorder(GapLog(broken))
    advisor = Advisor(
        knowledge_deps.retriever,
        None,
        None,
        knowledge_deps.verdicts,
        min_score=knowledge_deps.settings.retrieval.min_score,
        max_question_chars=2000,
        gaps=recorder,
    )
    done = await answer(advisor, OFF_TOPIC)
    assert done.mode == "no_match"
    await broken.aclose()


async def test_an_escalation_through_the_production_wiring_is_a_gap(
    knowledge_deps: Deps, make_harness: MakeHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`build_slack_services` hooks escalations into the gap log: press "Ask an expert" under a
    real answer and the question is listed by `advisor gaps` as an escalation."""
    assert knowledge_deps.gaps is not None
    monkeypatch.setenv("ADVISOR_EXPERT_USER_IDS", "U0EXPERT")
    settings = copy.copy(knowledge_deps.settings)
    settings.escalation = EscalationSettings()
    deps = dataclasses.replace(knowledge_deps, settings=settings)
    harness = await make_harness(services=build_slack_services(deps))
    question = "Should we fine-tune for our brand voice? We have about 50 example posts."
    event = mention(question)
    await harness.post_event(event)
    [stop] = await harness.api.wait_for("chat.stopStream")
    actions = next(b for b in stop.params["blocks"] if b["type"] == "actions")
    [button] = [e for e in actions["elements"] if e["action_id"] == ESCALATE_ACTION]
    thread_ts = str(event["ts"])
    payload = click_payload(
        ESCALATE_ACTION, button["value"], message_ts=thread_ts, thread_ts=thread_ts, user=USER
    )
    assert await harness.post_interaction(payload) == 200
    await harness.api.wait_for("reactions.add")
    await harness.api.settle(quiet=0.1)
    recorded = [g for g in await knowledge_deps.gaps.log.since(0) if g.kind == "escalation"]
    assert [g.question for g in recorded] == [question]
    assert recorded[0].index_version is not None
