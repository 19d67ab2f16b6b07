"""Block Kit builders and Slack's size limits. Pure functions: data in, JSON-ready dicts out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from bot.models import Citation
from bot.slack.mrkdwn import escape, neutralise_mentions, to_mrkdwn

Block = dict[str, Any]

MAX_BLOCKS = 50
SECTION_TEXT_LIMIT = 3000
# Slack's total for one message: `markdown_text` and mrkdwn blocks are documented at 12,000
# characters, and chat.postMessage answers msg_blocks_too_long a little above that. Counted here
# as the `text` plus every text in the blocks.
MESSAGE_TEXT_LIMIT = 12_000
# One message's share of an answer, measured after conversion and escaping; the rest of
# MESSAGE_TEXT_LIMIT is for the notification text, and the footer when it fits.
MESSAGE_TEXT_BUDGET = 10_000
SECTION_TEXT_BUDGET = 2_900
MAX_SOURCES = 8

FEEDBACK_HELPFUL = "feedback_helpful"
FEEDBACK_NOT_HELPFUL = "feedback_not_helpful"
CHECKLIST_START = "checklist_start"
# Under an answer that carries a verdict: the checklist with the answers read from the thread.
CHECKLIST_CONFIRM = "checklist_confirm"
ESCALATE_EXPERT = "escalate_expert"
FEEDBACK_REASON_VIEW = "feedback_reason"
FEEDBACK_REASON_BLOCK = "reason"
FEEDBACK_REASON_INPUT = "reason_input"

_SENTENCE_END = re.compile(r"[.!?][)\"'”’]*\s+")


def split_point(text: str, limit: int) -> int:
    """Where to cut `text` so the head fits in `limit`: paragraph, line, sentence, word, hard."""
    if len(text) <= limit:
        return len(text)
    window = text[:limit]
    floor = limit // 3  # a cut this early would leave a stub message; prefer a finer boundary
    for separator in ("\n\n", "\n"):
        cut = window.rfind(separator)
        if cut >= floor:
            return cut + len(separator)
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    if sentence_ends and sentence_ends[-1] >= floor:
        return sentence_ends[-1]
    space = window.rfind(" ")
    return space + 1 if space >= floor else limit


def split_text(text: str, limit: int) -> list[str]:
    """Split into pieces of at most `limit` characters at the cleanest boundaries available."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = split_point(rest, limit)
        head = rest[:cut].rstrip()
        if head:
            pieces.append(head)
        rest = rest[cut:].lstrip("\n ")
    if rest.strip():
        pieces.append(rest.rstrip())
    return pieces or [""]


def text_sections(markdown: str) -> list[Block]:
    """The answer as mrkdwn section blocks, each under Slack's 3,000-character section limit."""
    mrkdwn = to_mrkdwn(markdown)
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": piece}}
        for piece in split_text(mrkdwn, SECTION_TEXT_BUDGET)
        if piece
    ]


def sources_blocks(citations: Sequence[Citation]) -> list[Block]:
    if not citations:
        return []
    lines = [_source_line(citation) for citation in citations[:MAX_SOURCES]]
    more = len(citations) - MAX_SOURCES
    if more > 0:
        lines.append(f"…and {more} more")
    text = "*Sources*\n" + "\n".join(lines)
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text)}]}]


def _source_line(citation: Citation) -> str:
    title = escape(neutralise_mentions(citation.title)) or escape(citation.source)
    if citation.url and citation.url.lower().startswith(("http://", "https://")):
        url = escape(citation.url).replace("|", "%7C")
        # The host is shown beside the label, so a document's title cannot disguise where
        # its source link goes.
        host = escape(urlsplit(citation.url).hostname or "")
        title = f"<{url}|{title.replace('|', '¦')}>" + (f" ({host})" if host else "")
    section = escape(neutralise_mentions(citation.section))
    return f"[{citation.n}] {title}" + (f" — {section}" if section else "")


def notes_blocks(notes: Sequence[str]) -> list[Block]:
    if not notes:
        return []
    text = "\n".join(f"_{escape(neutralise_mentions(note))}_" for note in notes)
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text)}]}]


def actions_block(
    answer_id: str, *, checklist: bool, assessed: bool = False, expert: bool = False
) -> Block:
    """Feedback buttons, and with `checklist` one checklist button: "Confirm in the checklist"
    when the answer carries a verdict (`assessed`), otherwise "Start the decision checklist"."""
    elements: list[Block] = [
        _button("Helpful", FEEDBACK_HELPFUL, answer_id, emoji=":thumbsup:"),
        _button("Not helpful", FEEDBACK_NOT_HELPFUL, answer_id, emoji=":thumbsdown:"),
    ]
    if checklist and assessed:
        elements.append(_button("Confirm in the checklist", CHECKLIST_CONFIRM, answer_id))
    elif checklist:
        elements.append(_button("Start the decision checklist", CHECKLIST_START, answer_id))
    if expert:
        elements.append(
            _button("Ask an expert", ESCALATE_EXPERT, answer_id, emoji=":raising_hand:")
        )
    return {"type": "actions", "block_id": f"answer_actions:{answer_id}", "elements": elements}


def _button(label: str, action_id: str, value: str, *, emoji: str = "") -> Block:
    text = f"{emoji} {label}".strip()
    return {
        "type": "button",
        "action_id": action_id,
        "value": value,
        "text": {"type": "plain_text", "text": text, "emoji": True},
    }


def answer_footer(
    citations: Sequence[Citation],
    notes: Sequence[str],
    answer_id: str | None,
    *,
    checklist: bool,
    assessed: bool = False,
    expert: bool = False,
) -> list[Block]:
    """Everything under the answer text: notes, sources, then the buttons ("Ask an expert" when
    experts are configured)."""
    blocks = notes_blocks(notes) + sources_blocks(citations)
    if answer_id is not None:
        blocks.append(
            actions_block(answer_id, checklist=checklist, assessed=assessed, expert=expert)
        )
    return blocks


def fit_blocks(
    body: list[Block], footer: list[Block], *, text_limit: int = MESSAGE_TEXT_LIMIT
) -> list[Block]:
    """Keep the footer whole and trim the body so the message stays under MAX_BLOCKS and
    `text_limit` characters of text."""
    room = MAX_BLOCKS - len(footer)
    kept: list[Block] = []
    size = blocks_text_size(footer)
    for block in body[:room]:
        size += blocks_text_size([block])
        if size > text_limit:
            break
        kept.append(block)
    return kept + footer


def blocks_text_size(blocks: Sequence[Block]) -> int:
    """Characters of text in `blocks`, at any depth (what Slack's message limit counts)."""
    return sum(_text_size(block) for block in blocks)


def message_size(text: str, blocks: Sequence[Block] | None) -> int:
    return len(text) + blocks_text_size(blocks or [])


def _text_size(value: object) -> int:
    if isinstance(value, dict):
        own = value.get("text")
        size = len(own) if isinstance(own, str) else 0
        return size + sum(
            _text_size(v) for k, v in value.items() if k != "text" or not isinstance(v, str)
        )
    if isinstance(value, list):
        return sum(_text_size(v) for v in value)
    return 0


def reason_modal(private_metadata: str) -> Block:
    return {
        "type": "modal",
        "callback_id": FEEDBACK_REASON_VIEW,
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": "Feedback"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Skip"},
        "blocks": [
            {
                "type": "input",
                "block_id": FEEDBACK_REASON_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "What was missing or wrong? (optional)"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": FEEDBACK_REASON_INPUT,
                    "multiline": True,
                    "max_length": 1000,
                },
            }
        ],
    }


def _clip(text: str, limit: int = SECTION_TEXT_BUDGET) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
