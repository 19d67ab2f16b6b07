"""The rules that turn what happened into gaps. One recorder for every front end: the answer
use case calls `after_answer`, the feedback store `after_feedback`, escalation
`record_escalation`.

- `no_match`: every answer that said the guidance does not cover the question.
- `not_helpful`: every "not helpful" vote, with its reason when one is given; the same user's
  later vote on the same answer replaces it (a "helpful" one removes it).
- `escalation`: every question handed to a human expert.
- `provisional`: a provisional verdict whose missing facts were never supplied. At answer time
  the verdict is kept as *pending* for its conversation. A later answer in the same conversation
  that reads any of the missing facts, or reaches a decided verdict, settles it; a verdict
  still provisional after that waits in its place (under the conversation's first question,
  with a fresh window). A pending verdict that nothing settled within
  `pending_seconds` becomes a gap when gaps are next listed (`advisor gaps`,
  `/finetune-admin gaps`, the weekly digest). A question asked with
  no conversation (`advisor ask`) cannot be followed up, so its provisional verdict is a gap at
  once.

Recording never fails an answer or a vote: Redis errors are logged and the gap is lost.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from bot.memory.gaps import GapKind, GapLog, GapRecord, PendingVerdict, clip, conversation_digest
from bot.models import DoneEvent, Question

if TYPE_CHECKING:
    from bot.memory.feedback import FeedbackRecord
    from bot.ops.metrics import Metrics

log = logging.getLogger(__name__)
_FAILURES = (RedisError, OSError)


class GapRecorder:
    def __init__(
        self,
        log_: GapLog,
        *,
        pending_seconds: float = 24 * 3600,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.log = log_
        self.pending_seconds = pending_seconds
        self.metrics = metrics
        self.clock = clock

    async def after_answer(self, question: Question, text: str, done: DoneEvent) -> None:
        """`text` is the question as answered (cleaned and cut)."""
        try:
            await self._after_answer(question.conversation_key, text, done)
        except _FAILURES:
            log.warning("could not record a gap for an answer", exc_info=True)

    async def after_feedback(self, feedback: FeedbackRecord) -> None:
        gap_id = f"not_helpful:{feedback.answer_id}:{conversation_digest(feedback.user_id)}"
        try:
            if feedback.rating == "helpful":
                await self.log.remove(gap_id)
                return
            await self._add(
                GapRecord(
                    gap_id=gap_id,
                    kind="not_helpful",
                    question=clip(feedback.question) or "",
                    reason=clip(feedback.reason),
                    index_version=feedback.index_version,
                    created_at=self.clock(),
                )
            )
        except _FAILURES:
            log.warning("could not record a gap for a vote", exc_info=True)

    async def record_escalation(
        self,
        escalation_id: str,
        question: str,
        *,
        reason: str | None = None,
        index_version: str | None = None,
    ) -> None:
        """A question handed to a human expert; `escalation_id` makes a repeat a replacement."""
        try:
            await self._add(
                GapRecord(
                    gap_id=f"escalation:{escalation_id}"[:200],
                    kind="escalation",
                    question=clip(question) or "",
                    reason=clip(reason),
                    index_version=index_version,
                    created_at=self.clock(),
                )
            )
        except _FAILURES:
            log.warning("could not record a gap for an escalation", exc_info=True)

    async def promote_due(self) -> int:
        """Pending verdicts nothing settled in time become gaps; returns how many."""
        now = self.clock()
        promoted = 0
        for pending in await self.log.all_pending():
            if now - pending.created_at < self.pending_seconds:
                continue
            if not await self.log.take_pending(pending.conversation):
                continue  # another replica (or a settling answer) got there first
            # A gap from the moment it became one, so a digest counts it as new then.
            suffix = f"{pending.conversation}:{pending.created_at}"
            await self._add(_provisional(pending, suffix, now))
            promoted += 1
        return promoted

    async def _after_answer(self, key: str | None, text: str, done: DoneEvent) -> None:
        now = self.clock()
        if done.mode == "no_match":
            await self._add(
                GapRecord(
                    gap_id=f"no_match:{uuid.uuid4().hex}",
                    kind="no_match",
                    question=clip(text) or "",
                    index_version=done.index_version,
                    created_at=now,
                )
            )
        assessment = done.assessment
        open_verdict = (
            assessment is not None
            and assessment.confidence == "provisional"
            and bool(assessment.missing)
        )
        if key is None:
            if open_verdict:
                assert assessment is not None
                pending = _pending("", text, assessment.outcome, assessment.missing, done, now)
                await self._add(_provisional(pending, uuid.uuid4().hex, now))
            return
        if assessment is None:
            return  # no facts read: nothing could have been supplied
        conversation = conversation_digest(key)
        waiting = await self.log.pending(conversation)
        first = text
        if waiting is not None:
            read = {fact.question_id for fact in assessment.facts}
            if not (read & set(waiting.missing) or assessment.confidence == "decided"):
                return  # nothing supplied: the earlier verdict keeps waiting, its clock running
            await self.log.take_pending(conversation)
            # The situation was described in the first message; follow-ups only add to it.
            first = waiting.question
        if open_verdict:
            await self.log.put_pending(
                _pending(conversation, first, assessment.outcome, assessment.missing, done, now)
            )

    async def _add(self, record: GapRecord) -> None:
        if await self.log.add(record) and self.metrics is not None:
            self.metrics.count_gap(record.kind)


def _pending(
    conversation: str,
    text: str,
    outcome: str,
    missing: tuple[str, ...],
    done: DoneEvent,
    now: float,
) -> PendingVerdict:
    return PendingVerdict(
        conversation=conversation,
        question=clip(text) or "",
        outcome=outcome,
        missing=missing,
        index_version=done.index_version,
        created_at=now,
    )


def _provisional(pending: PendingVerdict, suffix: str, now: float) -> GapRecord:
    kind: GapKind = "provisional"
    return GapRecord(
        gap_id=f"{kind}:{suffix}"[:200],
        kind=kind,
        question=pending.question,
        outcome=pending.outcome,
        missing=pending.missing,
        index_version=pending.index_version,
        created_at=now,
    )
