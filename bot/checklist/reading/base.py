"""The reader interface and what every reader returns."""

from __future__ import annotations

from typing import Literal, Protocol

from bot.checklist.assessment import Fact
from bot.checklist.definition import Frozen

ReaderName = Literal["offline", "llm"]


class SituationReading(Frozen):
    """What a reader took from one message. Not a situation: no facts, no assessment."""

    is_situation: bool
    facts: tuple[Fact, ...] = ()
    reader: ReaderName
    note: str | None = None  # why the LLM reader fell back, for the log and metrics


class SituationReader(Protocol):
    @property
    def name(self) -> ReaderName: ...

    async def read(self, text: str) -> SituationReading: ...
