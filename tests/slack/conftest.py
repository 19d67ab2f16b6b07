"""A real Bolt app behind a real aiohttp server, a mock Slack Web API, and a real Redis."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from slack_bolt.async_app import AsyncApp

from bot.config import SlackBehaviour, SlackSettings
from bot.memory.feedback import FeedbackStore
from bot.slack.app import build_app
from bot.slack.server import EVENTS_PATH, build_http_app
from bot.slack.services import ChecklistRequest, SlackServices
from tests.slack.scripted import ScriptedResponder
from tests.support.slack_api import BOT_USER_ID, TEAM_ID, MockSlackApi

SIGNING_SECRET = "test-signing-secret"
CHANNEL = "C0CHANNEL"
USER = "U0HUMAN"
_ids = itertools.count(1)


def sign(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def envelope(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": TEAM_ID,
        "api_app_id": "A0APP",
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):06d}",
        "event_time": int(time.time()),
        "event": event,
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }


def message_event(
    text: str,
    *,
    kind: str = "message",
    channel: str = CHANNEL,
    user: str = USER,
    thread_ts: str | None = None,
    channel_type: str = "channel",
    **extra: Any,
) -> dict[str, Any]:
    ts = f"1690000000.{next(_ids):06d}"
    event: dict[str, Any] = {
        "type": kind,
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "team": TEAM_ID,
        "channel_type": channel_type,
        "client_msg_id": f"cm-{next(_ids)}",
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    event.update(extra)
    return event


@dataclass
class Harness:
    http: TestClient[web.Request, web.Application]
    app: AsyncApp
    api: MockSlackApi
    redis: Redis
    responder: ScriptedResponder
    feedback: FeedbackStore
    checklist_calls: list[ChecklistRequest] = field(default_factory=list)

    async def post_event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None
    ) -> int:
        body = json.dumps(envelope(event, event_id))
        headers = {"Content-Type": "application/json", **sign(body)}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        response = await self.http.post(EVENTS_PATH, data=body, headers=headers)
        return response.status

    async def post_interaction(self, payload: dict[str, Any]) -> int:
        body = urlencode({"payload": json.dumps(payload)})
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        response = await self.http.post(EVENTS_PATH, data=body, headers=headers)
        return response.status

    async def post_command(self, fields: dict[str, str]) -> tuple[int, str]:
        body = urlencode(fields)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        response = await self.http.post(EVENTS_PATH, data=body, headers=headers)
        return response.status, await response.text()


MakeHarness = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def make_harness(redis_client: Redis) -> AsyncIterator[MakeHarness]:
    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def make(
        responder: ScriptedResponder | None = None,
        behaviour: SlackBehaviour | None = None,
        with_checklist: bool = False,
    ) -> Harness:
        api = MockSlackApi()
        await api.__aenter__()
        cleanups.append(lambda: api.__aexit__(None, None, None))
        settings = SlackSettings(
            bot_token="xoxb-test", signing_secret=SIGNING_SECRET, api_url=api.url
        )
        calls: list[ChecklistRequest] = []

        async def start_checklist(request: ChecklistRequest) -> None:
            calls.append(request)

        feedback = FeedbackStore(redis_client)
        services = SlackServices(
            responder=responder or ScriptedResponder(),
            redis=redis_client,
            feedback=feedback,
            behaviour=behaviour or SlackBehaviour(),
            start_checklist=start_checklist if with_checklist else None,
        )
        app = build_app(settings, services)
        http = TestClient(TestServer(build_http_app(app)))
        await http.start_server()
        cleanups.append(http.close)
        assert isinstance(services.responder, ScriptedResponder)
        return Harness(http, app, api, redis_client, services.responder, feedback, calls)

    yield make
    for cleanup in reversed(cleanups):
        await cleanup()


@pytest.fixture
async def harness(make_harness: MakeHarness) -> Harness:
    return await make_harness()
