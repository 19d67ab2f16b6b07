"""Block Kit for the decision checklist: the question message, button values, the history list.

Pure functions. Button values are compact JSON (`{"q": question, "o": option, "r": revision}`)
decoded strictly: anything else is "unreadable" and the flow answers it with a polite message.
Where a click lands (team, channel, thread) always comes from the payload, never from a value.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.checklist import outcomes
from bot.checklist.decisions import DecisionReport
from bot.checklist.definition import Checklist, Question
from bot.checklist.engine import Progress, Session
from bot.checklist.history import Decision
from bot.checklist.scoring import Result
from bot.slack.blocks import (
    MAX_BLOCKS,
    MESSAGE_TEXT_BUDGET,
    SECTION_TEXT_BUDGET,
    Block,
    blocks_text_size,
    fit_blocks,
    split_text,
)
from bot.slack.mrkdwn import escape

ANSWER_PREFIX = "checklist_answer:"  # + option index: action ids must be unique in a block
BACK = "checklist_back"
RESTART = "checklist_restart"
SHARE = "checklist_share"
EXPORT = "checklist_export"
BUTTON_TEXT_LIMIT = 75  # Slack's limit for a button's plain_text


class ButtonValue(BaseModel):
    # Strict: "1" is not a revision and a list is not an id; a forged value is simply unreadable.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    r: int = Field(ge=0)  # the session revision the message showed
    q: str | None = Field(None, max_length=64)
    o: str | None = Field(None, max_length=64)


def encode_value(
    revision: int, question_id: str | None = None, option_id: str | None = None
) -> str:
    value = ButtonValue(r=revision, q=question_id, o=option_id)
    return json.dumps(value.model_dump(exclude_none=True), separators=(",", ":"))


def decode_value(raw: object) -> ButtonValue | None:
    """The value, or None for anything that is not exactly what `encode_value` writes."""
    if not isinstance(raw, str) or len(raw) > 500:
        return None
    try:
        return ButtonValue.model_validate_json(raw)
    except ValidationError:
        return None


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def button(
    label: str,
    action_id: str,
    value: str,
    *,
    style: str | None = None,
    confirm: Block | None = None,
) -> Block:
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "value": value,
        "text": {"type": "plain_text", "text": clip(label, BUTTON_TEXT_LIMIT), "emoji": True},
    }
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def sections(mrkdwn: str) -> list[Block]:
    """mrkdwn as section blocks, each under Slack's 3,000-character section limit."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": piece}}
        for piece in split_text(mrkdwn, SECTION_TEXT_BUDGET)
        if piece
    ]


def context(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(mrkdwn, 2900)}]}


def who(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "someone"


READ_MARK = "read from the message"
READ_NOTE = (
    f":memo: Answers marked _{READ_MARK}_ were taken from what you wrote. "
    "To change one, press Back until it is asked again."
)
EVIDENCE_LIMIT = 120


def answered_by(user_id: str | None, inferred_from: str | None) -> str:
    """Who gave an answer: a mention, or the user's own words when it was read from a message."""
    if inferred_from:
        return f"_{READ_MARK}_ (“{escape(clip(inferred_from, EVIDENCE_LIMIT))}”)"
    return who(user_id)


def answered_lines(checklist: Checklist, session: Session) -> list[str]:
    """One line per answer with who gave it, so a thread of several people can follow along."""
    lines = []
    for answer in session.answers:
        question = checklist.question(answer.question_id)
        option = question.option(answer.option_id) if question else None
        if question is None or option is None:  # the engine checked the session already
            continue
        by = answered_by(answer.user_id, answer.inferred_from)
        lines.append(f"• {escape(question.text)} *{escape(option.label)}* — {by}")
    return lines


RESTART_CONFIRM: Block = {
    "title": {"type": "plain_text", "text": "Restart the checklist?"},
    "text": {"type": "mrkdwn", "text": "Every answer in this thread is cleared."},
    "confirm": {"type": "plain_text", "text": "Restart"},
    "deny": {"type": "plain_text", "text": "Keep answers"},
}


def question_blocks(
    checklist: Checklist, session: Session, question: Question, progress: Progress
) -> list[Block]:
    """The one checklist message while questions remain: question, options, help, who answered."""
    step = f"Question {progress.answered + 1} of {progress.total}"
    blocks: list[Block] = [
        *sections(f"*{escape(checklist.title)}* · {step}\n*{escape(question.text)}*"),
        {
            "type": "actions",
            "block_id": f"checklist_options:{session.revision}",
            "elements": [
                button(
                    option.label,
                    f"{ANSWER_PREFIX}{index}",
                    encode_value(session.revision, question.id, option.id),
                )
                for index, option in enumerate(question.options[:25])
            ],
        },
        context(f":bulb: *Why we ask:* {escape(question.help)}"),
    ]
    lines = answered_lines(checklist, session)
    if lines:
        blocks += sections("*Answered so far*\n" + "\n".join(lines))
    if any(answer.inferred_from for answer in session.answers):
        blocks.append(context(READ_NOTE))
    navigation = [
        button("Restart", RESTART, encode_value(session.revision), confirm=RESTART_CONFIRM)
    ]
    if session.answers:
        navigation.insert(0, button("Back", BACK, encode_value(session.revision)))
    blocks.append({"type": "actions", "block_id": "checklist_nav", "elements": navigation})
    return fit_blocks(blocks[:-1], blocks[-1:])


def question_text(question: Question, progress: Progress) -> str:
    """Notification and screen-reader text for the question message (Slack parses it too)."""
    step = f"question {progress.answered + 1} of {progress.total}"
    return f"Decision checklist, {step}: {escape(question.text)}"


def _date(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d")


def history_blocks(report: DecisionReport, now: float) -> list[Block]:
    """This channel's recent decisions, each with how it turned out, then a line per outcome."""
    if not report.decisions:
        return sections(
            "No decisions recorded in this channel yet. Run `/finetune-check` to start one."
        )
    lines = []
    for decision in report.decisions:
        by = ", ".join(who(u) for u in decision.user_ids) or "someone"
        where = f" · <{decision.permalink}|thread>" if _safe_link(decision.permalink) else ""
        lines.append(
            f"• {_date(decision.decided_at)} · *{escape(decision.label)}* · by {by}{where}"
            f" · _{escape(_turned_out(decision, now))}_"
        )
    summary = "\n".join(f"• {escape(s.line)}" for s in report.summary)
    return sections("*Recent decisions in this channel*\n" + "\n".join(lines)) + sections(
        f"*How decisions turned out*\n{summary}"
    )


def _turned_out(decision: Decision, now: float) -> str:
    outcome = decision.outcome
    if outcome is not None and outcomes.reported(outcome):
        return outcomes.describe(outcome)
    followup = decision.followup
    if followup is not None and followup.post_at > now:
        return f"follow-up due {_date(followup.post_at)}"
    return "no answer yet" if followup is not None else "no follow-up"


def _safe_link(url: str | None) -> bool:
    return bool(url) and str(url).startswith("https://") and not any(c in str(url) for c in "<>|")


# -- the result ---------------------------------------------------------------------------------

MAX_FLIPS = 8  # enough to show what matters; the exported record has them all


def _cites(cites: Sequence[str]) -> str:
    return ", ".join(f"`{escape(doc)}`" for doc in cites)


def _result_body(result: Result) -> list[str]:
    parts = [escape(result.summary)]
    if result.deciding_answers:
        parts.append(
            "*Deciding answers*\n"
            + "\n".join(
                f"• {escape(d.question)} *{escape(d.option)}*" for d in result.deciding_answers
            )
        )
    if result.reasons:
        parts.append(
            "*Why*\n"
            + "\n".join(f"• {escape(r.rationale)} _({_cites(r.cites)})_" for r in result.reasons)
        )
    if result.warnings:
        parts.append(
            "*:warning: Watch out*\n"
            + "\n".join(f"• {escape(w.text)} _({_cites(w.cites)})_" for w in result.warnings)
        )
    steps = (f"{n}. {escape(step)}" for n, step in enumerate(result.next_steps, start=1))
    parts.append("*Next steps*\n" + "\n".join(steps))
    flips = [
        f"• {escape(f.question)} *{escape(f.to_option)}* instead of _{escape(f.from_option)}_"
        f" → *{escape(f.new_label)}*"
        for f in result.what_would_change[:MAX_FLIPS]
    ]
    if len(result.what_would_change) > MAX_FLIPS:
        flips.append(
            f"…and {len(result.what_would_change) - MAX_FLIPS} more in the decision record"
        )
    parts.append(
        "*What would change it*\n"
        + ("\n".join(flips) or "No single changed answer changes the recommendation.")
    )
    answers = (
        f"• {escape(a.question)} *{escape(a.option)}* — {answered_by(a.user_id, a.inferred_from)}"
        for a in result.answers
    )
    parts.append("*Answers*\n" + "\n".join(answers))
    return parts


def result_blocks(result: Result, revision: int) -> list[Block]:
    """The checklist message once complete; stays within 50 blocks and 3,000 chars a section."""
    header: Block = {
        "type": "header",
        "text": {"type": "plain_text", "text": clip(f"Recommendation: {result.label}", 150)},
    }
    body = [header] + [block for part in _result_body(result) for block in sections(part)]
    scores = " · ".join(f"{escape(s.label)} {s.score}" for s in result.scores)
    value = encode_value(revision)
    footer = [
        context(f"Scores: {scores} · checklist {escape(result.checklist_version)}"),
        {
            "type": "actions",
            "block_id": "checklist_result",
            "elements": [
                button("Share to channel", SHARE, value, style="primary"),
                button("Export decision record", EXPORT, value),
                button("Start over", RESTART, value, confirm=RESTART_CONFIRM),
            ],
        },
    ]
    return fit_blocks(body, footer)


def result_text(result: Result) -> str:
    """Notification text for the result and the shared summary (Slack parses it too)."""
    return f"Decision checklist result: {escape(result.label)}. {escape(result.summary)}"


def share_blocks(result: Result, user_id: str, permalink: str | None) -> list[Block]:
    """The channel summary: the decision, its top reasons and a link to the full thread."""
    reasons = "\n".join(
        f"• {escape(r.rationale)} _({_cites(r.cites)})_" for r in result.reasons[:3]
    )
    text = f"*Decision checklist: {escape(result.label)}*\n{escape(result.summary)}"
    blocks = sections(text) + (sections(f"*Top reasons*\n{reasons}") if reasons else [])
    people = [who(a.user_id) for a in result.answers if not a.inferred_from]
    read = [f"_{READ_MARK}_"] if len(people) < len(result.answers) else []
    answered = ", ".join(dict.fromkeys([*people, *read]))
    link = f" · <{permalink}|See the full result>" if _safe_link(permalink) else ""
    blocks.append(context(f"Shared by {who(user_id)} · answered by {answered}{link}"))
    return blocks


def record_messages(markdown: str) -> list[list[Block]]:
    """The decision record as code blocks, the fallback when a file cannot be uploaded: as many
    messages as it takes, each under Slack's text limit per message."""
    pieces = split_text(escape(markdown), SECTION_TEXT_BUDGET - 6)
    intro = sections("*Decision record* (Markdown, ADR style; copy it into your decisions folder)")
    messages: list[list[Block]] = [intro]
    for piece in pieces:
        block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": f"```{piece}```"}}
        current = messages[-1]
        full = len(current) >= MAX_BLOCKS or (
            blocks_text_size([*current, block]) > MESSAGE_TEXT_BUDGET
        )
        if full:
            messages.append([block])
        else:
            current.append(block)
    return messages
