"""What an escalation is: who asked, what the bot had said, and how it ended. Frozen pydantic
models, stored in Redis as JSON (bot/memory/escalations.py) and rendered by the Slack layer."""

from __future__ import annotations

import secrets
import time
from typing import Annotated, Literal

from pydantic import Field

from bot.models import Frozen

EscalationSource = Literal["button", "message"]
EscalationStatus = Literal["open", "resolved"]
ResolverRole = Literal["expert", "asker"]

# Bounds on what one record may hold, so a long thread cannot grow a record without limit.
MAX_REPLIES = 50
REPLY_CHARS = 2000


def new_escalation_id() -> str:
    """Short enough for a button value, random enough never to collide within the TTL."""
    return secrets.token_hex(8)


class ExpertRoster(Frozen):
    """The experts a thread can be handed to: named users, and/or a Slack user group. Only ids
    (checked here too, not just in the settings): they are written into mentions verbatim."""

    user_ids: frozenset[Annotated[str, Field(pattern=r"^[UW][A-Z0-9]{2,}$")]] = frozenset()
    group_id: str | None = Field(None, pattern=r"^S[A-Z0-9]{2,}$")

    @property
    def configured(self) -> bool:
        return bool(self.user_ids) or self.group_id is not None


class EscalationSummary(Frozen):
    """What the experts read first. Plain text taken from users, documents and the model: the
    Slack layer escapes every field, so none of it can ping anyone."""

    question: str = Field("", max_length=1000)  # the question the thread started with
    latest: str | None = Field(None, max_length=1000)  # the last question, when it differs
    verdict: str | None = None  # e.g. "Prompting first (provisional)"
    facts: tuple[str, ...] = ()  # the situation facts the verdict rests on, quoted
    guidance: str = Field("", max_length=1000)  # what the bot's last answer said, clipped
    sources: tuple[str, ...] = ()  # titles of the documents that answer cited


class ThreadReply(Frozen):
    user_id: str
    ts: str
    text: str = Field(max_length=REPLY_CHARS)
    from_expert: bool = False


class Resolution(Frozen):
    resolved_by: str
    role: ResolverRole
    resolved_at: float = Field(default_factory=time.time)
    # The human replies posted in the thread after the escalation, oldest first.
    replies: tuple[ThreadReply, ...] = Field((), max_length=MAX_REPLIES)
    # False when Slack's thread could not be read (whole): the replies may be missing some.
    replies_complete: bool = True


class Escalation(Frozen):
    escalation_id: str = Field(pattern=r"^[a-f0-9]{8,32}$")
    team_id: str
    channel_id: str
    thread_ts: str
    requested_by: str  # who pressed the button or asked for a human
    asker_id: str  # who asked the question the thread is about
    source: EscalationSource
    summary: EscalationSummary
    answer_id: str | None = None  # the answer whose button was pressed
    index_version: str | None = None
    created_at: float = Field(default_factory=time.time)
    message_ts: str | None = None  # the bot's escalation message in the thread
    listing_ts: str | None = None  # its copy in the escalation channel, if one is set
    status: EscalationStatus = "open"
    resolution: Resolution | None = None

    def announced(self, message_ts: str, listing_ts: str | None) -> Escalation:
        return self.model_copy(update={"message_ts": message_ts, "listing_ts": listing_ts})

    def resolved(self, resolution: Resolution) -> Escalation:
        return self.model_copy(update={"status": "resolved", "resolution": resolution})
