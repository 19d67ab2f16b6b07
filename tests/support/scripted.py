"""A responder that replays a script: the events a real responder yields, or a failure."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from bot.checklist.assessment import Assessment
from bot.models import AnswerEvent, Citation, DeltaEvent, DoneEvent, Question, StatusEvent

CITATIONS = (
    Citation(
        n=1,
        source="fine-tuning/when.md",
        title="When to fine-tune",
        section="Structured output",
        score=0.8,
        text="Fine-tune when prompting cannot hold the format.",
        url="https://example.com/when",
    ),
    Citation(
        n=2,
        source="rag/basics.md",
        title="RAG basics",
        section="Fresh knowledge",
        score=0.7,
        text="Use RAG for facts that change.",
    ),
)

DEFAULT_ANSWER = (
    "## Recommendation\n\n**Prompt first**, then add RAG [1]. "
    "See [the guide](https://example.com/when) for details.\n\n- keep a JSON schema\n"
)


class ScriptError(RuntimeError):
    pass


@dataclass
class ScriptedResponder:
    answer: str = DEFAULT_ANSWER
    citations: tuple[Citation, ...] = CITATIONS
    notes: tuple[str, ...] = ()
    index_version: str | None = "idx-1"
    piece_chars: int = 37
    fail_after_deltas: int | None = None  # raise after this many deltas
    send_deltas: bool = True
    delay_seconds: float = 0.0  # between deltas, as a model streaming tokens would
    questions: list[Question] = field(default_factory=list)
    closed_early: int = 0  # answers whose consumer stopped before the DoneEvent
    assessment: Assessment | None = None  # the verdict the DoneEvent carries, if any

    async def respond(self, question: Question) -> AsyncIterator[AnswerEvent]:
        self.questions.append(question)
        yield StatusEvent(stage="searching", message="Searching the guidance...")
        yield StatusEvent(stage="drafting", message="Drafting...")
        pieces = [
            self.answer[i : i + self.piece_chars]
            for i in range(0, len(self.answer), self.piece_chars)
        ]
        finished = False
        try:
            for index, piece in enumerate(pieces if self.send_deltas else []):
                if self.fail_after_deltas is not None and index >= self.fail_after_deltas:
                    raise ScriptError("secret internal detail: db password=hunter2")
                if self.delay_seconds:
                    await asyncio.sleep(self.delay_seconds)
                yield DeltaEvent(text=piece)
            finished = True
        finally:
            if not finished:
                self.closed_early += 1
        if self.fail_after_deltas is not None:
            raise ScriptError("secret internal detail: db password=hunter2")
        yield DoneEvent(
            mode="llm",
            answer=self.answer,
            citations=self.citations,
            notes=self.notes,
            index_version=self.index_version,
            assessment=self.assessment,
        )
