"""The Q&A use case: a question in its conversation becomes a stream of answer events.

One entry point, `Advisor.respond`, used by Slack and the terminal alike, one place per step:

1. prepare the question (strip, cut to the limit);
2. in parallel: the conversation (turns and situation facts) from memory, one hybrid retrieval,
   and the situation reading of the message;
3. the verdict: when the message describes a situation, the checklist engine assesses the facts
   read from it together with those read earlier in the conversation;
4. the answer: the verdict first (written from the assessment, never by a model), then the
   guidance (generated from the passages, or extractive), then when it would change and what to
   ask next; below the relevance line and with no situation, "the guidance doesn't cover this";
5. one memory write (the turn and the facts), then the `DoneEvent`; metrics recorded once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import verdict_text
from bot.checklist.assessment import Assessment
from bot.checklist.reading.base import SituationReading
from bot.checklist.stance import leans_elsewhere
from bot.checklist.verdicts import Verdicts
from bot.errors import LLMUnavailableError, UserFacingError
from bot.llm.citations import CitationGuard
from bot.llm.extractive import (
    FALLBACK_NOTE,
    NO_MODEL_NOTE,
    extractive_answer,
    verdict_guidance,
)
from bot.memory.conversation import ConversationMemory, History
from bot.models import (
    AnswerEvent,
    AnswerMode,
    Citation,
    DeltaEvent,
    DoneEvent,
    Passage,
    Question,
    StatusEvent,
    Turn,
)
from bot.ops.metrics import Metrics
from bot.retrieval.coverage import is_covered
from bot.retrieval.retriever import Retriever

if TYPE_CHECKING:
    # The openai package takes seconds to import; commands without an LLM never pay for it.
    from bot.gaps.recorder import GapRecorder
    from bot.llm.chat import ChatClient

log = logging.getLogger(__name__)

_CITATION = re.compile(r"\[(\d{1,2})\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_DELTA_CHARS = 160  # text we write is sent in pieces so every surface streams the same way
NO_MATCH_TEXT = (
    "The guidance in the knowledge folder doesn't cover this, so I won't guess. "
    "I can help with prompting, retrieval (RAG), fine-tuning, data readiness, evaluation, cost "
    "and governance questions; try rephrasing, or run the decision checklist."
)
GUIDANCE_HEADING = "**What the guidance says**"
CONTRADICTION_NOTE = (
    "Part of the generated explanation leaned towards another option than the recommendation; "
    "the recommendation above stands: it follows from the facts read from your messages."
)


class EmptyQuestionError(UserFacingError):
    def __init__(self) -> None:
        super().__init__(
            "Please ask a question, for example: “We have 300 labelled support tickets and need "
            "strict JSON output; should we fine-tune?”"
        )


def prepare_question(text: str, max_chars: int) -> tuple[str, str | None]:
    """Strip the question and cut it to `max_chars`; the note tells the user when we cut.

    Lone surrogates (a Slack body with a "\\udcff" escape) become "?": every later step
    (the embedder, Redis, JSON) needs text that encodes as UTF-8.
    """
    cleaned = text.encode("utf-8", "replace").decode("utf-8").strip()
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


def contradicts(text: str, assessment: Assessment) -> bool:
    """Whether any sentence of generated text recommends what the verdict does not stand for."""
    return any(leans_elsewhere(s, assessment.outcome) for s in _SENTENCE_END.split(text))


def _pieces(text: str) -> list[str]:
    return [text[i : i + _DELTA_CHARS] for i in range(0, len(text), _DELTA_CHARS)]


@dataclass
class _Draft:
    """The answer as it is written: everything shown, and the text whose [n] are citations."""

    text: str = ""
    cited: str = ""
    mode: AnswerMode = "extractive"

    def add(self, text: str, *, cited: bool = True) -> DeltaEvent:
        self.text += text
        if cited:
            self.cited += text
        return DeltaEvent(text=text)


class Advisor:
    def __init__(
        self,
        retriever: Retriever,
        chat: ChatClient | None,
        memory: ConversationMemory | None,
        verdicts: Verdicts | None,
        *,
        min_score: float,
        max_question_chars: int,
        metrics: Metrics | None = None,
        gaps: GapRecorder | None = None,
    ) -> None:
        self.retriever = retriever
        self.chat = chat
        self.memory = memory
        self.verdicts = verdicts
        self.min_score = min_score
        self.max_question_chars = max_question_chars
        self.metrics = metrics
        self.gaps = gaps  # what the guidance misses: no_match answers, open verdicts

    async def respond(self, question: Question) -> AsyncIterator[AnswerEvent]:
        started = time.perf_counter()
        text, cut_note = prepare_question(question.text, self.max_question_chars)
        yield StatusEvent(stage="searching", message="Searching the guidance...")
        history, retrieval, reading = await asyncio.gather(
            self._history(question.conversation_key),
            self.retriever.retrieve(text),
            self._read(text),
        )
        notes = [note for note in (history.note, cut_note) if note]
        assessment = await self._assess(reading, history)
        passages = list(retrieval.passages)
        draft = _Draft()
        first_text: float | None = None
        if assessment is None and not is_covered(text, retrieval, self.min_score):
            draft.mode = "no_match"
            generated = self._write(draft, NO_MATCH_TEXT)
        else:
            yield StatusEvent(stage="drafting", message="Drafting...")
            generated = self._compose(text, history, passages, assessment, draft, notes)
        async for event in generated:
            if first_text is None:
                first_text = time.perf_counter() - started
            yield event
        done = DoneEvent(
            mode=draft.mode,
            answer=draft.text,
            citations=build_citations(draft.cited, passages) if draft.mode != "no_match" else (),
            notes=tuple(notes),
            index_version=retrieval.index_version,
            assessment=assessment,
        )
        await self._remember(question, text, done, assessment)
        if self.gaps is not None:
            await self.gaps.after_answer(question, text, done)
        self._observe(done, time.perf_counter() - started, first_text, reading)
        yield done

    # -- steps ---------------------------------------------------------------------------------

    async def _history(self, key: str | None) -> History:
        if key is None or self.memory is None:
            return History(turns=(), note=None)
        return await self.memory.load(key)

    async def _read(self, text: str) -> SituationReading | None:
        return await self.verdicts.read(text) if self.verdicts is not None else None

    async def _assess(
        self, reading: SituationReading | None, history: History
    ) -> Assessment | None:
        if self.verdicts is None or reading is None:
            return None
        return await self.verdicts.assess(reading, history.facts)

    async def _write(
        self, draft: _Draft, text: str, *, cited: bool = True
    ) -> AsyncIterator[DeltaEvent]:
        for piece in _pieces(text):
            yield draft.add(piece, cited=cited)

    async def _compose(
        self,
        question: str,
        history: History,
        passages: list[Passage],
        assessment: Assessment | None,
        draft: _Draft,
        notes: list[str],
    ) -> AsyncIterator[DeltaEvent]:
        verdicts = self.verdicts
        if assessment is not None and verdicts is not None:
            opening = verdict_text.opening(verdicts.checklist, assessment, verdicts.titles)
            async for event in self._write(draft, opening + "\n\n", cited=False):
                yield event
        generated_ok = False
        if self.chat is not None:
            async for event in self._generate(
                question, history, passages, assessment, draft, notes
            ):
                generated_ok = True
                yield event
        elsewhere: Sequence[str] = ()
        if draft.mode == "extractive":
            fallback = self.chat is not None
            if assessment is None:
                extract = extractive_answer(question, passages, fallback=fallback)
            else:
                guidance = verdict_guidance(question, passages, assessment.outcome)
                elsewhere = guidance.elsewhere
                note = FALLBACK_NOTE if fallback else NO_MODEL_NOTE
                lines = "\n".join(f"- {line}" for line in guidance.supporting)
                extract = f"{GUIDANCE_HEADING} {note}\n{lines}" if lines else ""
            if extract:
                addition = ("\n\n" if generated_ok else "") + extract
                async for event in self._write(draft, addition):
                    yield event
        if assessment is not None and verdicts is not None:
            closing = verdict_text.closing(verdicts.checklist, assessment, elsewhere)
            if closing:
                async for event in self._write(draft, "\n\n" + closing):
                    yield event

    async def _generate(
        self,
        question: str,
        history: History,
        passages: list[Passage],
        assessment: Assessment | None,
        draft: _Draft,
        notes: list[str],
    ) -> AsyncIterator[DeltaEvent]:
        """The model's part, streamed through the citation guard. On failure the draft stays
        extractive and a note says why; text already shown is kept."""
        assert self.chat is not None
        from bot.llm.prompts import build_messages

        verdict = None
        if assessment is not None and self.verdicts is not None:
            verdict = verdict_text.facts_for_prompt(self.verdicts.checklist, assessment)
        guard = CitationGuard(len(passages))
        generated = ""
        failure: LLMUnavailableError | None = None
        try:
            messages = build_messages(question, history.turns, passages, verdict=verdict)
            async for delta in self.chat.stream(messages):
                safe = guard.feed(delta)
                if safe:
                    generated += safe
                    yield draft.add(safe)
        except LLMUnavailableError as exc:
            failure = exc
        # What the guard still holds was generated and checked: shown either way.
        tail = guard.flush()
        if tail:
            generated += tail
            yield draft.add(tail)
        if failure is None:
            draft.mode = "llm"
        else:
            log.warning("chat model unavailable, answering extractively: %s", failure.reason)
            notes.append(
                f"The language model was unavailable ({failure.reason}), so this answer is "
                "extractive: the most relevant lines from the guidance."
            )
            # After a partial answer the extract follows it; the extract's markers cite.
            draft.cited = draft.cited.removesuffix(generated)
        if guard.invented and self.metrics is not None:
            self.metrics.invented_citations.inc(len(guard.invented))
        if assessment is not None and generated and contradicts(generated, assessment):
            log.warning(
                "generated answer leaned away from the verdict %s; the verdict stands",
                assessment.outcome,
            )
            notes.append(CONTRADICTION_NOTE)
            if self.metrics is not None:
                self.metrics.contradictions.inc()

    async def _remember(
        self, question: Question, text: str, done: DoneEvent, assessment: Assessment | None
    ) -> None:
        if not question.conversation_key or self.memory is None:
            return
        await self.memory.append(
            question.conversation_key,
            Turn(role="user", content=text),
            Turn(role="assistant", content=done.answer),
            facts=assessment.facts if assessment is not None else None,
        )

    def _observe(
        self,
        done: DoneEvent,
        seconds: float,
        first_text: float | None,
        reading: SituationReading | None,
    ) -> None:
        if self.metrics is None:
            return
        self.metrics.observe_answer(done.mode, seconds, first_text)
        if done.assessment is not None:
            self.metrics.observe_verdict(done.assessment.outcome, done.assessment.confidence)
        if reading is not None and reading.note:
            self.metrics.reader_fallbacks.inc()
