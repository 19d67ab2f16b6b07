"""Slack event payloads -> `IncomingMessage`. Anything we cannot or should not answer is None."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Subtypes that carry a fresh human message; everything else (edits, deletions, joins, bot
# messages, channel topic changes...) is ignored.
_ANSWERABLE_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
_SLACK_ID = r"[A-Z0-9]+"


class IncomingMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    team_id: str = Field(min_length=1)
    channel_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    text: str  # the bot mention removed, whitespace trimmed
    ts: str = Field(min_length=1)
    thread_ts: str | None = None  # set when the message is itself a reply in a thread
    is_dm: bool = False
    mentions_bot: bool = False
    client_msg_id: str | None = None
    event_id: str | None = None
    retry_num: int = 0
    from_bot: bool = False

    @property
    def reply_thread_ts(self) -> str:
        """Where the answer goes: the existing thread, or a new thread under this message."""
        return self.thread_ts or self.ts

    @property
    def is_thread_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts


def parse_message(
    body: Mapping[str, Any], *, bot_user_id: str | None, retry_num: int = 0
) -> IncomingMessage | None:
    """Parse an Events API envelope whose event is `message` or `app_mention`."""
    event = body.get("event")
    if not isinstance(event, Mapping):
        return None
    if event.get("type") not in ("message", "app_mention"):
        return None
    if event.get("subtype") not in _ANSWERABLE_SUBTYPES or "edited" in event:
        return None
    raw_text = event.get("text")
    if not isinstance(raw_text, str):
        return None
    team_id = event.get("team") or body.get("team_id")
    text, mentioned = strip_bot_mention(raw_text, bot_user_id)
    channel_type = event.get("channel_type")
    try:
        return IncomingMessage(
            team_id=team_id,
            channel_id=event.get("channel"),
            user_id=event.get("user"),
            text=text,
            ts=event.get("ts"),
            thread_ts=event.get("thread_ts"),
            is_dm=channel_type == "im",
            mentions_bot=mentioned or event.get("type") == "app_mention",
            client_msg_id=event.get("client_msg_id"),
            event_id=body.get("event_id"),
            retry_num=max(0, retry_num),
            from_bot=bool(event.get("bot_id")) or event.get("bot_profile") is not None,
        )
    except ValidationError:
        return None


def strip_bot_mention(text: str, bot_user_id: str | None) -> tuple[str, bool]:
    """Remove every `<@BOT>` (with optional `|name`) and say whether one was there."""
    if not bot_user_id or not re.fullmatch(_SLACK_ID, bot_user_id):
        return text.strip(), False
    pattern = re.compile(rf"<@{bot_user_id}(?:\|[^>]*)?>")
    stripped, count = pattern.subn("", text)
    return re.sub(r"[ \t]{2,}", " ", stripped).strip(), count > 0


def retry_num_from_headers(headers: Mapping[str, Any]) -> int:
    """Bolt normalises header names to lower case and values to lists."""
    value = headers.get("x-slack-retry-num")
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0
