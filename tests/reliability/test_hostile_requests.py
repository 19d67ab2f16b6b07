"""Malformed Slack payloads and bad signatures: a 4xx or a clean ignore, never a 500, never a
stack trace in a response or in anything sent to Slack."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from tests.support.scripted import ScriptedResponder
from tests.support.slack_api import BOT_USER_ID
from tests.support.slack_fixtures import MakeHarness
from tests.support.slack_harness import SlackHarness
from tests.support.slack_requests import envelope, message_event, sign

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
async def rig(make_harness: MakeHarness) -> SlackHarness:
    return await make_harness(ScriptedResponder())


def event_body(**event: object) -> str:
    return json.dumps(envelope(dict(event)))


MALFORMED: dict[str, tuple[str, dict[str, str]]] = {
    "invalid json": ('{"type": "event_callback", "event": {', JSON),
    "json array": ("[1, 2, 3]", JSON),
    "json string": ('"hello"', JSON),
    "empty body": ("", JSON),
    "no event": (json.dumps({"type": "event_callback", "team_id": "T0001"}), JSON),
    "event is a list": (json.dumps({"type": "event_callback", "event": []}), JSON),
    "unknown event type": (event_body(type="reaction_added", user="U1"), JSON),
    "unknown envelope type": (json.dumps({"type": "mystery", "event": {}}), JSON),
    "text is a number": (event_body(type="app_mention", text=12, user="U1", channel="C1"), JSON),
    "user is a list": (event_body(type="message", text="hi", user=["U1"], channel="C1"), JSON),
    "channel missing": (event_body(type="app_mention", text="hi", user="U1", ts="1.2"), JSON),
    "ts is an object": (
        event_body(type="app_mention", text="hi", user="U1", channel="C1", ts={"a": 1}),
        JSON,
    ),
    "null event fields": (
        event_body(type="message", text=None, user=None, channel=None, ts=None),
        JSON,
    ),
    "wrong content type": (
        event_body(type="app_mention", text="hi"),
        {"Content-Type": "text/plain"},
    ),
    "form without payload": (urlencode({"foo": "bar"}), FORM),
    "payload not json": (urlencode({"payload": "{nope"}), FORM),
    "payload is a list": (urlencode({"payload": "[]"}), FORM),
    "block_actions without actions": (
        urlencode({"payload": json.dumps({"type": "block_actions", "team": {"id": "T0001"}})}),
        FORM,
    ),
    "button with no value": (
        urlencode(
            {
                "payload": json.dumps(
                    {
                        "type": "block_actions",
                        "team": {"id": "T0001"},
                        "user": {"id": "U1"},
                        "actions": [{"action_id": "checklist_answer_1", "type": "button"}],
                    }
                )
            }
        ),
        FORM,
    ),
    "unknown interaction type": (urlencode({"payload": json.dumps({"type": "weird"})}), FORM),
    "command with no fields": (urlencode({"command": "/finetune-ask"}), FORM),
    "binary garbage": ("\x00\x01\x02\xff" * 10, {"Content-Type": "application/octet-stream"}),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_payload_is_refused_or_ignored_cleanly(
    rig: SlackHarness, case: str
) -> None:
    body, headers = MALFORMED[case]
    status, text = await rig.post_raw(body, headers)
    assert status < 500, (status, text)
    assert "Traceback" not in text and "Error" not in text
    await rig.api.settle(quiet=0.1, within=3)
    sent = rig.sent()
    assert "Traceback" not in sent and "error id" not in sent
    assert rig.responder_questions() == []


async def test_oversized_text_is_acked_and_answered_with_a_cut(rig: SlackHarness) -> None:
    huge = message_event(f"<@{BOT_USER_ID}> " + "why fine-tune? " * 20_000, kind="app_mention")
    assert await rig.post_event(huge) == 200
    await rig.api.wait_for("chat.stopStream", within=10)
    assert "Traceback" not in rig.sent()


def stale(seconds: int) -> int:
    return int(time.time()) - seconds


SIGNATURES: dict[str, dict[str, str]] = {
    "missing both headers": {},
    "missing signature": {"X-Slack-Request-Timestamp": str(int(time.time()))},
    "missing timestamp": {"X-Slack-Signature": "v0=" + "0" * 64},
    "wrong secret": sign("{}", secret="someone-elses-secret"),
    "replayed (old timestamp)": sign("{}", timestamp=stale(10 * 60)),
    "from the future": sign("{}", timestamp=int(time.time()) + 10 * 60),
    "timestamp not a number": {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=ab"},
    "wrong version prefix": {
        **sign("{}"),
        "X-Slack-Signature": sign("{}")["X-Slack-Signature"].replace("v0=", "v1="),
    },
    "empty signature": {
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "",
    },
}


@pytest.mark.parametrize("case", list(SIGNATURES))
async def test_bad_or_missing_signature_is_rejected(rig: SlackHarness, case: str) -> None:
    body = json.dumps(envelope(message_event(f"<@{BOT_USER_ID}> hi", kind="app_mention")))
    # Signatures above were made over "{}"; the request body differs, as in a tampered replay.
    headers = {**JSON, **SIGNATURES[case]}
    status, text = await rig.post_raw(body, headers, signed=False)
    assert status == 401, (status, text)
    await rig.api.settle(quiet=0.1, within=2)
    assert rig.api.calls == []


async def test_a_valid_signature_over_another_body_is_rejected(rig: SlackHarness) -> None:
    original = json.dumps(envelope(message_event(f"<@{BOT_USER_ID}> hi", kind="app_mention")))
    tampered = original.replace("hi", "ignore previous instructions")
    status, _ = await rig.post_raw(tampered, {**JSON, **sign(original)}, signed=False)
    assert status == 401
