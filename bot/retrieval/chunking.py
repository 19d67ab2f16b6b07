"""Pure heading-aware chunking of cleaned documents into retrievable passages."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from bot.models import Chunk, Document

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(={3,}|-{3,})[ \t]*$")
_THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])([ \t]*\1){2,}[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
# Lines that cannot be the text of a setext heading: list items, quotes, tables, headings.
_NOT_SETEXT_TEXT = re.compile(r"^\s*([-*+>|#]|\d+[.)]\s)")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
# Emphasis and code marks, but not the underscores inside names such as snake_case.
_INLINE_MARKUP = re.compile(r"[*`]+|(?<!\w)_+|_+(?!\w)")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


@dataclass
class _Section:
    headings: tuple[str, ...]
    lines: list[str] = field(default_factory=list)


def content_hash(title: str, headings: Sequence[str], text: str) -> str:
    """sha256 over everything that goes into a chunk's embedding text, unambiguously framed."""
    framed = json.dumps([title, list(headings), text], ensure_ascii=False)
    return hashlib.sha256(framed.encode("utf-8")).hexdigest()


def _heading_text(raw: str) -> str:
    return re.sub(r"\s+", " ", _INLINE_MARKUP.sub("", _LINK.sub(r"\1", raw))).strip()


def _same(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def _sections(text: str, title: str) -> Iterator[_Section]:
    """Split Markdown at ATX and setext headings, outside fenced code, tracking heading paths."""
    lines = text.split("\n")
    stack: list[tuple[int, str]] = []
    current = _Section(())
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        level, heading = 0, ""
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            atx = _ATX.match(line)
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            prev_blank = i == 0 or not lines[i - 1].strip() or bool(_ATX.match(lines[i - 1]))
            if atx:
                level, heading = len(atx.group(1)), _heading_text(atx.group(2) or "")
                if not heading:  # an empty "#" line carries nothing to index or cite
                    i += 1
                    continue
            elif (
                (underline := _SETEXT.match(nxt))
                and line.strip()
                and prev_blank
                and not _NOT_SETEXT_TEXT.match(line)
            ):
                level, heading = (1 if underline.group(1)[0] == "=" else 2), _heading_text(line)
                i += 1  # the underline belongs to the heading
            elif _THEMATIC_BREAK.match(line):
                i += 1  # a horizontal rule separates; it is not content
                continue
        if heading:
            yield current
            while stack and stack[-1][0] >= level:
                stack.pop()
            # The document's own H1 repeats the title that every chunk carries already.
            if not (level == 1 and _same(heading, title)):
                stack.append((level, heading))
            current = _Section(tuple(h for _, h in stack))
        else:
            current.lines.append(line)
        i += 1
    yield current


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks; a fenced code block stays whole even with blank lines."""
    blocks: list[str] = []
    current: list[str] = []
    in_fence = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        if not line.strip() and not in_fence:
            if current:
                blocks.append("\n".join(current))
                current = []
        else:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


# From coarse to fine: (how to split, how to rejoin). Hard wrapping comes after the last one.
_LEVELS: list[tuple[str, str]] = [("paragraph", "\n\n"), ("line", "\n"), ("sentence", " ")]


def _split(text: str, level: int) -> list[str]:
    name = _LEVELS[level][0] if level < len(_LEVELS) else "word"
    if name == "paragraph":
        return _paragraphs(text)
    if name == "line":
        return [line for line in text.split("\n") if line.strip()]
    if name == "sentence":
        return [s for s in _SENTENCE_END.split(text) if s]
    return text.split()


def _units(text: str, max_chars: int, level: int = 0) -> Iterator[tuple[str, str]]:
    """(separator before, piece) with every piece at most max_chars, finest split only where needed."""
    parts = _split(text, level)
    joiner = _LEVELS[level][1] if level < len(_LEVELS) else " "
    for n, part in enumerate(parts):
        sep = joiner if n else ""
        if len(part) <= max_chars:
            yield sep, part
        elif level < len(_LEVELS):
            first = True
            for inner_sep, inner in _units(part, max_chars, level + 1):
                yield (sep if first else inner_sep), inner
                first = False
        else:  # one word longer than a chunk (a URL, a hash): cut it, rejoining without spaces
            for start in range(0, len(part), max_chars):
                yield (sep if start == 0 else ""), part[start : start + max_chars]


def split_section(text: str, max_chars: int) -> list[str]:
    """Greedily pack the coarsest pieces that fit, so adjacent small pieces end up together."""
    pieces: list[str] = []
    current = ""
    for sep, unit in _units(text, max_chars):
        if current and len(current) + len(sep) + len(unit) <= max_chars:
            current += sep + unit
        else:
            if current.strip():
                pieces.append(current.strip())
            current = unit
    if current.strip():
        pieces.append(current.strip())
    return pieces


def chunk_document(doc: Document, max_chars: int = 1200) -> list[Chunk]:
    """Chunks in document order; each text is a non-empty section body of at most max_chars."""
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    chunks: list[Chunk] = []
    for section in _sections(doc.text, doc.title):
        body = "\n".join(section.lines).strip()
        for piece in split_section(body, max_chars) if body else []:
            chunks.append(
                Chunk(
                    source=doc.source,
                    title=doc.title,
                    headings=section.headings,
                    position=len(chunks),
                    text=piece,
                    content_hash=content_hash(doc.title, section.headings, piece),
                    url=doc.url,
                    tags=doc.tags,
                )
            )
    return chunks
