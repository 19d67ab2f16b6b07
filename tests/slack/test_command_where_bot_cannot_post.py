"""/finetune-check where the bot may not post (a DM between two people, a private channel it is
not in): the user gets a visible reply through the command's response URL saying what to do."""

from __future__ import annotations

import pytest

from bot.slack.listeners.commands import CHECK_COMMAND
from tests.support.slack_api import BOT_USER_ID
from tests.support.slack_fixtures import MakeHarness
from tests.support.slack_requests import command_fields


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
@pytest.mark.parametrize("text", ["", "When is RAG better than fine-tuning?"])
async def test_the_user_is_told_to_invite_the_bot_or_use_a_dm(
    make_harness: MakeHarness, error: str, text: str
) -> None:
    harness = await make_harness(with_checklist=True)
    # Both the post and the ephemeral apology fail there, as Slack answers them.
    harness.api.fail("chat.postMessage", error, times=5)
    harness.api.fail("chat.postEphemeral", error, times=5)
    fields = command_fields(
        CHECK_COMMAND, text, channel="D0TWOPEOPLE", response_url=f"{harness.api.url}response"
    )
    status, _ = await harness.post_command(fields)
    assert status == 200
    [reply] = await harness.api.wait_for("response", within=5)
    await harness.api.settle()
    said = str(reply.params["text"])
    assert f"/invite <@{BOT_USER_ID}>" in said
    assert f"{CHECK_COMMAND} in a DM with me" in said
    assert reply.params["response_type"] == "ephemeral"
    assert "error id" not in said  # not a failure of ours: an explanation
    assert harness.checklist_calls == []
    assert harness.responder.questions == []
