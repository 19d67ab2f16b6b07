"""`/finetune-admin gaps` through the real Bolt app (signed requests, mock Slack API) on the
real engine: admins get the grouped report privately; others are refused; bad --since is named."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.admin.settings import AdminSettings
from bot.admin.wiring import build_admin
from bot.deps import Deps
from bot.gaps.wiring import build_gap_service
from bot.memory.gaps import GapRecord
from bot.slack.wiring import assemble_services
from tests.support.slack_harness import SlackHarness, open_harness
from tests.support.slack_requests import command_fields

pytestmark = pytest.mark.slow
ADMIN = "UADMIN1"


@pytest.fixture
async def admin_slack(knowledge_deps: Deps, redis_client: Redis) -> AsyncIterator[SlackHarness]:
    assert knowledge_deps.redis is not None and knowledge_deps.feedback is not None
    services = assemble_services(
        responder=knowledge_deps.advisor,
        redis=knowledge_deps.redis,
        feedback=knowledge_deps.feedback,
        admin=build_admin(knowledge_deps, AdminSettings(admin_user_ids=ADMIN)),
        gaps=build_gap_service(knowledge_deps),
    )
    async with open_harness(services, knowledge_deps.redis) as harness:
        yield harness


async def _command(harness: SlackHarness, text: str, user: str = ADMIN) -> str:
    fields = command_fields(
        "/finetune-admin", text, user=user, response_url=f"{harness.api.url}response"
    )
    status, body = await harness.post_command(fields)
    assert status == 200
    return body


async def test_admins_get_the_grouped_report_privately(
    admin_slack: SlackHarness, knowledge_deps: Deps
) -> None:
    assert knowledge_deps.gaps is not None
    now = time.time()
    for n, question in enumerate(
        (
            "How many GPUs do we need to fine-tune a 70B model on-prem?",
            "what graphics cards should we buy for training in our own data centre",
            "Who is catering the offsite lunch? <@U999> @here",
        )
    ):
        await knowledge_deps.gaps.log.add(
            GapRecord(gap_id=f"g{n}", kind="no_match", question=question, created_at=now - n)
        )
    old = GapRecord(gap_id="old", kind="no_match", question="An old one", created_at=now - 9e5)
    await knowledge_deps.gaps.log.add(old)
    assert await _command(admin_slack, "gaps --since 7d") == ""
    [response] = await admin_slack.api.wait_for("response", within=30)
    assert response.params["response_type"] == "ephemeral"
    text = str(response.params["text"])
    assert text.startswith("3 gaps since")
    assert "2 × " in text and "1 × " in text
    assert "An old one" not in text  # older than seven days
    assert "closest document:" in text
    # Users' words ping no one: mentions and broadcasts are made inert (the name stays).
    assert "<@U999>" not in text and "@\u200dU999" in text
    assert "@here" not in text and "@\u200dhere" in text
    assert admin_slack.api.calls_to("chat.postMessage") == []  # nothing in the channel
    # A longer period includes the old one.
    await _command(admin_slack, "gaps --since 30d")
    responses = await admin_slack.api.wait_for("response", count=2, within=30)
    assert "An old one" in str(responses[1].params["text"])


async def test_bad_since_is_named_and_others_are_refused(admin_slack: SlackHarness) -> None:
    body = await _command(admin_slack, "gaps --since soon")
    assert "--since 'soon' is not understood" in body and "7d" in body
    body = await _command(admin_slack, "gaps --since 7d extra")
    assert "Usage" in body
    body = await _command(admin_slack, "gaps", user="UINTRUDER")
    assert "only advisor admins" in body
    assert "gaps [--since 7d]" in await _command(admin_slack, "help")
    await admin_slack.api.settle(quiet=0.1)
    assert admin_slack.api.calls_to("response") == []
