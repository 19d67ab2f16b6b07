"""Fixtures for the reliability tests: a Slack rig on the real engine (knowledge/ indexed once per
session, extractive answers, the session's real Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.deps import Deps
from bot.slack.wiring import build_slack_services
from tests.support.slack_fixtures import harness, make_harness  # noqa: F401 - fixtures
from tests.support.slack_harness import SlackHarness, deps_redis, open_harness


@pytest.fixture
async def engine_rig(knowledge_deps: Deps) -> AsyncIterator[SlackHarness]:
    async with open_harness(
        build_slack_services(knowledge_deps), deps_redis(knowledge_deps)
    ) as rig:
        yield rig
