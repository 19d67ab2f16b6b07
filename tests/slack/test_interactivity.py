"""Feedback buttons and modal, the checklist hook, the Messages tab, Socket Mode envelopes."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest

from tests.support.slack_api import BOT_USER_ID, TEAM_ID
from tests.support.slack_fixtures import MakeHarness
from tests.support.slack_harness import SlackHarness
from tests.support.slack_requests import CHANNEL, USER, envelope, message_event, view_submission


async def _answer(harness: SlackHarness) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    event = message_event(f"<@{BOT_USER_ID}> Should we fine-tune?", kind="app_mention")
    await harness.post_event(event)
    stop = (await harness.api.wait_for("chat.stopStream"))[0]
    actions = next(b for b in stop.params["blocks"] if b["type"] == "actions")["elements"]
    return event, actions


def _click(action: dict[str, Any], thread_ts: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": USER},
        "api_app_id": "A0APP",
        "trigger_id": "trig-1",
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "channel_id": CHANNEL},
        "message": {"ts": "1700000000.000001", "thread_ts": thread_ts},
        "actions": [{**action, "type": "button", "block_id": "b", "action_ts": "1"}],
    }


async def test_helpful_click_is_stored_with_the_answer(harness: SlackHarness) -> None:
    event, actions = await _answer(harness)
    assert await harness.post_interaction(_click(actions[0], event["ts"])) == 200
    await harness.api.wait_for("chat.postEphemeral")
    [record] = await harness.feedback.recent(5)
    assert record.rating == "helpful"
    assert record.question == "Should we fine-tune?"
    assert record.answer == harness.responder.answer
    assert record.index_version == "idx-1"
    assert [c.n for c in record.citations] == [1, 2]


async def test_not_helpful_opens_modal_and_stores_reason(harness: SlackHarness) -> None:
    event, actions = await _answer(harness)
    await harness.post_interaction(_click(actions[1], event["ts"]))
    view = (await harness.api.wait_for("views.open"))[0].params["view"]
    assert view["callback_id"] == "feedback_reason"
    submission = view_submission(
        {**view, "id": "V0001"}, "reason", "reason_input", "Missed the cost angle"
    )
    assert await harness.post_interaction(submission) == 200
    await harness.api.settle()
    [record] = await harness.feedback.recent(5)
    assert (record.rating, record.reason) == ("not_helpful", "Missed the cost angle")


async def test_click_on_unknown_answer_is_acknowledged_politely(harness: SlackHarness) -> None:
    action = {"action_id": "feedback_helpful", "value": "abcdef123456"}
    assert await harness.post_interaction(_click(action, "1.2")) == 200
    posted = await harness.api.wait_for("chat.postEphemeral")
    assert "too old" in posted[0].params["text"]


async def test_checklist_button_only_with_a_hook(make_harness: MakeHarness) -> None:
    harness = await make_harness(with_checklist=True)
    event, actions = await _answer(harness)
    assert [a["action_id"] for a in actions][-1] == "checklist_start"
    await harness.post_interaction(_click(actions[-1], event["ts"]))
    await harness.api.settle()
    [request] = harness.checklist_calls
    assert (request.channel_id, request.thread_ts, request.user_id) == (CHANNEL, event["ts"], USER)


async def test_checklist_prompt_in_dm_goes_to_the_hook(make_harness: MakeHarness) -> None:
    harness = await make_harness(with_checklist=True)
    dm = message_event("Start the decision checklist", channel="D0DM", channel_type="im")
    await harness.post_event(dm)
    await harness.api.settle()
    assert len(harness.checklist_calls) == 1
    assert harness.responder.questions == []


async def test_messages_tab_welcome_is_posted_once(harness: SlackHarness) -> None:
    opened = {"type": "app_home_opened", "user": USER, "channel": "D0DM", "tab": "messages"}
    await harness.post_event(opened)
    await harness.post_event(opened)
    await harness.post_event({**opened, "tab": "home"})
    await harness.api.settle()
    [welcome] = harness.api.calls_to("chat.postMessage")
    prompts = json.dumps(welcome.params["blocks"])
    assert "Should we fine-tune for strict JSON output?" in prompts
    assert "Start the decision checklist" in prompts


async def test_opening_the_messages_tab_sets_suggested_prompts_without_a_thread(
    harness: SlackHarness,
) -> None:
    # Under the agent view this event replaces assistant_thread_started; prompts are set for the
    # DM channel itself (a thread_ts would make Slack ignore the call).
    opened = {"type": "app_home_opened", "user": USER, "channel": "D0DM", "tab": "messages"}
    await harness.post_event(opened)
    await harness.post_event({**opened, "tab": "home"})
    await harness.api.settle()
    [call] = harness.api.calls_to("assistant.threads.setSuggestedPrompts")
    assert call.params["channel_id"] == "D0DM"
    assert "thread_ts" not in call.params
    prompts = call.params["prompts"]
    assert {"title": "RAG vs fine-tuning", "message": "When is RAG better than fine-tuning?"} in (
        prompts
    )
    assert len(prompts) <= 4  # Slack shows up to four


async def test_the_legacy_assistant_thread_event_is_not_handled(harness: SlackHarness) -> None:
    started = {
        "type": "assistant_thread_started",
        "assistant_thread": {"user_id": USER, "channel_id": "D0DM", "thread_ts": "1.5"},
    }
    assert await harness.post_event(started) == 200
    await harness.api.settle()
    assert harness.api.calls_to("assistant.threads.setSuggestedPrompts") == []


async def test_socket_mode_envelope_is_answered_once(harness: SlackHarness) -> None:
    event = message_event(f"<@{BOT_USER_ID}> socket?", kind="app_mention")
    body = envelope(event, event_id="EvSOCKET")
    for retry in (0, 1):
        request = AsyncBoltRequest(
            body=body,
            mode="socket_mode",
            headers={"x-slack-retry-num": str(retry)} if retry else None,
        )
        response = await harness.app.async_dispatch(request)
        assert response.status == 200
    await harness.api.wait_for("chat.stopStream")
    await harness.api.settle()
    assert len(harness.api.calls_to("chat.startStream")) == 1
    assert harness.responder.questions[0].text == "socket?"


async def test_slash_command_posts_question_and_answers_in_its_thread(
    harness: SlackHarness,
) -> None:
    status, _ = await harness.post_command(
        {
            "command": "/finetune-check",
            "text": "Fine-tune for tone?",
            "team_id": TEAM_ID,
            "channel_id": CHANNEL,
            "channel_name": "general",
            "user_id": USER,
            "trigger_id": "t",
            "response_url": "http://127.0.0.1:9/unused",
        }
    )
    assert status == 200
    await harness.api.wait_for("chat.stopStream")
    question_ts = harness.api.calls_to("chat.postMessage")[0]
    start = harness.api.calls_to("chat.startStream")[0].params
    assert harness.responder.questions[0].text == "Fine-tune for tone?"
    assert start["thread_ts"].startswith("1700000000.")
    assert question_ts.params["channel"] == CHANNEL
