"""Who gets answered where, exactly once: retries, follow-ups, noise, bots, edits."""

from __future__ import annotations

import pytest

from bot.config import SlackBehaviour
from tests.support.slack_api import BOT_ID, BOT_USER_ID
from tests.support.slack_fixtures import MakeHarness
from tests.support.slack_harness import SlackHarness
from tests.support.slack_requests import CHANNEL, message_event


def answers(harness: SlackHarness) -> int:
    return len(harness.api.calls_to("chat.startStream"))


async def test_retried_event_is_answered_once(harness: SlackHarness) -> None:
    event = message_event(f"<@{BOT_USER_ID}> Should we fine-tune?", kind="app_mention")
    statuses = [
        await harness.post_event(event, event_id="EvSAME", retry_num=retry)
        for retry in (None, 1, 2)
    ]
    assert statuses == [200, 200, 200]
    await harness.api.wait_for("chat.stopStream")
    await harness.api.settle()
    assert answers(harness) == 1
    assert len(harness.responder.questions) == 1


async def test_mention_delivered_as_app_mention_and_message_is_answered_once(
    harness: SlackHarness,
) -> None:
    mention = message_event(f"<@{BOT_USER_ID}> RAG or fine-tune?", kind="app_mention")
    as_message = {**mention, "type": "message"}
    await harness.post_event(as_message)
    await harness.post_event(mention)
    await harness.api.wait_for("chat.stopStream")
    await harness.api.settle()
    assert answers(harness) == 1


async def test_follow_up_in_bot_thread_needs_no_mention(harness: SlackHarness) -> None:
    first = message_event(f"<@{BOT_USER_ID}> Should we fine-tune?", kind="app_mention")
    await harness.post_event(first)
    await harness.api.wait_for("chat.stopStream")
    follow_up = message_event("And what about RAG?", thread_ts=first["ts"])
    await harness.post_event(follow_up)
    await harness.api.wait_for("chat.stopStream", count=2)
    assert [q.text for q in harness.responder.questions] == [
        "Should we fine-tune?",
        "And what about RAG?",
    ]
    keys = {q.conversation_key for q in harness.responder.questions}
    assert len(keys) == 1  # same thread, same memory
    assert harness.api.calls_to("chat.startStream")[1].params["thread_ts"] == first["ts"]


async def test_unrelated_channel_traffic_is_ignored(harness: SlackHarness) -> None:
    await harness.post_event(message_event("lunch anyone?"))
    await harness.post_event(message_event("reply elsewhere", thread_ts="1680000000.000001"))
    await harness.api.settle()
    assert harness.responder.questions == []
    assert not [c for c in harness.api.calls if c.method.startswith(("chat.", "reactions."))]


async def test_allowlisted_channel_answers_without_mention(make_harness: MakeHarness) -> None:
    harness = await make_harness(behaviour=SlackBehaviour(channel_allowlist={"CASK"}))
    await harness.post_event(message_event("Should we fine-tune?", channel="CASK"))
    await harness.post_event(message_event("not here", channel=CHANNEL))
    await harness.api.wait_for("chat.stopStream")
    await harness.api.settle()
    assert [q.text for q in harness.responder.questions] == ["Should we fine-tune?"]


async def test_own_and_other_bot_messages_edits_and_deletions_are_ignored(
    harness: SlackHarness,
) -> None:
    own = message_event(f"<@{BOT_USER_ID}> echo", user=BOT_USER_ID, bot_id=BOT_ID)
    other_bot = message_event(f"<@{BOT_USER_ID}> hello", kind="app_mention", bot_id="BOTHER")
    edited = message_event("edited", channel_type="im", subtype="message_changed", channel="D0DM")
    deleted = message_event("", channel_type="im", subtype="message_deleted", channel="D0DM")
    for event in (own, other_bot, edited, deleted):
        assert await harness.post_event(event) == 200
    await harness.api.settle()
    assert harness.responder.questions == []


async def test_other_bots_can_be_allowed(make_harness: MakeHarness) -> None:
    harness = await make_harness(behaviour=SlackBehaviour(ignore_bots=False))
    event = message_event(f"<@{BOT_USER_ID}> hello", kind="app_mention", bot_id="BOTHER")
    await harness.post_event(event)
    await harness.api.wait_for("chat.stopStream")
    assert len(harness.responder.questions) == 1


async def test_dm_uses_the_status_line_and_clears_it(harness: SlackHarness) -> None:
    event = message_event("When is RAG better?", channel="D0DM", channel_type="im")
    await harness.post_event(event)
    await harness.api.wait_for("chat.stopStream")
    await harness.api.settle()
    statuses = harness.api.calls_to("assistant.threads.setStatus")
    assert statuses[0].params["loading_messages"]
    assert statuses[-1].params["status"] == ""
    assert any(s.params["status"] == "Drafting..." for s in statuses)
    assert harness.api.calls_to("reactions.add") == []
    assert harness.responder.questions[0].conversation_key.endswith(f"D0DM:{event['ts']}")  # type: ignore[union-attr]


@pytest.mark.parametrize("where", ["dm", "channel thread"])
async def test_a_refused_status_line_falls_back_to_a_reaction(
    harness: SlackHarness, where: str
) -> None:
    harness.api.fail("assistant.threads.setStatus", "not_allowed")
    if where == "dm":
        event = message_event("hi?", channel="D0DM", channel_type="im")
    else:
        event = message_event(f"<@{BOT_USER_ID}> hi?", kind="app_mention")
    await harness.post_event(event)
    await harness.api.wait_for("chat.stopStream")
    await harness.api.settle()
    [added] = harness.api.calls_to("reactions.add")
    assert added.params["timestamp"] == event["ts"]
    assert len(harness.api.calls_to("reactions.remove")) == 1
    # Refused once: no more status calls for this answer (not even a "clear").
    assert len(harness.api.calls_to("assistant.threads.setStatus")) == 1


async def test_empty_mention_gets_a_hint_and_429_is_retried(harness: SlackHarness) -> None:
    harness.api.rate_limit("chat.postMessage", retry_after=0)
    await harness.post_event(message_event(f"<@{BOT_USER_ID}>", kind="app_mention"))
    posted = await harness.api.wait_for("chat.postMessage")
    assert "fine-tune" in posted[0].params["text"]
    attempts = [c.status for c in harness.api.calls if c.method == "chat.postMessage"]
    assert attempts == [429, 200]
    assert harness.responder.questions == []


async def test_one_message_delivered_twice_under_two_event_ids_is_answered_once(
    harness: SlackHarness,
) -> None:
    # Slack can deliver one DM as two events (two subscriptions, or a redelivery with a new
    # event id); only client_msg_id says they are the same message.
    event = message_event("When is RAG better?", channel="D0DM", channel_type="im")
    assert await harness.post_event(event, event_id="EvFIRST0001") == 200
    assert await harness.post_event(event, event_id="EvSECOND001") == 200
    await harness.api.wait_for("chat.stopStream")
    await harness.api.settle()
    assert len(harness.api.calls_to("chat.startStream")) == 1
    assert len(harness.responder.questions) == 1
