"""Markdown structure from markdown-it-py: top-level blocks with their lines, headings, code.

One parser for every place that needs to know where headings and code are (chunking, title
detection, boilerplate removal), instead of a regex copy in each.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

BlockKind = Literal["heading", "code", "rule", "text"]


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    start: int  # first line, 0-based
    end: int  # one past the last line
    level: int = 0  # heading level, 1-6
    heading: str = ""  # heading text without inline markup


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # Indented code blocks are off: saved web pages and plain-text notes indent list items and
    # quotes by four spaces far more often than anyone writes indented code, and a paragraph
    # read as code would hide its words from heading and boilerplate detection alike.
    # Tables are on (GFM), so a table is one block that is split by rows, not by words.
    return MarkdownIt("commonmark").enable("table").disable("code")


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return " ".join("".join(parts).split())


def blocks(text: str) -> list[Block]:
    """The document's top-level blocks in order; blank lines belong to none."""
    tokens = _parser().parse(text)
    out: list[Block] = []
    for i, token in enumerate(tokens):
        if token.level != 0 or token.map is None or token.nesting == -1:
            continue
        start, end = token.map
        if token.type == "heading_open":
            inline = tokens[i + 1] if i + 1 < len(tokens) else None
            heading = _inline_text(inline) if inline is not None else ""
            out.append(Block("heading", start, end, int(token.tag[1]), heading))
        elif token.type == "fence":
            out.append(Block("code", start, end))
        elif token.type == "hr":
            out.append(Block("rule", start, end))
        else:
            out.append(Block("text", start, end))
    return out


def headings(text: str) -> list[Block]:
    return [block for block in blocks(text) if block.kind == "heading"]


def first_h1(text: str) -> str | None:
    """The text of the first level-1 heading, ATX (`# Title`) or setext (`Title` over `===`)."""
    return next((b.heading for b in headings(text) if b.level == 1 and b.heading), None)


def code_lines(text: str) -> set[int]:
    """Line numbers inside fenced code blocks (fences included)."""
    return {line for b in blocks(text) if b.kind == "code" for line in range(b.start, b.end)}


def heading_lines(text: str) -> set[int]:
    return {line for b in headings(text) for line in range(b.start, b.end)}
