"""build_app: the Bolt AsyncApp with every listener registered."""

from __future__ import annotations

import logging

from aiohttp import ClientSession
from slack_bolt.async_app import AsyncApp

from bot.config import SlackSettings
from bot.errors import ConfigError
from bot.ops.metrics import Metrics
from bot.slack.clients import build_web_client
from bot.slack.listeners import (
    admin,
    checklist,
    commands,
    escalation,
    feedback,
    followup,
    home,
    messages,
)
from bot.slack.services import SlackServices

logger = logging.getLogger(__name__)


def build_app(
    settings: SlackSettings,
    services: SlackServices,
    *,
    session: ClientSession | None = None,
    metrics: Metrics | None = None,
) -> AsyncApp:
    """`session` is the connection pool every Web API call uses; with `metrics`, failed Slack
    calls are counted."""
    if settings.bot_token is None or not settings.bot_token.get_secret_value():
        raise ConfigError("SLACK_BOT_TOKEN is required to run the Slack bot")
    token = settings.bot_token.get_secret_value()
    signing_secret = settings.signing_secret.get_secret_value() if settings.signing_secret else None
    if settings.app_token is None and not signing_secret:
        raise ConfigError("SLACK_SIGNING_SECRET is required in HTTP mode (no SLACK_APP_TOKEN set)")
    client = build_web_client(
        settings, token, session=session, metrics=metrics, pacer=services.pacer
    )
    app = AsyncApp(
        # The token travels in `client`; Bolt warns when both are given.
        # Socket Mode requests are not signed; Bolt skips verification for them by itself.
        signing_secret=signing_secret or "",
        client=client,
        request_verification_enabled=True,
        # Ack first, answer afterwards: answers take longer than Slack's 3-second limit.
        process_before_response=False,
        logger=logging.getLogger("bot.slack.bolt"),
    )
    for module in (messages, home, feedback, checklist, followup, commands, escalation):
        module.register(app, services)
    # /finetune-admin exists only when the composition root gave the services an AdminService.
    if services.admin is not None:
        admin.register(app, services.admin, services.pacer, services.gaps)
    return app
