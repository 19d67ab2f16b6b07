"""A conversation turn end to end: memory and retrieval in parallel, the answer, one memory write.

This is what the Slack layer and the terminal chat call (`respond`); `Answerer` stays free of
conversation state.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from bot.answer import Answerer, prepare_question
from bot.memory.conversation import ConversationMemory, History
from bot.models import AnswerEvent, DoneEvent, Question, StatusEvent, Turn


class Advisor:
    def __init__(self, answerer: Answerer, memory: ConversationMemory | None) -> None:
        self.answerer = answerer
        self.memory = memory

    async def _history(self, key: str | None) -> History:
        if key is None or self.memory is None:
            return History(turns=(), note=None)
        return await self.memory.load(key)

    async def respond(self, question: Question) -> AsyncIterator[AnswerEvent]:
        text, cut_note = prepare_question(question.text, self.answerer.max_question_chars)
        yield StatusEvent(stage="searching", message="Searching the guidance...")
        history, retrieval = await asyncio.gather(
            self._history(question.conversation_key), self.answerer.retrieve(text)
        )
        notes = [note for note in (history.note, cut_note) if note]
        done: DoneEvent | None = None
        async for event in self.answerer.answer(text, history.turns, retrieval, notes):
            if isinstance(event, DoneEvent):
                done = event
            yield event
        if done is not None and question.conversation_key and self.memory is not None:
            await self.memory.append(
                question.conversation_key,
                Turn(role="user", content=text),
                Turn(role="assistant", content=done.answer),
            )
