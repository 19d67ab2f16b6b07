"""serve: Socket Mode when SLACK_APP_TOKEN is set, otherwise an aiohttp server for HTTP mode.

Operations endpoints: HTTP mode serves /healthz, /readyz and /metrics next to /slack/events; Socket
Mode has no web server of its own, so they run on the side port `health_port` (0: none).
/readyz and /metrics need the services' `admin` (an AdminService, which holds the health checks
and the metrics registry); without it only /healthz is served.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

from bot.config import SlackSettings
from bot.ops.health import HealthChecks
from bot.ops.http import HEALTH_PATH, add_ops_routes, ops_server, start_site
from bot.ops.metrics import Metrics
from bot.slack.app import build_app
from bot.slack.clients import build_web_client
from bot.slack.metered import MeteredResponder, count_slack_errors
from bot.slack.services import SlackServices

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
__all__ = ["EVENTS_PATH", "HEALTH_PATH", "build_http_app", "prepare_app", "serve"]


def build_http_app(
    app: AsyncApp,
    health: HealthChecks | None = None,
    metrics: Metrics | None = None,
    *,
    signing_secret: str | None = None,
) -> web.Application:
    """POST /slack/events (events, commands, interactivity), GET /healthz, and with `health` and
    `metrics` also GET /readyz and /metrics.

    With `signing_secret` the signature is checked before Bolt parses the body, so a forged or
    replayed request is a 401 however malformed it is. Bolt checks it again afterwards.
    """
    verifier = SignatureVerifier(signing_secret) if signing_secret else None

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        if verifier is not None and not _signed(verifier, body, request):
            return web.Response(status=401, text="invalid signature")
        if not well_formed(body, request.content_type):
            return web.Response(status=400, text="bad request")
        try:
            bolt_response = await app.async_dispatch(await to_bolt_request(request))
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            # Bolt parses the body before it verifies the signature or runs any listener, and
            # raises on bodies no Slack request has (invalid JSON, a bare list...). That is the
            # sender's fault: a 400, never a 500 with a stack trace.
            logger.warning(
                "rejected an unparseable request to %s: %s", EVENTS_PATH, type(exc).__name__
            )
            return web.Response(status=400, text="bad request")
        return await to_aiohttp_response(bolt_response)

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, events)
    add_ops_routes(web_app, health, metrics)
    return web_app


def well_formed(body: bytes, content_type: str) -> bool:
    """Whether the body has the shape of a Slack request: a JSON object (events; an `event`, if
    any, is an object) or a form whose `payload`, if any, is a JSON object. Bolt's middleware
    assumes this shape and answers 500 when it is missing."""
    try:
        if content_type == "application/x-www-form-urlencoded":
            fields = parse_qs(body.decode("utf-8"), strict_parsing=False)
            if "payload" not in fields:
                return True
            return isinstance(json.loads(fields["payload"][0]), dict)
        parsed = json.loads(body) if body.strip() else {}
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(parsed, dict) and isinstance(parsed.get("event", {}), dict)


def _signed(verifier: SignatureVerifier, body: bytes, request: web.Request) -> bool:
    try:
        return bool(verifier.is_valid_request(body, dict(request.headers)))
    except ValueError:  # a timestamp that is not a number
        return False


def prepare_app(
    settings: SlackSettings, services: SlackServices
) -> tuple[AsyncApp, HealthChecks | None, Metrics | None]:
    """The Bolt app, instrumented when the services carry an AdminService (its metrics)."""
    admin = services.admin
    health = admin.health if admin is not None else None
    metrics = admin.metrics if admin is not None else None
    if metrics is not None and not isinstance(services.responder, MeteredResponder):
        services.responder = MeteredResponder(services.responder, metrics)
    app = build_app(settings, services)
    if metrics is not None:
        count_slack_errors(app.client, metrics)
    return app, health, metrics


async def serve(settings: SlackSettings, services: SlackServices, *, health_port: int = 0) -> None:
    """Run until cancelled, then close connections cleanly."""
    app, health, metrics = prepare_app(settings, services)
    if settings.app_token is not None and settings.app_token.get_secret_value():
        async with ops_server(settings.host, health_port, health, metrics):
            await _serve_socket_mode(app, settings)
    else:
        secret = settings.signing_secret.get_secret_value() if settings.signing_secret else None
        await _serve_http(build_http_app(app, health, metrics, signing_secret=secret), settings)


async def _serve_socket_mode(app: AsyncApp, settings: SlackSettings) -> None:
    assert settings.app_token is not None
    app_token = settings.app_token.get_secret_value()
    handler = AsyncSocketModeHandler(
        app, app_token, web_client=build_web_client(settings, app_token)
    )
    await handler.connect_async()  # type: ignore[no-untyped-call]
    logger.info("Connected to Slack in Socket Mode")
    try:
        await asyncio.Event().wait()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
        logger.info("Socket Mode connection closed")


async def _serve_http(web_app: web.Application, settings: SlackSettings) -> None:
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await start_site(runner, settings.host, settings.port, "ADVISOR_PORT")
    logger.info("Listening for Slack on http://%s:%d%s", settings.host, settings.port, EVENTS_PATH)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        logger.info("HTTP server stopped")
