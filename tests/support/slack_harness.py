"""The one Slack test harness: the real Bolt app, built by the production wiring
(`assemble_services` + `prepare_app`) around injected parts, behind a real HTTP test server with
signed requests, talking to the loopback mock Slack Web API.

    services = scripted_services(redis_client)                 # or engine_services(deps)
    async with open_harness(services) as harness:
        await harness.post_event(mention("Should we fine-tune?"))
        await harness.api.wait_for("chat.stopStream")

The pytest fixtures `make_harness` and `harness` (tests/support/slack_fixtures.py) wrap this.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from slack_bolt.async_app import AsyncApp

from bot.admin.service import AdminService
from bot.answer import Advisor
from bot.config import SlackBehaviour, SlackSettings
from bot.deps import Deps
from bot.llm.chat import ChatClient
from bot.memory.conversation import ConversationMemory
from bot.memory.feedback import FeedbackStore
from bot.retrieval.retriever import Retriever
from bot.slack.checklist_services import ChecklistRequest, ChecklistServices
from bot.slack.escalation_services import Escalations
from bot.slack.pacing import RatePacer
from bot.slack.server import EVENTS_PATH, build_http_app, open_session, prepare_app
from bot.slack.services import Responder, SlackServices
from bot.slack.wiring import assemble_services
from tests.support.scripted import ScriptedResponder
from tests.support.slack_api import MockSlackApi
from tests.support.slack_requests import SIGNING_SECRET, sign, signed_event, signed_form

BOT_TOKEN = "xoxb-test"
HttpClient = TestClient[web.Request, web.Application]


@dataclass
class SlackHarness:
    http: HttpClient
    app: AsyncApp
    api: MockSlackApi
    services: SlackServices
    redis: Redis
    secret: str = SIGNING_SECRET
    checklist_calls: list[ChecklistRequest] = field(default_factory=list)

    @property
    def responder(self) -> ScriptedResponder:
        """The scripted responder (metering, if any, wraps it)."""
        responder: Any = self.services.responder
        inner = getattr(responder, "inner", responder)
        assert isinstance(inner, ScriptedResponder)
        return inner

    @property
    def feedback(self) -> FeedbackStore:
        return self.services.feedback

    async def post_event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None
    ) -> int:
        body, headers = signed_event(
            event, event_id=event_id, retry_num=retry_num, secret=self.secret
        )
        status, _ = await self.post_raw(body, headers, signed=False)
        return status

    async def post_interaction(self, payload: dict[str, Any]) -> int:
        body, headers = signed_form({"payload": json.dumps(payload)}, secret=self.secret)
        status, _ = await self.post_raw(body, headers, signed=False)
        return status

    async def post_command(self, fields: dict[str, str]) -> tuple[int, str]:
        body = urlencode(fields)
        return await self.post_raw(body, {"Content-Type": "application/x-www-form-urlencoded"})

    async def post_raw(
        self, body: str, headers: dict[str, str], *, signed: bool = True
    ) -> tuple[int, str]:
        """POST `body` as is; signed with the app's secret unless `signed` is False."""
        all_headers = {**(sign(body, secret=self.secret) if signed else {}), **headers}
        response = await self.http.post(EVENTS_PATH, data=body.encode(), headers=all_headers)
        return response.status, await response.text()

    def responder_questions(self) -> list[str]:
        """What a scripted responder was asked (empty for other responders)."""
        responder: Any = self.services.responder
        inner = getattr(responder, "inner", responder)
        return [question.text for question in getattr(inner, "questions", [])]

    def sent(self) -> str:
        """Every parameter of every call the bot made to Slack, as one searchable string."""
        return json.dumps([call.params for call in self.api.calls], ensure_ascii=False)


def scripted_services(
    redis: Redis,
    responder: Responder | None = None,
    *,
    behaviour: SlackBehaviour | None = None,
    memory: ConversationMemory | None = None,
    checklist: ChecklistServices | None = None,
    record_checklist: list[ChecklistRequest] | None = None,
    admin: AdminService | None = None,
    pacer: RatePacer | None = None,
    escalation: Escalations | None = None,
) -> SlackServices:
    """Services around a scripted responder (default: `ScriptedResponder()`). With
    `record_checklist`, checklist requests are only recorded there (no checklist is run)."""
    start = None
    if record_checklist is not None:
        calls = record_checklist

        async def record(request: ChecklistRequest) -> None:
            calls.append(request)

        start = record
    return assemble_services(
        responder=responder or ScriptedResponder(),
        redis=redis,
        feedback=FeedbackStore(redis),
        behaviour=behaviour,
        memory=memory,
        checklist=checklist,
        start_checklist=start,
        admin=admin,
        pacer=pacer,
        escalation=escalation,
    )


def engine_services(
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
    return assemble_services(
        responder=advisor,
        redis=deps.redis,
        feedback=deps.feedback,
        memory=deps.memory,
    )


@asynccontextmanager
async def open_harness(
    services: SlackServices,
    redis: Redis,
    *,
    secret: str = SIGNING_SECRET,
    checklist_calls: list[ChecklistRequest] | None = None,
) -> AsyncIterator[SlackHarness]:
    """The app as `advisor serve` builds it in HTTP mode, on a loopback test server."""
    async with MockSlackApi() as api:
        settings = SlackSettings(bot_token=BOT_TOKEN, signing_secret=secret, api_url=api.url)
        session = open_session()
        try:
            app, health, metrics = prepare_app(settings, services, session)
            web_app = build_http_app(
                app, health, metrics, signing_secret=secret, inflight=services.inflight
            )
            http = TestClient(TestServer(web_app))
            await http.start_server()
            try:
                yield SlackHarness(
                    http,
                    app,
                    api,
                    services,
                    redis,
                    secret,
                    checklist_calls if checklist_calls is not None else [],
                )
            finally:
                await http.close()
        finally:
            await session.close()


def deps_redis(deps: Deps) -> Redis:
    assert deps.redis is not None
    return deps.redis


def context_texts(api: MockSlackApi) -> str:
    """The text of every block the bot posted or streamed (notes, sources, errors)."""
    blocks = [call.params.get("blocks") for call in api.calls if call.params.get("blocks")]
    return json.dumps(blocks, ensure_ascii=False)


def statuses(api: MockSlackApi) -> list[str]:
    return [str(c.params.get("status")) for c in api.calls_to("assistant.threads.setStatus")]


def streamed_text(api: MockSlackApi) -> str:
    """The markdown that Slack accepted, in order, across chat.startStream/appendStream/stopStream."""
    text = ""
    for call in api.calls:
        if call.status != 200 or not call.response.get("ok") or "Stream" not in call.method:
            continue
        text += str(call.params.get("markdown_text") or "")
        for chunk in call.params.get("chunks") or []:
            if isinstance(chunk, dict):
                text += str(chunk.get("text") or "")
    return text
