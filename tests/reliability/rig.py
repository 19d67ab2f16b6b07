"""A real Bolt app over real HTTP on loopback, for fault tests: any SlackServices, the mock Slack
Web API, signed requests, and helpers to read everything the bot sent to Slack."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from slack_bolt.async_app import AsyncApp

from bot.answer import Advisor
from bot.config import SlackSettings
from bot.deps import Deps
from bot.llm.chat import ChatClient
from bot.retrieval.retriever import Retriever
from bot.slack.app import build_app
from bot.slack.server import EVENTS_PATH, build_http_app
from bot.slack.services import SlackServices
from tests.slack.conftest import SIGNING_SECRET, envelope, sign
from tests.support.slack_api import MockSlackApi

BOT_TOKEN = "xoxb-reliability"


@dataclass
class Rig:
    http: TestClient[web.Request, web.Application]
    app: AsyncApp
    api: MockSlackApi
    services: SlackServices
    secret: str = SIGNING_SECRET

    async def post_event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None
    ) -> int:
        body = json.dumps(envelope(event, event_id))
        headers = {"Content-Type": "application/json"}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        status, _ = await self.post_raw(body, headers)
        return status

    async def post_interaction(self, payload: dict[str, Any]) -> int:
        body = urlencode({"payload": json.dumps(payload)})
        status, _ = await self.post_raw(body, {"Content-Type": "application/x-www-form-urlencoded"})
        return status

    async def post_raw(
        self, body: str, headers: dict[str, str], *, signed: bool = True
    ) -> tuple[int, str]:
        """POST `body` as is; signed with the app's secret unless `signed` is False."""
        all_headers = {**(sign(body, secret=self.secret) if signed else {}), **headers}
        response = await self.http.post(EVENTS_PATH, data=body.encode(), headers=all_headers)
        return response.status, await response.text()

    def responder_questions(self) -> list[str]:
        """What a scripted responder was asked (empty for other responders)."""
        asked = getattr(self.services.responder, "questions", [])
        return [question.text for question in asked]

    def sent(self) -> str:
        """Every parameter of every call the bot made to Slack, as one searchable string."""
        return json.dumps([call.params for call in self.api.calls], ensure_ascii=False)


def advisor_services(
    deps: Deps, retriever: Retriever | None = None, chat: ChatClient | None = None
) -> SlackServices:
    """The real engine and the session's Redis, with another index (`retriever`) or an LLM."""
    advisor = Advisor(
        retriever or deps.retriever,
        chat,
        deps.memory,
        deps.verdicts,
        min_score=0.0,
        max_question_chars=2000,
    )
    assert deps.redis is not None and deps.feedback is not None
    return SlackServices(responder=advisor, redis=deps.redis, feedback=deps.feedback)


@asynccontextmanager
async def open_rig(services: SlackServices, *, secret: str = SIGNING_SECRET) -> AsyncIterator[Rig]:
    async with MockSlackApi() as api:
        settings = SlackSettings(bot_token=BOT_TOKEN, signing_secret=secret, api_url=api.url)
        app = build_app(settings, services)
        # As `advisor serve` builds it in HTTP mode: signature checked before Bolt parses.
        http = TestClient(TestServer(build_http_app(app, signing_secret=secret)))
        await http.start_server()
        try:
            yield Rig(http, app, api, services, secret)
        finally:
            await http.close()


def context_texts(api: MockSlackApi) -> str:
    """The text of every block the bot posted or streamed (notes, sources, errors)."""
    blocks = [call.params.get("blocks") for call in api.calls if call.params.get("blocks")]
    return json.dumps(blocks, ensure_ascii=False)


def statuses(api: MockSlackApi) -> list[str]:
    return [str(c.params.get("status")) for c in api.calls_to("assistant.threads.setStatus")]
