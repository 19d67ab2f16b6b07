"""Frozen models shared across packages: documents, chunks, passages, answers, conversation turns."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from bot.checklist.assessment import Assessment

# Fixed namespace so a chunk's point id depends only on where it sits, never on the run.
_POINT_NAMESPACE = uuid.UUID("6f1c1d8e-3b7a-4f43-9a4c-2f4d8b1e7a10")

AnswerMode = Literal["llm", "extractive", "no_match"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Document(Frozen):
    """One cleaned knowledge file. `text` is Markdown-like: headings kept as `#` lines."""

    source: str  # path relative to the knowledge folder, POSIX separators
    title: str
    text: str
    url: str | None = None
    tags: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # where the facts came from (front matter)


class Chunk(Frozen):
    source: str
    title: str
    headings: tuple[str, ...] = ()  # heading path inside the document, outermost first
    position: int  # 0-based order inside the document
    text: str
    content_hash: str
    url: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def section(self) -> str:
        return " > ".join(self.headings)

    @property
    def point_id(self) -> str:
        return str(uuid.uuid5(_POINT_NAMESPACE, f"{self.source}#{self.position}"))


class Passage(Frozen):
    """A retrieved chunk with its fused rank score and its dense cosine similarity."""

    chunk: Chunk
    score: float
    similarity: float


class Citation(Frozen):
    n: int
    source: str
    title: str
    section: str
    score: float
    text: str
    url: str | None = None


class Turn(Frozen):
    role: Literal["user", "assistant"]
    content: str
    created_at: float = Field(default_factory=time.time)


TURNS = TypeAdapter(list[Turn])


class Question(Frozen):
    text: str
    conversation_key: str | None = None  # None: no memory (one-shot `advisor ask`)


class StatusEvent(Frozen):
    kind: Literal["status"] = "status"
    stage: Literal["searching", "drafting"]
    message: str


class DeltaEvent(Frozen):
    kind: Literal["delta"] = "delta"
    text: str


class DoneEvent(Frozen):
    kind: Literal["done"] = "done"
    mode: AnswerMode
    answer: str  # the full text that the deltas spelled out
    citations: tuple[Citation, ...] = ()
    notes: tuple[str, ...] = ()  # short remarks for the user: fallbacks, truncation, memory
    index_version: str | None = None
    # The checklist's verdict when the question described a situation; None otherwise.
    assessment: Assessment | None = None


AnswerEvent = Annotated[StatusEvent | DeltaEvent | DoneEvent, Field(discriminator="kind")]
