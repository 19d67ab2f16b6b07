"""Builders for passages and turns used across the llm tests."""

from __future__ import annotations

from bot.models import Chunk, Passage


def passage(
    text: str,
    *,
    title: str = "Fine-tuning basics",
    source: str = "finetune.md",
    headings: tuple[str, ...] = (),
    position: int = 0,
    score: float = 0.9,
) -> Passage:
    chunk = Chunk(
        source=source,
        title=title,
        headings=headings,
        position=position,
        text=text,
        content_hash=f"hash-{source}-{position}",
    )
    return Passage(chunk=chunk, score=score, similarity=score)
