"""Slack Web API 429 and 5xx while an answer streams: the answer still arrives complete (429s and
one-off 5xx are retried by the client), or a clear message with an error id is posted."""

from __future__ import annotations

import pytest

from bot.slack.mrkdwn import sanitize_markdown
from tests.support.scripted import ScriptedResponder
from tests.support.slack_api import BOT_USER_ID
from tests.support.slack_fixtures import MakeHarness
from tests.support.slack_harness import SlackHarness, streamed_text
from tests.support.slack_requests import message_event

PARAGRAPH = "Prompt first, measure, then decide between RAG and fine-tuning [1]. "
ANSWER = "\n\n".join(PARAGRAPH * 3 for _ in range(8))  # about 1,600 chars: many appendStream


@pytest.fixture
async def rig(make_harness: MakeHarness) -> SlackHarness:
    # Paced like a model's tokens, so the stream has appends to rate-limit too.
    return await make_harness(ScriptedResponder(answer=ANSWER, delay_seconds=0.02))


async def ask(rig: SlackHarness) -> None:
    event = message_event(f"<@{BOT_USER_ID}> Should we fine-tune?", kind="app_mention")
    assert await rig.post_event(event) == 200
    await rig.api.wait_for("chat.stopStream", within=15)
    await rig.api.settle()


@pytest.mark.parametrize("method", ["chat.startStream", "chat.appendStream", "chat.stopStream"])
async def test_rate_limits_while_streaming_are_retried_and_the_answer_is_complete(
    rig: SlackHarness, method: str
) -> None:
    rig.api.rate_limit(method, retry_after=0, times=2)
    await ask(rig)
    assert [c.status for c in rig.api.calls if c.method == method][:2] == [429, 429]
    assert streamed_text(rig.api).strip() == sanitize_markdown(ANSWER).strip()
    assert not rig.api.calls_to("chat.postMessage")  # no error message


@pytest.mark.parametrize("status", [500, 503])
async def test_a_server_error_while_streaming_is_retried(rig: SlackHarness, status: int) -> None:
    rig.api.server_error("chat.appendStream", status=status)
    await ask(rig)
    assert streamed_text(rig.api).strip() == sanitize_markdown(ANSWER).strip()


async def test_appends_failing_for_good_are_finished_by_editing_the_same_message(
    rig: SlackHarness,
) -> None:
    rig.api.server_error("chat.appendStream", status=500, times=50)
    event = message_event(f"<@{BOT_USER_ID}> Should we fine-tune?", kind="app_mention")
    assert await rig.post_event(event) == 200
    thread = str(event["ts"])
    await rig.api.wait_until(lambda: thread in rig.api.answered_threads(), 15)
    [message] = rig.api.messages_in(thread)
    assert message.streamed and message.edits >= 1
    assert message.shown().count("Prompt first, measure") == ANSWER.count("Prompt first")
    assert not rig.api.calls_to("chat.postMessage")  # neither a copy nor an apology


async def test_slack_down_for_good_gives_a_clear_error(rig: SlackHarness) -> None:
    for method in ("chat.appendStream", "chat.stopStream", "chat.update"):
        rig.api.server_error(method, status=500, times=50)
    event = message_event(f"<@{BOT_USER_ID}> Should we fine-tune?", kind="app_mention")
    assert await rig.post_event(event) == 200
    posts = await rig.api.wait_for("chat.postMessage", within=15)
    await rig.api.settle()
    assert "error id `" in str(posts[-1].params["text"])
    assert posts[-1].params["thread_ts"] == event["ts"]
    assert rig.api.calls_to("assistant.threads.setStatus")[-1].params["status"] == ""
