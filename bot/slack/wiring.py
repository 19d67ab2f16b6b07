"""Builds the Slack layer's services from `Deps`. Kept apart from deps.py so that commands which
never talk to Slack do not import it."""

from __future__ import annotations

from bot.deps import Deps
from bot.errors import ConfigError
from bot.slack.services import SlackServices


def build_slack_services(deps: Deps) -> SlackServices:
    if deps.redis is None or deps.feedback is None:
        raise ConfigError("The Slack bot needs Redis (REDIS_URL, or the embedded default).")
    return SlackServices(
        responder=deps.advisor,
        redis=deps.redis,
        feedback=deps.feedback,
        behaviour=deps.settings.slack_behaviour,
    )
