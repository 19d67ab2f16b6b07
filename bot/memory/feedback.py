"""Answers and the feedback on them, in Redis.

Each answer shown in Slack gets a short id that travels in the feedback buttons' value; the answer
record (question, answer, citations, index version) lives under that id so a click can be joined
to what was actually shown. Feedback is one record per (answer, user) — a second click replaces
the first — plus a capped "recent" list of those record ids for `advisor feedback`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis

from bot.memory.records import as_text, load_record
from bot.models import AnswerMode, Citation

Rating = Literal["helpful", "not_helpful"]

_PREFIX = "advisor:feedback"
_ANSWER_PREFIX = "advisor:answer"
_RECENT = f"{_PREFIX}:recent"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AnswerRecord(_Record):
    answer_id: str = Field(pattern=r"^[a-f0-9]{6,32}$")
    team_id: str
    channel_id: str
    thread_ts: str
    user_id: str
    question: str
    answer: str
    mode: AnswerMode
    citations: tuple[Citation, ...] = ()
    index_version: str | None = None
    created_at: float = Field(default_factory=time.time)


class FeedbackRecord(_Record):
    answer_id: str
    user_id: str
    rating: Rating
    reason: str | None = Field(None, max_length=2000)
    team_id: str
    channel_id: str
    thread_ts: str
    question: str
    answer: str
    citations: tuple[Citation, ...] = ()
    index_version: str | None = None
    created_at: float = Field(default_factory=time.time)

    @property
    def feedback_id(self) -> str:
        return f"{self.answer_id}:{self.user_id}"


# Told of every vote once it is stored (the gap recorder: "not helpful" votes are gaps).
OnFeedback = Callable[["FeedbackRecord"], Awaitable[None]]


def new_answer_id() -> str:
    """Short enough for a button value, random enough not to collide within the answer TTL."""
    return secrets.token_hex(6)


class FeedbackStore:
    def __init__(
        self,
        redis: Redis,
        *,
        max_recent: int = 1000,
        answer_ttl_seconds: int = 90 * 24 * 3600,
        feedback_ttl_seconds: int = 365 * 24 * 3600,
        on_record: OnFeedback | None = None,
    ) -> None:
        self._redis = redis
        self._max_recent = max_recent
        self._answer_ttl = answer_ttl_seconds
        self._feedback_ttl = feedback_ttl_seconds
        self._on_record = on_record

    async def save_answer(self, record: AnswerRecord) -> None:
        await self._redis.set(
            f"{_ANSWER_PREFIX}:{record.answer_id}", record.model_dump_json(), ex=self._answer_ttl
        )

    async def get_answer(self, answer_id: str) -> AnswerRecord | None:
        raw = await self._redis.get(f"{_ANSWER_PREFIX}:{answer_id}")
        return load_record(AnswerRecord, raw)

    async def record(
        self, answer: AnswerRecord, *, user_id: str, rating: Rating, reason: str | None = None
    ) -> FeedbackRecord:
        """Store (or replace) this user's feedback on this answer and move it to the front."""
        feedback = FeedbackRecord(
            answer_id=answer.answer_id,
            user_id=user_id,
            rating=rating,
            reason=(reason or "").strip()[:2000] or None,
            team_id=answer.team_id,
            channel_id=answer.channel_id,
            thread_ts=answer.thread_ts,
            question=answer.question,
            answer=answer.answer,
            citations=answer.citations,
            index_version=answer.index_version,
        )
        feedback_id = feedback.feedback_id
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(f"{_PREFIX}:item:{feedback_id}", feedback.model_dump_json())
            pipe.expire(f"{_PREFIX}:item:{feedback_id}", self._feedback_ttl)
            pipe.lrem(_RECENT, 0, feedback_id)
            pipe.lpush(_RECENT, feedback_id)
            pipe.ltrim(_RECENT, 0, self._max_recent - 1)
            await pipe.execute()
        if self._on_record is not None:
            await self._on_record(feedback)
        return feedback

    async def get(self, answer_id: str, user_id: str) -> FeedbackRecord | None:
        return load_record(
            FeedbackRecord, await self._redis.get(f"{_PREFIX}:item:{answer_id}:{user_id}")
        )

    async def recent(self, limit: int = 20) -> list[FeedbackRecord]:
        """Newest first. Records that expired or no longer validate are skipped, not fatal."""
        if limit <= 0:
            return []
        ids = await self._redis.lrange(_RECENT, 0, limit - 1)
        if not ids:
            return []
        keys = [f"{_PREFIX}:item:{as_text(feedback_id)}" for feedback_id in ids]
        raws = await self._redis.mget(keys)
        records = [load_record(FeedbackRecord, raw) for raw in raws]
        return [record for record in records if record is not None]
