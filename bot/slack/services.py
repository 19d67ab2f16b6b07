"""What the Slack layer needs from the rest of the app, passed in explicitly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.asyncio import Redis

from bot.config import SlackBehaviour
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


@dataclass
class SlackServices:
    responder: Responder
    redis: Redis
    feedback: FeedbackStore
    behaviour: SlackBehaviour = field(default_factory=SlackBehaviour)
    # None until the checklist exists: the button and the shortcut are then not offered.
    start_checklist: StartChecklist | None = None
