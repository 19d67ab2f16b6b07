"""Escalation messages as Block Kit. Pure: an Escalation in, text and blocks out.

The mentions of the experts (and of the people involved, by their Slack ids) are the only live
tokens written here; every piece of text that came from a user, a document or the model goes
through `escape(neutralise_mentions(...))`, so a question containing `<!channel>` or
`<@U…>` reaches Slack as inert text.
"""

from __future__ import annotations

import re

from bot.escalation.models import Escalation, ExpertRoster
from bot.escalation.summary import clip
from bot.slack.blocks import ESCALATE_EXPERT, SECTION_TEXT_BUDGET, Block
from bot.slack.mrkdwn import escape, neutralise_mentions

ESCALATE_ACTION = ESCALATE_EXPERT
RESOLVE_ACTION = "escalation_resolve"
# The visible marker on the thread's first message while it waits for an expert.
MARKER_REACTION = "raising_hand"
RESOLVED_REACTION = "white_check_mark"

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")

NO_EXPERTS = (
    "No experts are set up for me to call yet. An admin can add them with "
    "`ADVISOR_EXPERT_USER_IDS` (Slack user ids) or `ADVISOR_EXPERT_GROUP_ID` (a user group id)."
)
NOT_IN_DM = (
    "I can only call an expert into a channel thread, where the experts can read it. Ask in a "
    "channel (for example with `/finetune-check <question>`), then press *Ask an expert* there."
)
ALREADY_OPEN = "This thread is already waiting for an expert."
ALREADY_RESOLVED = "This escalation has already been marked resolved."
EXPIRED = "That is too old to hand to an expert now. Ask again and press *Ask an expert*."
RESOLVE_EXPIRED = "This escalation is too old to change now."


def not_allowed(escalation: Escalation) -> str:
    return (
        "Only the experts or the person who asked "
        f"({user(escalation.asker_id)}) can mark this resolved."
    )


def user(user_id: str) -> str:
    """A mention of a user id Slack gave us; anything that is not an id stays inert text."""
    return f"<@{user_id}>" if _USER_ID.fullmatch(user_id) else escape(neutralise_mentions(user_id))


def expert_mentions(roster: ExpertRoster) -> str:
    """The experts' pings: the only mentions the advisor writes on purpose."""
    mentions = [f"<@{user_id}>" for user_id in sorted(roster.user_ids)]
    if roster.group_id is not None:
        mentions.append(f"<!subteam^{roster.group_id}>")
    return " ".join(mentions)


def _safe(text: str) -> str:
    return escape(neutralise_mentions(text))


def summary_text(escalation: Escalation) -> str:
    """The summary as mrkdwn: every field from a user, a document or the model made inert."""
    summary = escalation.summary
    lines = [f"*Question:* {_safe(summary.question)}" if summary.question else "*Question:* —"]
    if summary.latest:
        lines.append(f"*Latest question:* {_safe(summary.latest)}")
    if summary.verdict:
        lines.append(f"*Verdict:* {_safe(summary.verdict)}")
    if summary.facts:
        lines.append("*Facts read so far:*")
        lines.extend(f"• {_safe(fact)}" for fact in summary.facts)
    if summary.guidance:
        lines.append(f"*What the guidance said:* {_safe(summary.guidance)}")
    if summary.sources:
        lines.append(f"*Sources:* {_safe('; '.join(summary.sources))}")
    asked = f"*Asked by:* {user(escalation.asker_id)}"
    if escalation.requested_by != escalation.asker_id:
        asked += f" · expert requested by {user(escalation.requested_by)}"
    lines.append(asked)
    return clip_section("\n".join(lines))


def clip_section(text: str) -> str:
    return text if len(text) <= SECTION_TEXT_BUDGET else text[: SECTION_TEXT_BUDGET - 1] + "…"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def escalation_message(escalation: Escalation, roster: ExpertRoster) -> tuple[str, list[Block]]:
    """The message in the thread: the experts' mentions, the summary, the resolve button."""
    mentions = expert_mentions(roster)
    question = _safe(clip(escalation.summary.question or "this thread", 150))
    text = f"{mentions} An expert is needed in this thread: {question}"
    blocks = [
        _section(
            f":{MARKER_REACTION}: {mentions} could one of you take a look? "
            f"{user(escalation.requested_by)} asked for an expert."
        ),
        _section(summary_text(escalation)),
        _context(
            "I'll stay out of this thread until someone mentions me. An expert or "
            f"{user(escalation.asker_id)} can mark it resolved."
        ),
        {
            "type": "actions",
            "block_id": f"escalation:{escalation.escalation_id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": RESOLVE_ACTION,
                    "value": escalation.escalation_id,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Mark resolved", "emoji": True},
                }
            ],
        },
    ]
    return text, blocks


def resolved_line(escalation: Escalation) -> str:
    resolution = escalation.resolution
    if resolution is None:
        return ""
    replies = len(resolution.replies)
    kept = f"{replies} repl{'y' if replies == 1 else 'ies'} kept with the escalation"
    if not resolution.replies_complete:
        kept += " (the thread could not be read in full)"
    return (
        f":{RESOLVED_REACTION}: Resolved by {user(resolution.resolved_by)} "
        f"({resolution.role}); {kept}."
    )


def resolved_message(escalation: Escalation) -> tuple[str, list[Block]]:
    """The escalation message once resolved: no more pings, no button."""
    line = resolved_line(escalation)
    return "Escalation resolved", [_section(line), _section(summary_text(escalation))]


def resolved_note(escalation: Escalation) -> str:
    resolution = escalation.resolution
    who = user(resolution.resolved_by) if resolution else "Someone"
    return f":{RESOLVED_REACTION}: {who} marked this resolved. I'll answer follow-ups here again."


def listing_message(
    escalation: Escalation, permalink: str | None, *, resolved: bool = False
) -> tuple[str, list[Block]]:
    """The copy in the escalation channel: where, the summary, a link to the thread. It names
    no experts (they are pinged in the thread), so nobody is pinged twice."""
    where = (
        f"<#{escalation.channel_id}>"
        if _CHANNEL_ID.fullmatch(escalation.channel_id)
        else _safe(escalation.channel_id)
    )
    head = resolved_line(escalation) if resolved else f":{MARKER_REACTION}: Escalation in {where}"
    link = ""
    if permalink and permalink.startswith("https://"):
        link = f"\n<{escape(permalink).replace('|', '%7C')}|Open the thread>"
    blocks = [_section(head + link), _section(summary_text(escalation))]
    return ("Escalation resolved" if resolved else "New escalation"), blocks
