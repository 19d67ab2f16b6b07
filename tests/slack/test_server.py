"""serve() in HTTP mode: listens, answers /healthz, shuts down cleanly when cancelled."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.config import SlackSettings
from bot.errors import ConfigError
from bot.slack.app import build_app
from bot.slack.server import serve
from tests.support.slack_api import MockSlackApi
from tests.support.slack_harness import scripted_services


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_serve_http_mode_until_cancelled(redis_client: Redis) -> None:
    services = scripted_services(redis_client)
    port = _free_port()
    async with MockSlackApi() as api:
        settings = SlackSettings(
            bot_token="xoxb-t", signing_secret="s", api_url=api.url, host="127.0.0.1", port=port
        )
        task = asyncio.create_task(serve(settings, services))
        async with aiohttp.ClientSession() as session:
            for _ in range(50):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        assert await response.text() == "ok"
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.02)
            else:
                pytest.fail("server did not start")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # the port was released


def test_http_mode_requires_a_signing_secret(redis_client: Redis) -> None:
    services = scripted_services(redis_client)
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        build_app(SlackSettings(bot_token="xoxb-t", signing_secret=None), services)
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        build_app(SlackSettings(bot_token=None, signing_secret="s"), services)
