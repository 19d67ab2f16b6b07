"""Headings in plain text: the lines that a saved article uses as headings, made Markdown ones.

Text copied out of a web page or a PDF keeps its headings only as short lines of their own
("What is Prompting?", "When prompting is sufficient", "2. Key differences"). A line is read as a
heading when it looks like one (short, starts with a capital or a section number, no closing
full stop, comma, colon or semicolon, not a list item) and sits where one does: at the start of a
block and followed by body text (a sentence, a long line, or a list). The first such line of a
document that opens with a title line becomes its `#` title.
"""

from __future__ import annotations

import re

from bot.retrieval import markdown

_MAX_HEADING_CHARS = 80
_MAX_HEADING_WORDS = 12
_MAX_TITLE_CHARS = 150
_BODY_CHARS = 40  # a line at least this long reads as body text
_LIST_ITEM = re.compile(r"^\s*([-*+•▪◦–]\s|\d+[.)]\s)")
_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+\S")
_STARTS_LIKE_HEADING = re.compile(r"^[A-Z0-9]")
_TWO_SENTENCES = re.compile(r"[.!?]\s+[A-Z]")
_ABBREVIATION = re.compile(r"\b(vs|e\.g|i\.e|etc|cf|Dr|Mr|Ms|Mrs|St|No|Vol|Fig)\.", re.I)
_NUMBER_PREFIX = re.compile(r"^\d+(\.\d+)*\.?\s+")
_NO_HEADING_END = re.compile(r"[.,;:!…]$")
_SENTENCE_END = re.compile(r"[.!?:;…\"”’)]$")


def _heading_like(line: str, max_chars: int = _MAX_HEADING_CHARS) -> bool:
    if not line or line != line.lstrip() or len(line) > max_chars:
        return False
    text = line.strip()
    if len(text) < 3 or len(text.split()) > _MAX_HEADING_WORDS:
        return False
    if not _STARTS_LIKE_HEADING.match(text) or _NO_HEADING_END.search(text):
        return False
    words = _NUMBER_PREFIX.sub("", _ABBREVIATION.sub("", text))
    if text.isdigit() or _TWO_SENTENCES.search(words) or "|" in text:
        return False
    return not _LIST_ITEM.match(text) or bool(_NUMBERED.match(text))


def _body_like(line: str) -> bool:
    text = line.strip()
    return (
        bool(_LIST_ITEM.match(line))
        or len(text) >= _BODY_CHARS
        or (len(text.split()) >= 3 and bool(_SENTENCE_END.search(text)))
    )


def _next_content(lines: list[str], i: int) -> int | None:
    """The next non-blank line after i, skipping at most one blank line."""
    for j in (i + 1, i + 2):
        if j < len(lines) and lines[j].strip():
            return j if j == i + 1 or not lines[i + 1].strip() else None
    return None


def _starts_block(lines: list[str], i: int, marked: set[int]) -> bool:
    if i == 0 or not lines[i - 1].strip() or i - 1 in marked:
        return True
    # Text without blank lines: the previous line must have finished its sentence.
    previous = lines[i - 1].strip()
    return bool(re.search(r"[.!?…\"”’)]$", previous)) or bool(_LIST_ITEM.match(lines[i - 1]))


def _level(text: str) -> int:
    numbered = _NUMBERED.match(text)
    if numbered is None:
        return 2
    return min(2 + numbered.group(1).count("."), 6)


def mark_headings(text: str, title: str | None = None) -> str:
    """Plain text with its title line as `# ` and its heading lines as `## ` (deeper if numbered).

    Text that already has Markdown headings is returned unchanged: its author marked them.
    """
    if markdown.headings(text):
        return text
    lines = text.split("\n")
    skip = markdown.code_lines(text)
    marked: set[int] = set()
    out = list(lines)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and first not in skip and first < len(lines) - 1:
        line = lines[first].strip()
        same = title is None or line.casefold() == title.casefold()
        if same and _heading_like(line, _MAX_TITLE_CHARS):
            out[first] = "# " + line
            marked.add(first)
    for i, line in enumerate(lines):
        if i in marked or i in skip or not _heading_like(line):
            continue
        following = _next_content(lines, i)
        if following is None or not _body_like(lines[following]):
            continue
        if not _starts_block(lines, i, marked):
            continue
        # "1. Start here" followed by "2. Then this" is a numbered list, not two headings.
        if _NUMBERED.match(line) and _NUMBERED.match(lines[following].strip()):
            continue
        out[i] = "#" * _level(line) + " " + line.strip()
        marked.add(i)
        # CommonMark needs no blank line around an ATX heading, so the text below stays put.
    return "\n".join(out)
