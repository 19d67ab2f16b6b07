"""The Slack app on the real engine: no scripted responder. A signed app_mention goes through
Bolt, the real Advisor (local embedder, embedded index of knowledge/, real Redis memory) answers
in extractive mode, and the mock Slack Web API records what was posted."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.config import SlackSettings
from bot.deps import Deps
from bot.memory.conversation import conversation_key
from bot.slack.app import build_app
from bot.slack.server import EVENTS_PATH, build_http_app
from bot.slack.wiring import build_slack_services
from tests.support.slack_api import BOT_USER_ID, TEAM_ID, MockSlackApi
from tests.support.slack_requests import SIGNING_SECRET, envelope, message_event, sign

pytestmark = pytest.mark.slow


@pytest.fixture
async def slack(
    knowledge_deps: Deps,
) -> AsyncIterator[tuple[TestClient[web.Request, web.Application], MockSlackApi]]:
    api = MockSlackApi()
    await api.__aenter__()
    settings = SlackSettings(bot_token="xoxb-test", signing_secret=SIGNING_SECRET, api_url=api.url)
    app = build_app(settings, build_slack_services(knowledge_deps))
    http = TestClient(TestServer(build_http_app(app)))
    await http.start_server()
    yield http, api
    await http.close()
    await api.__aexit__(None, None, None)


async def post(http: TestClient[web.Request, web.Application], event: dict[str, object]) -> int:
    body = json.dumps(envelope(event))
    response = await http.post(
        EVENTS_PATH, data=body, headers={"Content-Type": "application/json", **sign(body)}
    )
    return response.status


def streamed_text(api: MockSlackApi) -> str:
    """Everything sent through the streaming methods (text may travel as `chunks`)."""
    methods = ("chat.startStream", "chat.appendStream", "chat.stopStream")
    return json.dumps([call.params for call in api.calls if call.method in methods])


async def test_mention_gets_a_cited_answer_and_the_thread_is_remembered(
    slack: tuple[TestClient[web.Request, web.Application], MockSlackApi], knowledge_deps: Deps
) -> None:
    http, api = slack
    question = (
        "we have 300 labelled support tickets and need strict JSON output; should we fine-tune?"
    )
    mention = message_event(f"<@{BOT_USER_ID}> {question}", kind="app_mention")
    assert await post(http, mention) == 200
    await api.wait_for("chat.stopStream", within=60)
    await api.settle()

    start = api.calls_to("chat.startStream")[0]
    assert start.params["thread_ts"] == mention["ts"]
    text = streamed_text(api)
    # A described situation: the checklist's verdict comes first, then the cited guidance.
    assert "**Recommendation:" in text
    assert "300 labelled support tickets" in text  # the facts are quoted back
    assert text.index("**Recommendation:") < text.index("**What the guidance says**")
    assert "[1]" in text
    blocks = json.dumps([c.params.get("blocks") for c in api.calls if c.params.get("blocks")])
    assert "*Sources*" in blocks
    # The sources block names the documents the engine cited, by their front-matter titles.
    titles = [
        "Structured output: strict JSON, SQL and tool calls",
        "Worked scenarios: prompt, RAG or fine-tune?",
        "Data readiness: how many labelled examples, and how good",
        "When fine-tuning is worth it",
    ]
    assert any(title.replace("&", "&amp;") in blocks for title in titles), blocks

    follow_up = message_event("And how many examples would we need?", thread_ts=mention["ts"])
    assert await post(http, follow_up) == 200
    await api.wait_for("chat.stopStream", count=2, within=60)
    assert knowledge_deps.memory is not None
    history = await knowledge_deps.memory.load(
        conversation_key(TEAM_ID, mention["channel"], mention["ts"])
    )
    assert [turn.content for turn in history.turns if turn.role == "user"] == [
        question,
        "And how many examples would we need?",
    ]
