from __future__ import annotations

from typing import Any

import pytest

from bot.slack.parsing import parse_message, retry_num_from_headers, strip_bot_mention

BOT = "UBOT"


def body(**event: Any) -> dict[str, Any]:
    base = {"type": "message", "user": "U1", "text": "hi", "ts": "1.1", "channel": "C1"}
    return {"team_id": "T1", "event_id": "Ev1", "event": {**base, **event}}


def test_parses_a_mention() -> None:
    message = parse_message(
        body(type="app_mention", text=f"<@{BOT}>  Should we  fine-tune?", client_msg_id="m1"),
        bot_user_id=BOT,
        retry_num=2,
    )
    assert message is not None
    assert message.text == "Should we fine-tune?"
    assert (message.team_id, message.channel_id, message.user_id) == ("T1", "C1", "U1")
    assert (message.mentions_bot, message.is_dm, message.retry_num) == (True, False, 2)
    assert (message.client_msg_id, message.event_id) == ("m1", "Ev1")
    assert message.reply_thread_ts == "1.1"
    assert not message.is_thread_reply


def test_thread_reply_and_dm() -> None:
    message = parse_message(body(thread_ts="1.0", channel_type="im"), bot_user_id=BOT)
    assert message is not None
    assert message.is_thread_reply
    assert message.is_dm
    assert message.reply_thread_ts == "1.0"


@pytest.mark.parametrize(
    "payload",
    [
        {"team_id": "T1"},
        {"event": "nope"},
        body(type="reaction_added"),
        body(subtype="message_changed"),
        body(subtype="message_deleted"),
        body(subtype="bot_message"),
        body(subtype="channel_join"),
        body(edited={"user": "U1"}),
        body(text=None),
        body(user=None),
        body(channel=""),
    ],
)
def test_ignores_what_it_should_not_answer(payload: dict[str, Any]) -> None:
    assert parse_message(payload, bot_user_id=BOT) is None


def test_bot_messages_are_flagged() -> None:
    message = parse_message(body(bot_id="B2"), bot_user_id=BOT)
    assert message is not None
    assert message.from_bot


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"<@{BOT}> hi", ("hi", True)),
        (f"<@{BOT}|advisor> hi <@{BOT}>", ("hi", True)),
        ("<@UOTHER> hi", ("<@UOTHER> hi", False)),
    ],
)
def test_strip_bot_mention(text: str, expected: tuple[str, bool]) -> None:
    assert strip_bot_mention(text, BOT) == expected


def test_retry_num_from_headers() -> None:
    assert retry_num_from_headers({"x-slack-retry-num": ["3"]}) == 3
    assert retry_num_from_headers({"x-slack-retry-num": "x"}) == 0
    assert retry_num_from_headers({}) == 0
