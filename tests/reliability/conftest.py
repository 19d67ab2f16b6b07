"""Fixtures for the reliability tests: a Slack rig on the real engine (knowledge/ indexed once per
session, extractive answers, the session's real Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.deps import Deps
from bot.slack.wiring import build_slack_services
from tests.reliability.rig import Rig, open_rig


@pytest.fixture
async def engine_rig(knowledge_deps: Deps) -> AsyncIterator[Rig]:
    async with open_rig(build_slack_services(knowledge_deps)) as rig:
        yield rig
