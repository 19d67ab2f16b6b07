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
    return await make_harness(ScriptedResponder(answer=ANSWER))


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


async def test_slack_down_for_good_gives_a_clear_error(rig: SlackHarness) -> None:
    rig.api.server_error("chat.appendStream", status=500, times=50)
    event = message_event(f"<@{BOT_USER_ID}> Should we fine-tune?", kind="app_mention")
    assert await rig.post_event(event) == 200
    posts = await rig.api.wait_for("chat.postMessage", within=15)
    await rig.api.settle()
    assert "error id `" in str(posts[-1].params["text"])
    assert posts[-1].params["thread_ts"] == event["ts"]
    # The stream left open is closed, and the reaction taken off.
    assert rig.api.calls_to("chat.stopStream")
    assert rig.api.calls_to("reactions.remove")
