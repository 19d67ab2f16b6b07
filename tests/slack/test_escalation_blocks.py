"""Escalation messages as Block Kit: pure builders, table-style."""

from __future__ import annotations

import json
import re

import pytest

from bot.escalation.models import Escalation, EscalationSummary, ExpertRoster, Resolution
from bot.slack.blocks import actions_block, answer_footer
from bot.slack.escalation_blocks import (
    ESCALATE_ACTION,
    RESOLVE_ACTION,
    escalation_message,
    expert_mentions,
    listing_message,
    resolved_message,
    user,
)

HOSTILE = "<!channel> @here <@U0VICTIM> <!subteam^S0ALL> <https://evil.example|x> & co"


def _escalation(**summary: object) -> Escalation:
    return Escalation(
        escalation_id="0123456789abcdef",
        team_id="T1",
        channel_id="C0CHAN",
        thread_ts="1.1",
        requested_by="U0ASKER",
        asker_id="U0ASKER",
        source="button",
        summary=EscalationSummary.model_validate(
            {"question": "Should we fine-tune?", "guidance": "Prompt first.", **summary}
        ),
        message_ts="1.2",
    )


def _tokens(value: object) -> set[str]:
    return set(re.findall(r"<[@!#][^>]*>", json.dumps(value)))


@pytest.mark.parametrize(
    ("roster", "mentions"),
    [
        (ExpertRoster(user_ids=frozenset({"U0B2", "U0A1"})), "<@U0A1> <@U0B2>"),
        (ExpertRoster(group_id="S0G1"), "<!subteam^S0G1>"),
        (ExpertRoster(user_ids=frozenset({"U0A1"}), group_id="S0G1"), "<@U0A1> <!subteam^S0G1>"),
    ],
)
def test_the_experts_are_mentioned_by_id(roster: ExpertRoster, mentions: str) -> None:
    assert expert_mentions(roster) == mentions


def test_only_bot_written_mentions_are_live_whatever_the_summary_holds() -> None:
    escalation = _escalation(
        question=HOSTILE,
        latest=HOSTILE,
        verdict=HOSTILE,
        facts=[HOSTILE],
        guidance=HOSTILE,
        sources=[HOSTILE],
    )
    roster = ExpertRoster(user_ids=frozenset({"U0EXPERT"}), group_id="S0EXPERTS")
    text, blocks = escalation_message(escalation, roster)
    expected = {"<@U0EXPERT>", "<!subteam^S0EXPERTS>", "<@U0ASKER>"}
    assert _tokens([text, blocks]) == expected
    shown = json.dumps(blocks, ensure_ascii=False)
    # The user's mention keeps its name, inert; the disguised link shows where it goes.
    assert "@\u200dU0VICTIM" in shown and "&amp; co" in shown
    assert "x (https://evil.example)" in shown


def test_the_escalation_message_carries_the_resolve_button() -> None:
    _, blocks = escalation_message(_escalation(), ExpertRoster(user_ids=frozenset({"U0A1"})))
    [actions] = [b for b in blocks if b["type"] == "actions"]
    [button] = actions["elements"]
    assert (button["action_id"], button["value"]) == (RESOLVE_ACTION, "0123456789abcdef")


def test_a_resolved_message_pings_nobody_new_and_has_no_button() -> None:
    resolved = _escalation().resolved(Resolution(resolved_by="U0EXPERT", role="expert"))
    _, blocks = resolved_message(resolved)
    assert _tokens(blocks) == {"<@U0EXPERT>", "<@U0ASKER>"}
    assert all(block["type"] != "actions" for block in blocks)
    assert "0 replies kept" in json.dumps(blocks)


def test_the_listing_links_the_thread_and_names_no_expert() -> None:
    _, blocks = listing_message(_escalation(), "https://x.slack.com/archives/C0CHAN/p11")
    shown = json.dumps(blocks)
    assert "<https://x.slack.com/archives/C0CHAN/p11|Open the thread>" in shown
    assert _tokens(blocks) == {"<#C0CHAN>", "<@U0ASKER>"}


def test_a_link_that_is_not_slack_s_https_is_left_out() -> None:
    _, blocks = listing_message(_escalation(), "javascript:alert(1)")
    assert "Open the thread" not in json.dumps(blocks)


def test_a_user_that_is_not_an_id_is_not_a_mention() -> None:
    assert user("U0ASKER") == "<@U0ASKER>"
    inert = user("<!channel>")
    assert "<" not in inert and "channel" in inert


@pytest.mark.parametrize("expert", [True, False])
def test_ask_an_expert_is_in_the_footer_only_with_experts(expert: bool) -> None:
    block = actions_block("abc123", checklist=False, expert=expert)
    assert (ESCALATE_ACTION in [e["action_id"] for e in block["elements"]]) is expert
    footer = answer_footer((), (), "abc123", checklist=False, expert=expert)
    assert footer[-1] == block
