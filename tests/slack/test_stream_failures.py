"""A stream that fails after it started: finished in the same message, never posted twice; the
user's stop button is a quiet end remembered as such; an expired stream goes on by editing."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.memory.conversation import ConversationMemory, conversation_key
from bot.slack.answering import STOPPED_MARK
from tests.support.scripted import ScriptedResponder
from tests.support.slack_api import TEAM_ID
from tests.support.slack_fixtures import MakeHarness
from tests.support.slack_harness import SlackHarness
from tests.support.slack_requests import CHANNEL, mention

SENTENCE = "Prompt first and measure before you fine-tune anything at all. "
LONG_ANSWER = "\n\n".join(SENTENCE * 4 for _ in range(8))  # ~2,000 characters


async def ask(harness: SlackHarness) -> str:
    event = mention("Should we fine-tune?")
    assert await harness.post_event(event) == 200
    return str(event["ts"])


def apologies(harness: SlackHarness) -> list[str]:
    return [
        str(c.params.get("text"))
        for c in harness.api.calls_to("chat.postMessage")
        if "error id" in str(c.params.get("text"))
    ]


async def test_a_failed_stop_finishes_the_same_message_with_an_update(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(ScriptedResponder(answer=LONG_ANSWER))
    harness.api.fail("chat.stopStream", "internal_error")
    thread = await ask(harness)
    update = (await harness.api.wait_for("chat.update", within=10))[-1]
    await harness.api.settle()
    [message] = harness.api.messages_in(thread)  # one message: nothing was posted again
    assert update.params["ts"] == message.ts
    shown = message.shown()
    assert shown.count("Prompt first and measure") == LONG_ANSWER.count("Prompt first")
    assert '"answer_actions:' in shown  # the footer made it too
    assert harness.api.calls_to("chat.postMessage") == []
    assert apologies(harness) == []


async def test_an_expired_stream_goes_on_by_editing_its_message(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(
        ScriptedResponder(answer=LONG_ANSWER, piece_chars=40, delay_seconds=0.03)
    )
    # Slack ends a stream on its side (it expires after a few minutes): appends then fail.
    harness.api.fail("chat.appendStream", "message_not_in_streaming_state", times=20)
    thread = await ask(harness)
    await harness.api.wait_until(lambda: thread in harness.api.answered_threads(), 15)
    [message] = harness.api.messages_in(thread)
    assert message.edits >= 1
    assert message.shown().count("Prompt first and measure") == LONG_ANSWER.count("Prompt first")
    assert harness.api.calls_to("chat.postMessage") == []


async def test_the_stop_button_ends_the_answer_quietly_and_it_is_remembered_as_stopped(
    make_harness: MakeHarness, redis_client: Redis
) -> None:
    memory = ConversationMemory(redis_client, ttl_seconds=600, max_turns=12, max_tokens=3000)
    responder = ScriptedResponder(answer=LONG_ANSWER, piece_chars=40, delay_seconds=0.03)
    harness = await make_harness(responder, memory=memory)
    harness.api.fail("chat.appendStream", "stopped_by_user")
    thread = await ask(harness)
    await harness.api.wait_for("chat.appendStream", within=10)
    await harness.api.wait_until(lambda: responder.closed_early == 1, 10)
    await harness.api.settle(quiet=0.3)
    # No apology, no footer, nothing written after the stop.
    assert apologies(harness) == []
    assert harness.api.calls_to("chat.postMessage") == []
    assert harness.api.calls_to("chat.stopStream") == []
    assert len(harness.api.calls_to("chat.appendStream")) == 1
    assert harness.api.calls_to("assistant.threads.setStatus")[-1].params["status"] == ""
    # The turn is remembered as far as it was shown, marked as stopped.
    history = await memory.load(conversation_key(TEAM_ID, CHANNEL, thread))
    user, assistant = history.turns
    assert user.content == "Should we fine-tune?"
    assert assistant.content.endswith(STOPPED_MARK)
    assert assistant.content.startswith("Prompt first and measure")
    assert len(assistant.content) < len(LONG_ANSWER)
    # No feedback record either: there is no finished answer to rate.
    assert await redis_client.keys("advisor:answer:*") == []


async def test_a_dropped_connection_is_retried_once(harness: SlackHarness) -> None:
    harness.api.drop_connection("chat.startStream")
    thread = await ask(harness)
    await harness.api.wait_until(lambda: thread in harness.api.answered_threads(), 10)
    starts = [c.status for c in harness.api.calls if c.method == "chat.startStream"]
    assert starts == [0, 200]  # dropped, then retried by the connection-error handler
    assert len(harness.api.messages_in(thread)) == 1
    assert apologies(harness) == []
