"""The verdict step of the answer use case: read a message, merge it with what the conversation
already said, and assess it with the checklist engine.

Built once by the composition root: the checklist definition, one situation reader (offline, or
the LLM reader with the offline one as its fallback) and the titles of the documents the
checklist cites, so a reason can name the guidance behind it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.checklist.assessment import Assessment, Fact, assess
from bot.checklist.definition import Checklist
from bot.checklist.reading.base import SituationReader, SituationReading
from bot.retrieval.frontmatter import split_front_matter


def merge_facts(earlier: Sequence[Fact], new: Sequence[Fact]) -> tuple[Fact, ...]:
    """Earlier facts updated by new ones: a question answered again takes the newer answer."""
    merged = {fact.question_id: fact for fact in earlier}
    merged.update({fact.question_id: fact for fact in new})
    return tuple(merged.values())


def document_titles(checklist: Checklist, knowledge_dir: Path) -> dict[str, str]:
    """Front-matter titles of every document the checklist cites (the file name otherwise)."""
    cited = {
        doc
        for group in (checklist.rules, checklist.warnings, checklist.prerequisites)
        for item in group
        for doc in item.cites
    }
    titles: dict[str, str] = {}
    for doc in sorted(cited):
        try:
            meta, _ = split_front_matter((knowledge_dir / doc).read_text(encoding="utf-8"))
        except OSError:
            meta = {}
        title = meta.get("title")
        titles[doc] = str(title) if title else doc
    return titles


@dataclass(frozen=True)
class Verdicts:
    checklist: Checklist
    reader: SituationReader
    titles: Mapping[str, str]

    async def read(self, text: str) -> SituationReading:
        return await self.reader.read(text)

    async def assess(self, reading: SituationReading, earlier: Sequence[Fact]) -> Assessment | None:
        """The verdict for this message in its conversation; None when it describes no
        situation (the answer is then an ordinary cited answer). The engine's search runs on a
        worker thread: milliseconds of pure Python must not hold the event loop."""
        if not reading.is_situation:
            return None
        facts = merge_facts(earlier, reading.facts)
        return await asyncio.to_thread(assess, self.checklist, facts)
