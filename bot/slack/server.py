"""serve: Socket Mode when SLACK_APP_TOKEN is set, otherwise an aiohttp server for HTTP mode."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from bot.config import SlackSettings
from bot.slack.app import build_app
from bot.slack.clients import build_web_client
from bot.slack.services import SlackServices

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def build_http_app(app: AsyncApp) -> web.Application:
    """POST /slack/events (events, commands, interactivity) and GET /healthz."""

    async def events(request: web.Request) -> web.Response:
        bolt_response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, events)
    web_app.router.add_get(HEALTH_PATH, health)
    return web_app


async def serve(settings: SlackSettings, services: SlackServices) -> None:
    """Run until cancelled, then close connections cleanly."""
    app = build_app(settings, services)
    if settings.app_token is not None and settings.app_token.get_secret_value():
        await _serve_socket_mode(app, settings)
    else:
        await _serve_http(app, settings)


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


async def _serve_http(app: AsyncApp, settings: SlackSettings) -> None:
    runner = web.AppRunner(build_http_app(app), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    logger.info("Listening for Slack on http://%s:%d%s", settings.host, settings.port, EVENTS_PATH)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        logger.info("HTTP server stopped")
