"""Escalation on the real engine, wired as `advisor serve` wires it: the summary carries the
verdict and the situation facts the conversation memory holds."""

from __future__ import annotations

import dataclasses
import json

import pytest

from bot.answer import Advisor
from bot.config import load_settings
from bot.deps import Deps
from bot.slack.escalation_blocks import MARKER_REACTION
from bot.slack.wiring import assemble_services, build_escalations
from tests.support.slack_harness import deps_redis, open_harness
from tests.support.slack_requests import CHANNEL, mention, message_event

pytestmark = pytest.mark.slow

EXPERT = "U0EXPERT"


async def test_the_summary_names_the_verdict_and_the_facts(knowledge_deps: Deps) -> None:
    settings = load_settings(env_file=None, escalation={"expert_user_ids": EXPERT})
    deps = dataclasses.replace(knowledge_deps, settings=settings)
    redis = deps_redis(deps)
    escalations = build_escalations(deps, redis)
    assert escalations is not None
    assert deps.feedback is not None
    advisor = Advisor(
        deps.retriever, None, deps.memory, deps.verdicts, min_score=0.0, max_question_chars=2000
    )
    services = assemble_services(
        responder=advisor,
        redis=redis,
        feedback=deps.feedback,
        memory=deps.memory,
        escalation=escalations,
    )
    async with open_harness(services, redis) as harness:
        question = mention(
            "Marketing wants every answer in our brand voice. We have about 50 example posts."
        )
        await harness.post_event(question)
        await harness.api.wait_for("chat.stopStream")
        thread_ts = str(question["ts"])
        await harness.post_event(message_event("can a human look at this?", thread_ts=thread_ts))
        await harness.api.wait_until(
            lambda: any(
                c.params["name"] == MARKER_REACTION for c in harness.api.calls_to("reactions.add")
            )
        )
        escalation = await escalations.service.open_in("T0001", CHANNEL, thread_ts)

    assert escalation is not None
    summary = escalation.summary
    assert summary.question.startswith("Marketing wants every answer in our brand voice")
    assert summary.verdict == "Prompting first (provisional)"
    assert any(
        fact.startswith("Examples: Tens") and "50 example posts" in fact for fact in summary.facts
    )
    assert summary.guidance and "**" not in summary.guidance
    posted = json.dumps([c.params for c in harness.api.calls_to("chat.postMessage")])
    assert "Prompting first (provisional)" in posted and f"<@{EXPERT}>" in posted
