"""Slack requests as Slack sends them: signed bodies, event envelopes, slash commands, clicks.

Pure builders with no pytest and no I/O, shared by the test harness, the process tests and the
benchmarks.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from tests.support.slack_api import BOT_USER_ID, TEAM_ID

SIGNING_SECRET = "test-signing-secret"
CHANNEL = "C0CHANNEL"
USER = "U0HUMAN"
_ids = itertools.count(1)
# Ids unique across processes too: a benchmark or a restarted bot may share one Redis, where an
# event id seen before is (rightly) ignored as one of Slack's retries.
_RUN = uuid.uuid4().hex[:8].upper()
_TS_BASE = int(time.time())


def sign(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """The two headers Slack adds to every HTTP request: timestamp and v0 HMAC signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def envelope(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": TEAM_ID,
        "api_app_id": "A0APP",
        "type": "event_callback",
        "event_id": event_id or f"Ev{_RUN}{next(_ids):06d}",
        "event_time": int(time.time()),
        "event": event,
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }


def message_event(
    text: str,
    *,
    kind: str = "message",
    channel: str = CHANNEL,
    user: str = USER,
    thread_ts: str | None = None,
    channel_type: str = "channel",
    **extra: Any,
) -> dict[str, Any]:
    ts = f"{_TS_BASE}.{next(_ids):06d}"
    event: dict[str, Any] = {
        "type": kind,
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "team": TEAM_ID,
        "channel_type": channel_type,
        "client_msg_id": f"cm-{_RUN}-{next(_ids)}",
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    event.update(extra)
    return event


def mention(question: str, **fields: Any) -> dict[str, Any]:
    """An `app_mention` event asking `question`."""
    return message_event(f"<@{BOT_USER_ID}> {question}", kind="app_mention", **fields)


def signed_event(
    event: dict[str, Any],
    *,
    event_id: str | None = None,
    retry_num: int | None = None,
    secret: str = SIGNING_SECRET,
) -> tuple[str, dict[str, str]]:
    """(body, headers) for an Events API delivery; `retry_num` marks one of Slack's retries."""
    body = json.dumps(envelope(event, event_id))
    headers = {"Content-Type": "application/json", **sign(body, secret=secret)}
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return body, headers


def signed_form(
    fields: dict[str, str], *, secret: str = SIGNING_SECRET
) -> tuple[str, dict[str, str]]:
    """(body, headers) for a form post: a slash command, or `{"payload": ...}` for clicks."""
    body = urlencode(fields)
    return body, {"Content-Type": "application/x-www-form-urlencoded", **sign(body, secret=secret)}


def command_fields(
    command: str,
    text: str = "",
    *,
    user: str = USER,
    channel: str = CHANNEL,
    channel_name: str = "general",
    response_url: str = "http://127.0.0.1:9/unused",
) -> dict[str, str]:
    return {
        "token": "legacy",
        "command": command,
        "text": text,
        "team_id": TEAM_ID,
        "channel_id": channel,
        "channel_name": channel_name,
        "user_id": user,
        "user_name": user.lower(),
        "api_app_id": "A0APP",
        "trigger_id": "1.2.3",
        "response_url": response_url,
    }


def click_payload(
    action_id: str,
    value: str,
    *,
    message_ts: str,
    thread_ts: str,
    channel: str = CHANNEL,
    user: str = USER,
) -> dict[str, Any]:
    """A `block_actions` payload for a button on a message in a thread."""
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": user},
        "api_app_id": "A0APP",
        "trigger_id": "trig",
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel, "message_ts": message_ts},
        "message": {"ts": message_ts, "thread_ts": thread_ts},
        "actions": [{"action_id": action_id, "value": value, "type": "button", "block_id": "b"}],
    }


def view_submission(
    view: dict[str, Any], block_id: str, action_id: str, value: str, *, user: str = USER
) -> dict[str, Any]:
    """A `view_submission` payload for `view` with one input filled in."""
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID},
        "user": {"id": user},
        "api_app_id": "A0APP",
        "view": {**view, "state": {"values": {block_id: {action_id: {"value": value}}}}},
    }
