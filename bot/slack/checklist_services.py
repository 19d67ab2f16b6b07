"""What the decision checklist needs in Slack, and how the rest of the layer asks for one.

Its own module so the flow (which implements it) and `SlackServices` (which carries it) both
depend on it and never on each other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.checklist.definition import Checklist
from bot.checklist.history import DecisionHistory
from bot.checklist.state import ChecklistStore
from bot.memory.conversation import ConversationMemory
from bot.memory.threads import ThreadMarks
from bot.slack.followup import FollowUps


@dataclass(frozen=True)
class ChecklistRequest:
    """Where and by whom the decision checklist was asked for; `trigger_id` is set when the
    request came from a button (a modal could be opened with it).

    `read_facts` ("Confirm in the checklist"): fill in the answers read from this thread's
    messages. The facts are looked up in the thread's conversation memory by the start service;
    a request never carries them, so nothing a client sends can put answers in a checklist.
    """

    team_id: str
    channel_id: str
    thread_ts: str
    user_id: str
    client: AsyncWebClient
    trigger_id: str | None = None
    read_facts: bool = False


StartChecklist = Callable[[ChecklistRequest], Awaitable[None]]


@dataclass(frozen=True)
class ChecklistServices:
    """The checklist's definition and where sessions and results live.

    `memory` receives a summary of each result so follow-up questions in the thread see it;
    `threads` marks the checklist's thread so follow-ups there need no mention;
    `index_version` names the knowledge index in exported decision records (None: unknown);
    `followups` schedules the "how did it go?" message after each decision (None: never).
    """

    definition: Checklist
    store: ChecklistStore
    history: DecisionHistory
    memory: ConversationMemory | None
    threads: ThreadMarks
    index_version: Callable[[], Awaitable[str | None]]
    followups: FollowUps | None = None
