"""The Q&A use case: a question and its history become a stream of answer events.

Events: status updates, text deltas, then one `DoneEvent` with the mode, the citations and any
notes for the user. With a chat model the answer is generated from the retrieved passages; without
one (or when it fails) it is extractive. Below the relevance threshold it says the guidance does
not cover the question instead of answering.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from bot.errors import LLMUnavailableError, UserFacingError
from bot.llm.extractive import extractive_answer
from bot.models import (
    AnswerEvent,
    AnswerMode,
    Citation,
    DeltaEvent,
    DoneEvent,
    Passage,
    StatusEvent,
    Turn,
)
from bot.retrieval.coverage import is_covered
from bot.retrieval.retriever import Retrieval, Retriever

if TYPE_CHECKING:
    # The openai package takes seconds to import; commands without an LLM never pay for it.
    from bot.llm.chat import ChatClient

log = logging.getLogger(__name__)

_CITATION = re.compile(r"\[(\d{1,2})\]")
_DELTA_CHARS = 160  # extractive text is sent in pieces so every surface streams the same way
NO_MATCH_TEXT = (
    "The guidance in the knowledge folder doesn't cover this, so I won't guess. "
    "I can help with prompting, retrieval (RAG), fine-tuning, data readiness, evaluation, cost "
    "and governance questions; try rephrasing, or run the decision checklist."
)


class EmptyQuestionError(UserFacingError):
    def __init__(self) -> None:
        super().__init__(
            "Please ask a question, for example: “We have 300 labelled support tickets and need "
            "strict JSON output; should we fine-tune?”"
        )


def prepare_question(text: str, max_chars: int) -> tuple[str, str | None]:
    """Strip the question and cut it to `max_chars`; the note tells the user when we cut."""
    cleaned = text.strip()
    if not cleaned:
        raise EmptyQuestionError()
    if len(cleaned) <= max_chars:
        return cleaned, None
    return cleaned[:max_chars], (
        f"Your message was longer than {max_chars} characters; I used the first {max_chars}."
    )


def cited_numbers(text: str, available: int) -> list[int]:
    seen: list[int] = []
    for match in _CITATION.finditer(text):
        n = int(match.group(1))
        if 1 <= n <= available and n not in seen:
            seen.append(n)
    return seen


def build_citations(
    text: str, passages: Sequence[Passage], fallback: int = 3
) -> tuple[Citation, ...]:
    numbers = cited_numbers(text, len(passages)) or list(range(1, min(fallback, len(passages)) + 1))
    return tuple(
        Citation(
            n=n,
            source=passages[n - 1].chunk.source,
            title=passages[n - 1].chunk.title,
            section=passages[n - 1].chunk.section,
            score=round(passages[n - 1].similarity, 4),
            text=passages[n - 1].chunk.text,
            url=passages[n - 1].chunk.url,
        )
        for n in sorted(numbers)
    )


def _pieces(text: str) -> list[str]:
    return [text[i : i + _DELTA_CHARS] for i in range(0, len(text), _DELTA_CHARS)]


class Answerer:
    def __init__(
        self,
        retriever: Retriever,
        chat: ChatClient | None,
        *,
        min_score: float,
        max_question_chars: int,
    ) -> None:
        self.retriever = retriever
        self.chat = chat
        self.min_score = min_score
        self.max_question_chars = max_question_chars

    @property
    def mode(self) -> AnswerMode:
        return "llm" if self.chat is not None else "extractive"

    async def retrieve(self, question: str) -> Retrieval:
        return await self.retriever.retrieve(question)

    async def answer(
        self,
        question: str,
        history: Sequence[Turn] = (),
        retrieval: Retrieval | None = None,
        notes: Sequence[str] = (),
    ) -> AsyncIterator[AnswerEvent]:
        question, cut_note = prepare_question(question, self.max_question_chars)
        all_notes = [*notes, *([cut_note] if cut_note else [])]
        if retrieval is None:
            yield StatusEvent(stage="searching", message="Searching the guidance...")
            retrieval = await self.retrieve(question)
        passages = list(retrieval.passages)
        version = retrieval.index_version

        if not is_covered(question, retrieval, self.min_score):
            for piece in _pieces(NO_MATCH_TEXT):
                yield DeltaEvent(text=piece)
            yield DoneEvent(
                mode="no_match", answer=NO_MATCH_TEXT, notes=tuple(all_notes), index_version=version
            )
            return

        yield StatusEvent(stage="drafting", message="Drafting...")
        mode: AnswerMode = "extractive"
        text = ""
        if self.chat is not None:
            from bot.llm.prompts import build_messages

            try:
                async for delta in self.chat.stream(build_messages(question, history, passages)):
                    text += delta
                    yield DeltaEvent(text=delta)
                mode = "llm"
            except LLMUnavailableError as exc:
                log.warning("chat model unavailable, answering extractively: %s", exc.reason)
                all_notes.append(
                    f"The language model was unavailable ({exc.reason}), so this answer is "
                    "extractive: the most relevant lines from the guidance."
                )
        cited = text  # the text whose [n] markers name the citations
        if mode == "extractive":
            # After a partial LLM answer the extract follows it; its own markers are the citations.
            cited = extractive_answer(question, passages, fallback=self.chat is not None)
            addition = ("\n\n" if text else "") + cited
            for piece in _pieces(addition):
                yield DeltaEvent(text=piece)
            text += addition
        yield DoneEvent(
            mode=mode,
            answer=text,
            citations=build_citations(cited, passages),
            notes=tuple(all_notes),
            index_version=version,
        )
