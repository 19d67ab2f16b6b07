"""The short summary an expert reads first, written from what the bot already holds: the
conversation's turns, the situation facts and the verdict they give, the answer the button was
under. Pure: the caller loads memory and runs the checklist engine."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.escalation.models import EscalationSummary
from bot.models import Turn

QUESTION_CHARS = 400
GUIDANCE_CHARS = 600
MAX_FACTS = 8
MAX_SOURCES = 5
# How an answer that leads with a verdict is laid out (bot/answer.py, bot/verdict_text.py): the
# recommendation, its summary, the facts and reasons, then the guidance, then the closing parts.
_VERDICT_HEADING = "**Recommendation:"
_OPENING_PARTS = ("**Read from what you wrote**", "**Why**")
_GUIDANCE_HEADING = "**What the guidance says**"
_CITATION = re.compile(r"\s?\[\d+\]")
_EMPHASIS = re.compile(r"(\*\*|__|`)")
_HEADING_MARK = re.compile(r"^#{1,6}\s+", re.MULTILINE)
_BULLET_MARK = re.compile(r"^\s*[-*+]\s+", re.MULTILINE)
_STOPPED = "[The user stopped this answer here.]"


def clip(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut at a word when it is long."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"


def guidance_excerpt(answer: str, limit: int = GUIDANCE_CHARS) -> str:
    """What an answer said, as plain text: the guidance part of a verdict answer (the verdict
    and facts are summarised separately), else the answer itself, without Markdown marks and
    citation numbers."""
    paragraphs = [p.strip() for p in answer.replace(_STOPPED, "").split("\n\n") if p.strip()]
    if paragraphs and paragraphs[0].startswith(_VERDICT_HEADING):
        paragraphs = _guidance_part(paragraphs[1:])
    text = _CITATION.sub("", "\n".join(paragraphs))
    text = _HEADING_MARK.sub("", _BULLET_MARK.sub("", text))
    return clip(_EMPHASIS.sub("", text), limit)


def _guidance_part(rest: list[str]) -> list[str]:
    if rest and not rest[0].startswith("**"):
        rest = rest[1:]  # the verdict's one-line summary
    while rest and rest[0].startswith(_OPENING_PARTS):
        rest = rest[1:]
    kept: list[str] = []
    for paragraph in rest:
        if paragraph.startswith(_GUIDANCE_HEADING):
            paragraph = paragraph.partition("\n")[2]
        elif paragraph.startswith("**") and kept:
            break  # "When this would change", "To firm this up"
        if paragraph:
            kept.append(paragraph)
    return kept


def summarise(
    turns: Sequence[Turn],
    *,
    answer: str | None = None,
    question: str | None = None,
    verdict: str | None = None,
    facts: Sequence[str] = (),
    sources: Sequence[str] = (),
) -> EscalationSummary:
    """`turns` is the thread's conversation; `question`/`answer` the exchange the button sat
    under (they win over memory, which may be gone). The thread's first question leads; the
    latest follows when it is another one."""
    asked = [turn.content for turn in turns if turn.role == "user" and turn.content.strip()]
    said = [turn.content for turn in turns if turn.role == "assistant" and turn.content.strip()]
    first = asked[0] if asked else (question or "")
    latest = question if question else (asked[-1] if asked else None)
    if latest is not None and clip(latest, QUESTION_CHARS) == clip(first, QUESTION_CHARS):
        latest = None
    last_answer = answer if answer else (said[-1] if said else "")
    return EscalationSummary(
        question=clip(first, QUESTION_CHARS),
        latest=clip(latest, QUESTION_CHARS) if latest else None,
        verdict=verdict,
        facts=tuple(clip(fact, 300) for fact in facts[:MAX_FACTS]),
        guidance=guidance_excerpt(last_answer) if last_answer else "",
        sources=tuple(dict.fromkeys(clip(s, 120) for s in sources if s.strip()))[:MAX_SOURCES],
    )
