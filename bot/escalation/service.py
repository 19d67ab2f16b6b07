"""The escalation use case: open one per thread with a summary, resolve it once, by the right
person. No Slack here: the Slack layer posts, reacts and reads the thread, and passes in what it
read (group members, replies)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass

from bot import verdict_text
from bot.checklist.assessment import Fact, assess
from bot.checklist.definition import Checklist
from bot.escalation.models import (
    Escalation,
    EscalationSource,
    EscalationSummary,
    ExpertRoster,
    Resolution,
    ResolverRole,
    ThreadReply,
    new_escalation_id,
)
from bot.escalation.rules import resolver_role
from bot.escalation.summary import summarise
from bot.memory.conversation import ConversationMemory, conversation_key
from bot.memory.escalations import EscalationStore
from bot.models import Frozen, Turn
from bot.ops.metrics import Metrics

logger = logging.getLogger(__name__)

# Called once per new escalation, after it was announced (e.g. to record it as a gap).
OnEscalated = Callable[[Escalation], Awaitable[None]]


class EscalationRequest(Frozen):
    team_id: str
    channel_id: str
    thread_ts: str
    requested_by: str
    asker_id: str
    source: EscalationSource
    # The exchange the button sat under, from its answer record (None from a message).
    answer_id: str | None = None
    question: str | None = None
    answer: str | None = None
    sources: tuple[str, ...] = ()
    index_version: str | None = None


@dataclass(frozen=True)
class Opened:
    escalation: Escalation
    created: bool  # False: the thread already had an open escalation (a double click, a retry)


class EscalationService:
    def __init__(
        self,
        store: EscalationStore,
        roster: ExpertRoster,
        *,
        memory: ConversationMemory | None = None,
        checklist: Checklist | None = None,
        metrics: Metrics | None = None,
        on_escalated: OnEscalated | None = None,
    ) -> None:
        self.store = store
        self.roster = roster
        self._memory = memory
        self._checklist = checklist
        self._metrics = metrics
        self._on_escalated = on_escalated

    async def escalate(self, request: EscalationRequest) -> Opened:
        existing = await self.store.open_in(request.team_id, request.channel_id, request.thread_ts)
        if existing is not None:
            return Opened(existing, created=False)
        escalation = Escalation(
            escalation_id=new_escalation_id(),
            team_id=request.team_id,
            channel_id=request.channel_id,
            thread_ts=request.thread_ts,
            requested_by=request.requested_by,
            asker_id=request.asker_id,
            source=request.source,
            summary=await self._summary(request),
            answer_id=request.answer_id,
            index_version=request.index_version,
        )
        if not await self.store.create(escalation):
            # Another click or replica won the race between our check and the create.
            winner = await self.store.open_in(
                request.team_id, request.channel_id, request.thread_ts
            )
            return Opened(winner or escalation, created=False)
        return Opened(escalation, created=True)

    async def announced(
        self, escalation: Escalation, message_ts: str, listing_ts: str | None
    ) -> Escalation:
        """The escalation is visible in Slack: keep where, count it, tell the hook."""
        shown = escalation.announced(message_ts, listing_ts)
        await self.store.save(shown)
        if self._metrics is not None:
            self._metrics.count_escalation(shown.source)
        if self._on_escalated is not None:
            try:
                await self._on_escalated(shown)
            except Exception:
                logger.exception("The on_escalated hook failed for %s", shown.escalation_id)
        return shown

    async def withdraw(self, escalation: Escalation) -> None:
        await self.store.withdraw(escalation)

    async def open_in(self, team_id: str, channel_id: str, thread_ts: str) -> Escalation | None:
        return await self.store.open_in(team_id, channel_id, thread_ts)

    async def is_escalated(self, team_id: str, channel_id: str, thread_ts: str) -> bool:
        return await self.store.is_open(team_id, channel_id, thread_ts)

    async def get(self, escalation_id: str) -> Escalation | None:
        return await self.store.get(escalation_id)

    def role_of(
        self, user_id: str, escalation: Escalation, group_members: Collection[str] = ()
    ) -> ResolverRole | None:
        return resolver_role(user_id, escalation, self.roster, group_members)

    async def claim(self, escalation: Escalation) -> bool:
        return await self.store.claim(escalation.escalation_id)

    async def release(self, escalation: Escalation) -> None:
        await self.store.release(escalation.escalation_id)

    async def resolve(
        self,
        escalation: Escalation,
        *,
        resolved_by: str,
        role: ResolverRole,
        replies: Sequence[ThreadReply],
        replies_complete: bool,
    ) -> Escalation:
        """Store the resolution with the thread's replies; the caller holds the claim."""
        resolution = Resolution(
            resolved_by=resolved_by,
            role=role,
            replies=tuple(replies),
            replies_complete=replies_complete,
        )
        closed = escalation.resolved(resolution)
        await self.store.close(closed)
        if self._metrics is not None:
            self._metrics.count_escalation_resolved(role)
        return closed

    async def _summary(self, request: EscalationRequest) -> EscalationSummary:
        turns: tuple[Turn, ...] = ()
        facts: tuple[Fact, ...] = ()
        if self._memory is not None:
            key = conversation_key(request.team_id, request.channel_id, request.thread_ts)
            history = await self._memory.load(key)
            turns, facts = history.turns, history.facts
        verdict, fact_lines = await self._verdict(facts)
        return summarise(
            turns,
            answer=request.answer,
            question=request.question,
            verdict=verdict,
            facts=fact_lines,
            sources=request.sources,
        )

    async def _verdict(self, facts: tuple[Fact, ...]) -> tuple[str | None, list[str]]:
        """The verdict the thread's facts give, and the facts in words (the checklist's labels
        when there is a checklist, its ids otherwise)."""
        if not facts:
            return None, []
        if self._checklist is None:
            return None, [f"{f.question_id}: {f.option_id}" for f in facts]
        assessment = await asyncio.to_thread(assess, self._checklist, facts)
        verdict = f"{assessment.label} ({assessment.confidence})"
        lines = verdict_text.facts_lines(self._checklist, assessment)
        return verdict, [line.removeprefix("- ") for line in lines]
