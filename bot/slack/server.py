"""serve: Socket Mode when SLACK_APP_TOKEN is set, otherwise an aiohttp server for HTTP mode.

Operations endpoints: HTTP mode serves /healthz, /readyz and /metrics next to /slack/events; Socket
Mode has no web server of its own, so they run on the side port `health_port` (0: none).
/readyz and /metrics need the services' `admin` (an AdminService, which holds the health checks
and the metrics registry); without it only /healthz is served.

Acks: an Events API delivery is acknowledged as soon as its signature and shape are checked, and
Bolt handles it after the response is on its way. Bolt acks every event with an empty 200
whatever its listeners do, so nothing is lost, and the ack no longer waits behind Bolt's
middleware or behind answers queued on the event loop. Slash commands and button clicks, whose
acks can carry a reply, go through Bolt before the response as before.

Shutdown: when `stop` is set, Slack requests get 503 (Slack retries them, elsewhere or later) and
/readyz says 503; answers in flight get `grace_seconds` to finish, then are cancelled visibly;
then the server and the Web API connection pool close.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Literal
from urllib.parse import parse_qs

from aiohttp import ClientSession, ClientTimeout, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.config import SlackSettings
from bot.ops.health import HealthChecks
from bot.ops.http import HEALTH_PATH, READY_PATH, add_ops_routes, ops_server, start_site
from bot.ops.metrics import Metrics
from bot.slack.app import build_app
from bot.slack.clients import build_web_client
from bot.slack.digest import digest_running
from bot.slack.inflight import InFlight
from bot.slack.services import SlackServices

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# slack-sdk's own default for one Web API call.
WEB_API_TIMEOUT_SECONDS = 30
# Of the shutdown grace period, what is kept for closing the server, Redis and the index.
CLOSE_RESERVE_SECONDS = 1.0
__all__ = ["EVENTS_PATH", "HEALTH_PATH", "build_http_app", "prepare_app", "serve"]

Shape = Literal["event", "other", "malformed"]
# The only bodies Slack sends: events as JSON, commands and interactivity as a form.
SLACK_CONTENT_TYPES = frozenset({"application/json", "application/x-www-form-urlencoded"})


def build_http_app(
    app: AsyncApp,
    health: HealthChecks | None = None,
    metrics: Metrics | None = None,
    *,
    signing_secret: str | None = None,
    inflight: InFlight | None = None,
) -> web.Application:
    """POST /slack/events (events, commands, interactivity), GET /healthz, and with `health` and
    `metrics` also GET /readyz and /metrics.

    With `signing_secret` the signature is checked before Bolt parses the body, so a forged or
    replayed request is a 401 however malformed it is; only then is an event acked early (Bolt
    checks the signature again either way). `inflight` tracks early-acked events until Bolt
    has handed them to their listeners, and says when the server is draining.
    """
    verifier = SignatureVerifier(signing_secret) if signing_secret else None
    tracker = inflight or InFlight()

    async def events(request: web.Request) -> web.Response:
        if tracker.draining:
            return web.Response(status=503, text="shutting down")
        body = await request.read()
        if verifier is not None and not _signed(verifier, body, request):
            return web.Response(status=401, text="invalid signature")
        if request.content_type not in SLACK_CONTENT_TYPES:
            # Refused before any parsing: Bolt would otherwise read a text/plain body as JSON.
            return web.Response(status=415, text="unsupported content type")
        shape = request_shape(body, request.content_type)
        if shape == "malformed":
            return web.Response(status=400, text="bad request")
        if shape == "event" and verifier is not None:
            bolt_request = await to_bolt_request(request)
            tracker.add(asyncio.create_task(_dispatch_event(app, bolt_request)))
            return web.Response(status=200)
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

    @web.middleware
    async def not_ready_while_draining(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if tracker.draining and request.path == READY_PATH:
            return web.json_response({"status": "shutting down"}, status=503)
        return await handler(request)

    web_app = web.Application(middlewares=[not_ready_while_draining])
    web_app.router.add_post(EVENTS_PATH, events)
    add_ops_routes(web_app, health, metrics)
    return web_app


async def _dispatch_event(app: AsyncApp, request: AsyncBoltRequest) -> None:
    try:
        await app.async_dispatch(request)
    except Exception:
        logger.exception("Bolt could not handle an acknowledged event")


def request_shape(body: bytes, content_type: str) -> Shape:
    """Whether the body has the shape of a Slack request: a JSON object (events; an `event`, if
    any, is an object) or a form whose `payload`, if any, is a JSON object. Bolt's middleware
    assumes this shape and answers 500 when it is missing. "event": an Events API delivery."""
    try:
        if content_type == "application/x-www-form-urlencoded":
            fields = parse_qs(body.decode("utf-8"), strict_parsing=False)
            if "payload" not in fields:
                return "other"
            return "other" if isinstance(json.loads(fields["payload"][0]), dict) else "malformed"
        parsed = json.loads(body) if body.strip() else {}
    except (UnicodeDecodeError, ValueError):
        return "malformed"
    if not isinstance(parsed, dict) or not isinstance(parsed.get("event", {}), dict):
        return "malformed"
    return "event" if parsed.get("type") == "event_callback" and "event" in parsed else "other"


def well_formed(body: bytes, content_type: str) -> bool:
    return request_shape(body, content_type) != "malformed"


def _signed(verifier: SignatureVerifier, body: bytes, request: web.Request) -> bool:
    try:
        return bool(verifier.is_valid_request(body, dict(request.headers)))
    except ValueError:  # a timestamp that is not a number
        return False


def open_session() -> ClientSession:
    """The Web API connection pool: connections are reused instead of opened for every call."""
    return ClientSession(timeout=ClientTimeout(total=WEB_API_TIMEOUT_SECONDS))


def prepare_app(
    settings: SlackSettings, services: SlackServices, session: ClientSession | None = None
) -> tuple[AsyncApp, HealthChecks | None, Metrics | None]:
    """The Bolt app, instrumented when the services carry an AdminService (its metrics)."""
    admin = services.admin
    health = admin.health if admin is not None else None
    metrics = admin.metrics if admin is not None else None
    app = build_app(settings, services, session=session, metrics=metrics)
    return app, health, metrics


async def serve(
    settings: SlackSettings,
    services: SlackServices,
    *,
    health_port: int = 0,
    stop: asyncio.Event | None = None,
    grace_seconds: float = 10.0,
) -> None:
    """Run until `stop` is set (or the task is cancelled), then drain and close cleanly."""
    stop = stop or asyncio.Event()
    session = open_session()
    try:
        app, health, metrics = prepare_app(settings, services, session)
        # The weekly gaps digest runs beside the bot and stops with it.
        async with digest_running(services.digest, app.client):
            if settings.app_token is not None and settings.app_token.get_secret_value():
                async with ops_server(settings.host, health_port, health, metrics):
                    await _serve_socket_mode(app, settings, services, stop, grace_seconds, session)
            else:
                secret = (
                    settings.signing_secret.get_secret_value() if settings.signing_secret else None
                )
                web_app = build_http_app(
                    app, health, metrics, signing_secret=secret, inflight=services.inflight
                )
                await _serve_http(web_app, settings, services, stop, grace_seconds)
    finally:
        await session.close()


async def _drain(services: SlackServices, grace_seconds: float) -> None:
    budget = max(0.0, grace_seconds - CLOSE_RESERVE_SECONDS)
    finished, cancelled = await services.inflight.drain(budget)
    logger.info("Drained: %d answers finished, %d cancelled", finished, cancelled)


async def _serve_socket_mode(
    app: AsyncApp,
    settings: SlackSettings,
    services: SlackServices,
    stop: asyncio.Event,
    grace_seconds: float,
    session: ClientSession,
) -> None:
    assert settings.app_token is not None
    app_token = settings.app_token.get_secret_value()
    handler = AsyncSocketModeHandler(
        app, app_token, web_client=build_web_client(settings, app_token, session=session)
    )
    await handler.connect_async()  # type: ignore[no-untyped-call]
    logger.info("Connected to Slack in Socket Mode")
    closed = False
    try:
        await stop.wait()
        # Closing the socket first: Slack then sends new events to other connections.
        await handler.close_async()  # type: ignore[no-untyped-call]
        closed = True
        await _drain(services, grace_seconds)
    finally:
        if not closed:
            await handler.close_async()  # type: ignore[no-untyped-call]
        logger.info("Socket Mode connection closed")


async def _serve_http(
    web_app: web.Application,
    settings: SlackSettings,
    services: SlackServices,
    stop: asyncio.Event,
    grace_seconds: float,
) -> None:
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await start_site(runner, settings.host, settings.port, "ADVISOR_PORT")
    logger.info("Listening for Slack on http://%s:%d%s", settings.host, settings.port, EVENTS_PATH)
    try:
        await stop.wait()
        await _drain(services, grace_seconds)
    finally:
        await runner.cleanup()
        logger.info("HTTP server stopped")
