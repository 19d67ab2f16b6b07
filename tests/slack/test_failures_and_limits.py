"""Failures, neutralised mentions, long answers, and the streaming fallback."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.slack.blocks import MAX_BLOCKS, MESSAGE_TEXT_LIMIT, SECTION_TEXT_LIMIT
from tests.support.scripted import ScriptedResponder
from tests.support.slack_api import BOT_USER_ID
from tests.support.slack_fixtures import MakeHarness
from tests.support.slack_harness import streamed_text
from tests.support.slack_requests import message_event


def mention(text: str) -> dict[str, Any]:
    return message_event(f"<@{BOT_USER_ID}> {text}", kind="app_mention")


async def test_responder_failure_clears_reaction_and_posts_error_id(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(ScriptedResponder(fail_after_deltas=7))
    event = mention("Should we fine-tune?")
    await harness.post_event(event)
    posted = await harness.api.wait_for("chat.postMessage")
    await harness.api.settle()
    apology = posted[-1].params
    assert apology["thread_ts"] == event["ts"]
    assert re.search(r"error id `[0-9a-f]{8}`", apology["text"])
    everything = json.dumps([c.params for c in harness.api.calls])
    assert "hunter2" not in everything
    assert "secret internal" not in everything
    assert harness.api.calls_to("assistant.threads.setStatus")[-1].params["status"] == ""
    # The partial stream was closed rather than left spinning.
    assert len(harness.api.calls_to("chat.stopStream")) == 1


async def test_failure_before_any_text_in_dm_clears_status(make_harness: MakeHarness) -> None:
    harness = await make_harness(ScriptedResponder(fail_after_deltas=0))
    await harness.post_event(message_event("q?", channel="D0DM", channel_type="im"))
    await harness.api.wait_for("chat.postMessage")
    await harness.api.settle()
    assert harness.api.calls_to("assistant.threads.setStatus")[-1].params["status"] == ""
    assert harness.api.calls_to("chat.startStream") == []


async def test_broadcast_mentions_from_the_model_are_neutralised(
    make_harness: MakeHarness,
) -> None:
    answer = "Hey <!channel> and <!here|here> and <!subteam^S123|@ml-team>, also @everyone: done."
    harness = await make_harness(ScriptedResponder(answer=answer, piece_chars=5))
    await harness.post_event(mention("ping everyone"))
    await harness.api.wait_for("chat.stopStream")
    streamed = streamed_text(harness.api)
    assert "<!" not in streamed
    assert not re.search(r"(?<![\w@])@(channel|here|everyone)\b", streamed)
    assert "ml-team" in streamed


async def test_streaming_unavailable_falls_back_to_post_and_update(
    make_harness: MakeHarness,
) -> None:
    answer = "Use **RAG** for <!here> facts.\n\nSee [docs](https://example.com/x)."
    harness = await make_harness(ScriptedResponder(answer=answer))
    harness.api.fail("chat.startStream", "unknown_method")
    event = mention("rag?")
    await harness.post_event(event)
    await harness.api.wait_for("chat.update")
    await harness.api.settle()
    post = harness.api.calls_to("chat.postMessage")[0].params
    assert post["thread_ts"] == event["ts"]
    final = harness.api.calls_to("chat.update")[-1].params
    text = json.dumps(final["blocks"], ensure_ascii=False)
    assert "*RAG*" in text
    assert "<https://example.com/x|docs>" in text
    assert "<!here>" not in text
    assert any(b["type"] == "actions" for b in final["blocks"])
    assert harness.api.calls_to("assistant.threads.setStatus")[-1].params["status"] == ""


def _paragraphs(count: int) -> str:
    sentence = "Fine-tuning pays off when the format must never drift and prompts are maxed out. "
    return "\n\n".join(f"Paragraph {i}. " + sentence * 6 for i in range(count))


async def test_very_long_streamed_answer_is_split_cleanly(make_harness: MakeHarness) -> None:
    answer = _paragraphs(80)  # ~40,000 characters
    harness = await make_harness(ScriptedResponder(answer=answer, piece_chars=400))
    event = mention("tell me everything")
    await harness.post_event(event)
    await harness.api.wait_until(lambda: event["ts"] in harness.api.answered_threads(), 15)
    messages = harness.api.messages_in(event["ts"])
    assert len(messages) >= 4
    assert all(m.streamed and not m.streaming for m in messages)
    for message in messages:
        assert message.size() <= MESSAGE_TEXT_LIMIT
        assert message.text.rstrip().endswith(".")  # cut at a paragraph/sentence, never mid-word
    joined = "".join(m.text for m in messages)
    assert joined.replace("\n", "").replace(" ", "") == answer.replace("\n", "").replace(" ", "")
    # Only the last message carries the buttons.
    assert [bool(m.blocks) for m in messages] == [False] * (len(messages) - 1) + [True]


async def test_very_long_answer_fits_limits_in_the_fallback_too(
    make_harness: MakeHarness,
) -> None:
    # Ampersands and angle brackets grow when escaped: the budget counts them escaped.
    answer = _paragraphs(60).replace("format", "format & <schema>")
    harness = await make_harness(ScriptedResponder(answer=answer, piece_chars=800))
    harness.api.fail("chat.startStream", "unknown_method", times=10)
    event = mention("everything, no streaming")
    await harness.post_event(event)
    await harness.api.wait_until(lambda: event["ts"] in harness.api.answered_threads(), 15)
    messages = harness.api.messages_in(event["ts"])
    assert len(messages) >= 3
    assert not harness.api.calls_to("chat.startStream")[0].response.get("ok")
    for message in messages:
        assert message.size() <= MESSAGE_TEXT_LIMIT
        assert len(message.blocks) <= MAX_BLOCKS
        for block in message.blocks:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= SECTION_TEXT_LIMIT
    shown = "".join(json.dumps(m.blocks, ensure_ascii=False) for m in messages)
    assert shown.count("format &amp; &lt;schema&gt;") == answer.count("format & <schema>")
