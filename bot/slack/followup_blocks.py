"""Block Kit for the decision follow-up: the question, its buttons, the note modal. Pure.

Button values are compact JSON (`{"d": decision id, "a": answer}`) and the modal carries where
the decision lives in `private_metadata`; both are decoded strictly, so a forged value is simply
unreadable. Which thread a click applies to always comes from Slack's payload.
"""

from __future__ import annotations

import datetime
import json
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.checklist.history import NOTE_LIMIT, Decision
from bot.checklist.outcomes import CHOICES, LABELS, RESULTS, FollowUpPart, describe
from bot.slack.blocks import Block
from bot.slack.checklist_blocks import button, context, sections
from bot.slack.mrkdwn import escape

ACTION_PREFIX = "followup:"  # + the answer part: "followup:worked"
NOTE: FollowUpPart = "note"
NOTE_VIEW = "followup_note"
NOTE_BLOCK = "followup_note_block"
NOTE_INPUT = "followup_note_input"
_DECISION_ID = r"^[0-9a-f]{16}$"
M = TypeVar("M", bound=BaseModel)


class FollowUpValue(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    d: str = Field(pattern=_DECISION_ID)
    a: FollowUpPart


class NoteMetadata(BaseModel):
    """Where the decision whose note is being written lives (the modal's private_metadata)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    d: str = Field(pattern=_DECISION_ID)
    c: str = Field(min_length=1, max_length=64)
    t: str = Field(min_length=1, max_length=64)
    m: str | None = Field(None, max_length=64)  # the follow-up message, to refresh it


def encode(model: BaseModel) -> str:
    return json.dumps(model.model_dump(exclude_none=True), separators=(",", ":"))


def decode_value(raw: object) -> FollowUpValue | None:
    return _decode(FollowUpValue, raw)


def decode_metadata(raw: object) -> NoteMetadata | None:
    return _decode(NoteMetadata, raw)


def _decode(model: type[M], raw: object) -> M | None:
    if not isinstance(raw, str) or len(raw) > 500:
        return None
    try:
        return model.model_validate_json(raw)
    except ValidationError:
        return None


def _date(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d")


def followup_text(decision: Decision, user_id: str) -> str:
    """Notification text; the mention is the one ping the follow-up makes."""
    return (
        f"<@{user_id}>, how did the decision go? The checklist here recommended "
        f"{escape(decision.label)} on {_date(decision.decided_at)}."
    )


def followup_blocks(decision: Decision, user_id: str) -> list[Block]:
    """The follow-up as first posted, and as shown again after each answer (selections marked)."""
    outcome = decision.outcome
    chosen = {outcome.choice, outcome.result} if outcome else set()

    def row(block_id: str, parts: tuple[FollowUpPart, ...]) -> Block:
        elements = [
            button(
                LABELS[part],
                f"{ACTION_PREFIX}{part}",
                encode(FollowUpValue(d=decision.id, a=part)),
                style="primary" if part in chosen else None,
            )
            for part in parts
        ]
        return {"type": "actions", "block_id": block_id, "elements": elements}

    note_label = "Edit the note" if outcome and outcome.note else "Add a note"
    question = (
        f"<@{user_id}>, on {_date(decision.decided_at)} the decision checklist in this thread "
        f"recommended *{escape(decision.label)}*. What did you do, and how did it go?"
    )
    blocks: list[Block] = [
        *sections(question),
        row("followup_choice", CHOICES),
        row("followup_result", RESULTS),
        {
            "type": "actions",
            "block_id": "followup_more",
            "elements": [
                button(
                    note_label,
                    f"{ACTION_PREFIX}{NOTE}",
                    encode(FollowUpValue(d=decision.id, a=NOTE)),
                )
            ],
        },
    ]
    if outcome and (outcome.choice or outcome.result or outcome.note):
        recorded = f"Recorded: {describe(outcome)}"
        if outcome.note:
            recorded += f" · note: “{escape(outcome.note[:200])}”"
        blocks.append(context(recorded))
    else:
        blocks.append(
            context(f"Only <@{user_id}> can answer; the answer is kept with the decision.")
        )
    return blocks


def note_modal(metadata: NoteMetadata, note: str | None) -> Block:
    element: Block = {
        "type": "plain_text_input",
        "action_id": NOTE_INPUT,
        "multiline": True,
        "max_length": NOTE_LIMIT,
    }
    if note:
        element["initial_value"] = note
    return {
        "type": "modal",
        "callback_id": NOTE_VIEW,
        "private_metadata": encode(metadata),
        "title": {"type": "plain_text", "text": "How it went"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": NOTE_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "Anything the next team should know?"},
                "element": element,
            }
        ],
    }
