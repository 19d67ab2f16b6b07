"""What the Slack layer needs from the rest of the app, passed in explicitly and frozen.

Built once by `bot.slack.wiring.assemble_services` (production and the test harness alike);
listeners read it and never change it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from bot.admin.service import AdminService
from bot.config import SlackBehaviour
from bot.gaps.digest import WeeklyDigest
from bot.gaps.service import GapService
from bot.memory.conversation import ConversationMemory
from bot.memory.dedupe import Deliveries
from bot.memory.feedback import FeedbackStore
from bot.memory.threads import ThreadMarks
from bot.models import AnswerEvent, Question
from bot.slack.checklist_services import ChecklistServices, StartChecklist
from bot.slack.escalation_services import Escalations
from bot.slack.inflight import InFlight
from bot.slack.pacing import RatePacer


class Responder(Protocol):
    """Yields StatusEvent(s), DeltaEvent(s), then exactly one DoneEvent; loads/saves memory."""

    def respond(self, question: Question) -> AsyncIterator[AnswerEvent]: ...


@dataclass(frozen=True)
class SlackServices:
    responder: Responder
    feedback: FeedbackStore
    threads: ThreadMarks
    deliveries: Deliveries
    # Where a turn the user stopped half-way is remembered (None: no conversation memory).
    memory: ConversationMemory | None = None
    behaviour: SlackBehaviour = field(default_factory=SlackBehaviour)
    # With no hook, answers offer no checklist button and the prompt is not recognised.
    start_checklist: StartChecklist | None = None
    checklist: ChecklistServices | None = None
    # /finetune-admin, /readyz and /metrics exist only when the composition root passes one.
    admin: AdminService | None = None
    # "Ask an expert" exists only when experts are configured (bot/slack/escalation_services.py).
    escalation: Escalations | None = None
    # Per-process state shared by every answer: Slack's rate tiers and the answers in flight.
    pacer: RatePacer = field(default_factory=RatePacer)
    inflight: InFlight = field(default_factory=InFlight)
    # What the guidance misses: `/finetune-admin gaps`, and the weekly digest `serve` runs.
    gaps: GapService | None = None
    digest: WeeklyDigest | None = None
