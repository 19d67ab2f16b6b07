"""Signature checks, health, and the plain mention -> threaded, streamed, cited answer."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.slack_api import BOT_USER_ID, TEAM_ID
from tests.support.slack_harness import SlackHarness, streamed_text
from tests.support.slack_requests import CHANNEL, USER, envelope, message_event, sign


async def test_healthz(harness: SlackHarness) -> None:
    response = await harness.http.get("/healthz")
    assert response.status == 200
    assert await response.text() == "ok"


async def test_bad_signature_is_rejected(harness: SlackHarness) -> None:
    body = json.dumps(envelope(message_event(f"<@{BOT_USER_ID}> hi", kind="app_mention")))
    headers = {"Content-Type": "application/json", **sign(body, secret="wrong")}
    response = await harness.http.post("/slack/events", data=body, headers=headers)
    assert response.status == 401
    await harness.api.settle()
    assert harness.responder.questions == []


async def test_stale_timestamp_is_rejected(harness: SlackHarness) -> None:
    body = json.dumps(envelope(message_event(f"<@{BOT_USER_ID}> hi", kind="app_mention")))
    headers = {"Content-Type": "application/json", **sign(body, int(time.time()) - 600)}
    response = await harness.http.post("/slack/events", data=body, headers=headers)
    assert response.status == 401


@pytest.mark.parametrize(
    "content_type", ["text/plain", "text/plain; charset=utf-8", "application/octet-stream", ""]
)
async def test_a_signed_body_of_another_content_type_is_refused_unread(
    harness: SlackHarness, content_type: str
) -> None:
    # A valid event and a valid signature: only the content type is not one Slack sends.
    body = json.dumps(envelope(message_event(f"<@{BOT_USER_ID}> hi", kind="app_mention")))
    response = await harness.http.post(
        "/slack/events", data=body.encode(), headers={"Content-Type": content_type, **sign(body)}
    )
    assert response.status == 415
    await harness.api.settle()
    assert harness.responder.questions == []
    assert harness.api.calls == []


async def test_json_with_a_charset_is_still_accepted(harness: SlackHarness) -> None:
    body = json.dumps(envelope(message_event(f"<@{BOT_USER_ID}> hi", kind="app_mention")))
    headers = {"Content-Type": "application/json; charset=utf-8", **sign(body)}
    response = await harness.http.post("/slack/events", data=body.encode(), headers=headers)
    assert response.status == 200
    await harness.api.wait_for("chat.stopStream")
    assert harness.responder.questions[0].text == "hi"


async def test_mention_is_answered_in_a_thread_with_sources_and_feedback(
    harness: SlackHarness,
) -> None:
    event = message_event(f"<@{BOT_USER_ID}> Should we fine-tune?", kind="app_mention")
    assert await harness.post_event(event) == 200
    stop = (await harness.api.wait_for("chat.stopStream"))[0]
    await harness.api.settle()

    start = harness.api.calls_to("chat.startStream")[0].params
    assert start["channel"] == CHANNEL
    assert start["thread_ts"] == event["ts"]
    assert start["recipient_user_id"] == USER
    assert start["recipient_team_id"] == TEAM_ID

    question = harness.responder.questions[0]
    assert question.text == "Should we fine-tune?"
    assert question.conversation_key == f"advisor:conv:{TEAM_ID}:{CHANNEL}:{event['ts']}"

    assert streamed_text(harness.api) == harness.responder.answer

    blocks = stop.params["blocks"]
    sources = json.dumps([b for b in blocks if b["type"] == "context"], ensure_ascii=False)
    assert (
        "<https://example.com/when|When to fine-tune> (example.com) — Structured output" in sources
    )
    assert "RAG basics — Fresh knowledge" in sources
    actions = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert [a["action_id"] for a in actions] == ["feedback_helpful", "feedback_not_helpful"]

    # The status line showed under the thread while working (chat:write is enough in channels
    # too), and was cleared afterwards; no reaction was needed.
    statuses = harness.api.calls_to("assistant.threads.setStatus")
    assert statuses[0].params["thread_ts"] == event["ts"]
    assert statuses[0].params["channel_id"] == CHANNEL
    assert statuses[-1].params["status"] == ""
    assert harness.api.calls_to("reactions.add") == []
    # The thread is remembered for follow-ups.
    key = f"advisor:thread:{TEAM_ID}:{CHANNEL}:{event['ts']}"
    assert await harness.redis.ttl(key) > 0


async def test_notes_are_shown_in_a_context_block(make_harness: object) -> None:
    from tests.support.scripted import ScriptedResponder

    harness = await make_harness(ScriptedResponder(notes=("memory unavailable",)))  # type: ignore[operator]
    await harness.post_event(message_event(f"<@{BOT_USER_ID}> q", kind="app_mention"))
    stop = (await harness.api.wait_for("chat.stopStream"))[0]
    assert "_memory unavailable_" in json.dumps(stop.params["blocks"])
