"""Pytest fixtures for the Slack harness (import them into a conftest.py that needs them).

async def test_x(harness: SlackHarness) -> None: ...               # scripted responder
async def test_y(make_harness: MakeHarness) -> None:
    harness = await make_harness(ScriptedResponder(answer="..."), with_checklist=True)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Protocol

import pytest
from redis.asyncio import Redis

from bot.config import SlackBehaviour
from bot.memory.conversation import ConversationMemory
from bot.slack.checklist_services import ChecklistRequest, ChecklistServices
from bot.slack.pacing import RatePacer
from bot.slack.services import Responder, SlackServices
from tests.support.slack_harness import SlackHarness, open_harness, scripted_services


class MakeHarness(Protocol):
    async def __call__(
        self,
        responder: Responder | None = None,
        behaviour: SlackBehaviour | None = None,
        with_checklist: bool = False,
        *,
        checklist: ChecklistServices | None = None,
        memory: ConversationMemory | None = None,
        pacer: RatePacer | None = None,
        services: SlackServices | None = None,
    ) -> SlackHarness: ...


@pytest.fixture
async def make_harness(redis_client: Redis) -> AsyncIterator[MakeHarness]:
    """Each call: a fresh app and mock Slack on the test's Redis (call twice for a restart).
    `with_checklist` records checklist requests in `harness.checklist_calls` instead of running
    one; `checklist` runs the real one; `services` replaces everything else."""
    async with AsyncExitStack() as stack:

        async def make(
            responder: Responder | None = None,
            behaviour: SlackBehaviour | None = None,
            with_checklist: bool = False,
            *,
            checklist: ChecklistServices | None = None,
            memory: ConversationMemory | None = None,
            pacer: RatePacer | None = None,
            services: SlackServices | None = None,
        ) -> SlackHarness:
            calls: list[ChecklistRequest] = []
            built = services or scripted_services(
                redis_client,
                responder,
                behaviour=behaviour,
                memory=memory,
                checklist=checklist,
                record_checklist=calls if with_checklist else None,
                pacer=pacer,
            )
            return await stack.enter_async_context(
                open_harness(built, redis_client, checklist_calls=calls)
            )

        yield make


@pytest.fixture
async def harness(make_harness: MakeHarness) -> SlackHarness:
    return await make_harness()
