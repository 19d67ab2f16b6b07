"""What the Slack layer needs from the rest of the app, passed in explicitly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.asyncio import Redis

from bot.admin.service import AdminService
from bot.checklist.definition import Checklist
from bot.checklist.history import DecisionHistory
from bot.checklist.state import ChecklistStore
from bot.config import SlackBehaviour
from bot.memory.conversation import ConversationMemory
from bot.memory.feedback import FeedbackStore
from bot.models import AnswerEvent, Question


class Responder(Protocol):
    """Yields StatusEvent(s), DeltaEvent(s), then exactly one DoneEvent; loads/saves memory."""

    def respond(self, question: Question) -> AsyncIterator[AnswerEvent]: ...


@dataclass(frozen=True)
class ChecklistRequest:
    """Where and by whom the decision checklist was asked for.

    `client` is the app's AsyncWebClient (typed loosely so callers outside bot/slack need not
    import slack_sdk); `trigger_id` is set when the request came from a button, for a modal.
    """

    team_id: str
    channel_id: str
    thread_ts: str
    user_id: str
    client: Any
    trigger_id: str | None = None


StartChecklist = Callable[[ChecklistRequest], Awaitable[None]]


@dataclass(frozen=True)
class ChecklistServices:
    """The decision checklist in Slack: its definition and where sessions and results live.

    `memory` receives a summary of each result so follow-up questions in the thread see it;
    `index_version` names the knowledge index in exported decision records (None: unknown).
    """

    definition: Checklist
    store: ChecklistStore
    history: DecisionHistory
    memory: ConversationMemory | None
    index_version: Callable[[], Awaitable[str | None]]


@dataclass
class SlackServices:
    responder: Responder
    redis: Redis
    feedback: FeedbackStore
    behaviour: SlackBehaviour = field(default_factory=SlackBehaviour)
    # With neither, the checklist button and prompt are not offered. Tests may pass only a hook.
    start_checklist: StartChecklist | None = None
    checklist: ChecklistServices | None = None
    # /finetune-admin, /readyz and /metrics exist only when the composition root passes one.
    admin: AdminService | None = None

    def __post_init__(self) -> None:
        if self.checklist is not None and self.start_checklist is None:
            # Imported here because the flow itself needs this module's types.
            from bot.slack.checklist_flow import start_checklist

            async def start(request: ChecklistRequest) -> None:
                await start_checklist(self, request)

            self.start_checklist = start
