"""Pure heading-aware chunking of cleaned documents into retrievable passages."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bot.models import Chunk, Document
from bot.retrieval import markdown

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class ChunkPolicy:
    """How a document becomes chunks; `bench/chunking.py` compares policies on question sets."""

    max_chars: int = 1200
    # A section whose body is shorter than this is joined with the sections after it (their
    # headings kept as lines of text) while the result fits in max_chars: a two-line section
    # alone says too little to be found, and too little to answer from.
    merge_below: int = 0
    # When a long section is split, each piece after the first starts with the previous piece's
    # last sentence, so a fact that spans the cut is whole in at least one piece.
    overlap: bool = False


@dataclass
class _Section:
    headings: tuple[str, ...]
    body: str = ""
    heading_line: str = ""  # the section's own heading, to keep in the text when merged


# Part of every content hash: bump it when what is indexed for the same chunk changes (the
# embedded text or BM25 weighting in represent.py), so a reindex re-embeds instead of reusing.
REPRESENTATION_VERSION = 2


def content_hash(title: str, headings: Sequence[str], text: str) -> str:
    """sha256 over everything that goes into a chunk's embedding text, unambiguously framed."""
    framed = json.dumps([REPRESENTATION_VERSION, title, list(headings), text], ensure_ascii=False)
    return hashlib.sha256(framed.encode("utf-8")).hexdigest()


def _same(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def _sections(text: str, title: str) -> list[_Section]:
    """Split Markdown at its headings (markdown-it-py), tracking heading paths; rules dropped."""
    lines = text.split("\n")
    stack: list[tuple[int, str]] = []
    sections = [_Section(())]
    parts: list[str] = []
    for block in markdown.blocks(text):
        if block.kind == "heading":
            if not block.heading:  # an empty "#" line carries nothing to index or cite
                continue
            sections[-1].body = "\n\n".join(parts)
            parts = []
            while stack and stack[-1][0] >= block.level:
                stack.pop()
            # The document's own H1 repeats the title that every chunk carries already.
            if not (block.level == 1 and _same(block.heading, title)):
                stack.append((block.level, block.heading))
            sections.append(_Section(tuple(h for _, h in stack), heading_line=block.heading))
        elif block.kind != "rule":  # a horizontal rule separates; it is not content
            parts.append("\n".join(lines[block.start : block.end]).strip("\n"))
    sections[-1].body = "\n\n".join(parts)
    return sections


def _merge_short(sections: list[_Section], policy: ChunkPolicy) -> list[_Section]:
    merged: list[_Section] = []
    for section in sections:
        if not section.body.strip():
            continue
        last = merged[-1] if merged else None
        joined = f"{section.heading_line}\n{section.body}" if section.heading_line else section.body
        if (
            last is not None
            and len(last.body) < policy.merge_below
            and len(last.body) + 2 + len(joined) <= policy.max_chars
        ):
            last.body = f"{last.body}\n\n{joined}"
        else:
            merged.append(_Section(section.headings, section.body, section.heading_line))
    return merged


def _paragraphs(text: str) -> list[str]:
    """Top-level Markdown blocks: paragraphs, whole lists, tables and fenced code blocks."""
    lines = text.split("\n")
    pieces = ("\n".join(lines[b.start : b.end]).strip("\n") for b in markdown.blocks(text))
    return [piece for piece in pieces if piece.strip()]


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


def _with_overlap(pieces: list[str], max_chars: int) -> list[str]:
    out = pieces[:1]
    for previous, piece in itertools.pairwise(pieces):
        tail = [s for s in _SENTENCE_END.split(previous) if s.strip()]
        carried = tail[-1].strip() if tail else ""
        fits = carried and len(carried) + 1 + len(piece) <= max_chars and carried != previous
        out.append(f"{carried} {piece}" if fits else piece)
    return out


def chunk_document(
    doc: Document, max_chars: int = 1200, policy: ChunkPolicy | None = None
) -> list[Chunk]:
    """Chunks in document order; each text is a non-empty section body of at most max_chars."""
    policy = policy or default_policy(max_chars)
    if policy.max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    sections = [s for s in _sections(doc.text, doc.title) if s.body.strip()]
    if policy.merge_below:
        sections = _merge_short(sections, policy)
    chunks: list[Chunk] = []
    for section in sections:
        if policy.overlap:
            # A fifth of each chunk is kept free for the sentence carried over.
            pieces = split_section(section.body.strip(), max(1, policy.max_chars * 4 // 5))
            pieces = _with_overlap(pieces, policy.max_chars)
        else:
            pieces = split_section(section.body.strip(), policy.max_chars)
        for piece in pieces:
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


def default_policy(max_chars: int = 1200) -> ChunkPolicy:
    return ChunkPolicy(max_chars=max_chars)
