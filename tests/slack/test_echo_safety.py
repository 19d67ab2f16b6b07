"""What a user sent, echoed back in Slack: the question copy of a slash command or a suggested
prompt, a checklist note quoting a forged button value, an admin's unknown argument, an error
message. Control and bidi-override characters are stripped, and nothing in it is live markup."""

from __future__ import annotations

import json
import re

from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UserFacingError
from bot.slack.guard import Where, report_failure
from bot.slack.listeners.home import SUGGESTED_PROMPT_ACTION

# Fixtures of the admin and checklist suites, reused here.
from tests.ops.admin_harness import admin_env as admin_env
from tests.slack.test_admin_command import AdminSlack
from tests.slack.test_admin_command import slack as slack
from tests.slack.test_checklist_flow import Checklist
from tests.slack.test_checklist_flow import checklist as checklist
from tests.slack.test_checklist_flow import make_checklist as make_checklist
from tests.support.slack_api import TEAM_ID, MockSlackApi
from tests.support.slack_harness import SlackHarness
from tests.support.slack_requests import CHANNEL, USER, command_fields

ZWJ = "\u200d"
HOSTILE_QUESTION = "what is\x00 LoRA \u202erank\u202c <!channel> <@U999|boss> \u2066x\u2069?"
# Characters that must never be echoed: C0/C1 controls (tab and newline aside), bidi controls.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
LIVE = re.compile(r"<[@#!]|<[A-Za-z][\w+.-]*:")


def assert_echo_safe(text: str) -> None:
    assert not UNSAFE.search(text), repr(text)
    assert not LIVE.search(text.replace(f"<@{USER}>", "")), text  # only the asker's own mention
    assert f"@{ZWJ}channel" in text and f"@{ZWJ}boss" in text, text
    assert "what is LoRA rank" in text, text


async def test_a_slash_command_question_is_echoed_safely(harness: SlackHarness) -> None:
    status, _ = await harness.post_command(command_fields("/finetune-check", HOSTILE_QUESTION))
    assert status == 200
    echo = (await harness.api.wait_for("chat.postMessage"))[0]
    text = str(echo.params["text"])
    assert text.startswith(f"<@{USER}> asked: ")
    assert_echo_safe(text)
    # The question itself reached the advisor as typed.
    await harness.api.wait_for("chat.stopStream", within=10)
    assert harness.responder_questions() == [HOSTILE_QUESTION.strip()]


async def test_a_suggested_prompt_value_is_echoed_safely(harness: SlackHarness) -> None:
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": USER},
        "api_app_id": "A0APP",
        "trigger_id": "trig",
        "channel": {"id": "D0DM"},
        "container": {"type": "message", "channel_id": "D0DM", "message_ts": "1.1"},
        "message": {"ts": "1.1"},
        "actions": [
            {"action_id": f"{SUGGESTED_PROMPT_ACTION}:0", "value": HOSTILE_QUESTION, "type": "b"}
        ],
    }
    assert await harness.post_interaction(payload) == 200
    echo = (await harness.api.wait_for("chat.postMessage"))[0]
    assert_echo_safe(str(echo.params["text"]))


async def test_a_forged_question_id_is_not_echoed_live(checklist: Checklist) -> None:
    forged = json.dumps({"r": 0, "q": "<!channel> \u202egnp.exe\x00", "o": "x"})
    await checklist.click(checklist.option(), value=forged)
    [said] = checklist.ephemerals()
    assert "unknown question id" in said
    assert "<!channel>" not in said and f"@{ZWJ}channel" in said
    assert not UNSAFE.search(said), repr(said)
    assert "Question 1 of" in checklist.text()


async def test_an_unknown_admin_argument_is_not_echoed_live(slack: AdminSlack) -> None:
    status, body = await slack.command("reindex <!channel>\u202e")
    assert status == 200
    assert "is not an option of reindex" in body
    assert "<!channel>" not in body and f"@{ZWJ}channel" in body
    assert "\u202e" not in body


async def test_an_error_message_quoting_user_text_is_escaped() -> None:
    async with MockSlackApi() as api:
        client = AsyncWebClient(token="xoxb-test", base_url=api.url)
        where = Where("test", TEAM_ID, CHANNEL, "1.1", USER)
        failure = UserFacingError("No such option '<!here>\u202e\x07'")
        error_id = await report_failure(client, where, failure)
        [posted] = api.calls_to("chat.postMessage")
    text = str(posted.params["text"])
    assert text == f"No such option '@{ZWJ}here' (error id `{error_id}`)"
