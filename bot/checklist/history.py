"""Checklist decisions in Redis, one record per Slack thread, with its follow-up and its outcome.

Storage: each thread's latest decision is one JSON `Decision` under `decision_key` (re-deciding in
the thread replaces it), with a TTL in days long enough for the follow-up to be answered. Two
sorted sets index the records by decision time, newest last: one per channel (what
`/finetune-check history` lists) and one for the whole workspace (what `advisor decisions`
lists), each capped. A record that expired leaves a dangling index entry, skipped on read;
a record that does not validate (a manual edit, an older format) is skipped too.

Updates (the follow-up's scheduled message id, the outcome) read, change and write one record
under WATCH, and only apply to the decision they name: a click on the follow-up of an earlier
decision in the same thread cannot write onto the new one.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Literal

from pydantic import Field, ValidationError
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError, WatchError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.checklist.definition import ChecklistError, Frozen, OutcomeId

logger = logging.getLogger(__name__)

_OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
_UNAVAILABLE = "The decision history cannot be read right now; please try again in a minute."
_UPDATE_ATTEMPTS = 20  # each round at least one writer wins, so this many concurrent ones all land
NOTE_LIMIT = 2000  # characters of the optional note; the modal enforces it too
ALL_DECISIONS_KEY = "advisor:decision-index"

FollowUpChoice = Literal["followed", "other"]
FollowUpResult = Literal["worked", "partly", "did_not"]


def decision_key(team_id: str, channel_id: str, thread_ts: str) -> str:
    return f"advisor:decision:{team_id}:{channel_id}:{thread_ts}"


def channel_index_key(team_id: str, channel_id: str) -> str:
    return f"advisor:decision-index:{team_id}:{channel_id}"


def new_decision_id() -> str:
    return uuid.uuid4().hex[:16]


class FollowUp(Frozen):
    """The message Slack holds for `post_at` (Unix seconds): `chat.scheduleMessage`'s answer."""

    scheduled_message_id: str = Field(min_length=1, max_length=64)
    channel_id: str = Field(min_length=1, max_length=64)
    post_at: int
    user_id: str = Field(min_length=1, max_length=64)  # who it asks


class Outcome(Frozen):
    """What the person asked said: each part is set by its own button, the note in a modal."""

    user_id: str
    choice: FollowUpChoice | None = None
    result: FollowUpResult | None = None
    note: str | None = Field(None, max_length=NOTE_LIMIT)
    updated_at: float


class Decision(Frozen):
    """One completed checklist, as listed by `/finetune-check history` and `advisor decisions`."""

    id: str = Field(default_factory=new_decision_id, pattern=r"^[0-9a-f]{16}$")
    team_id: str
    channel_id: str
    thread_ts: str
    recommendation: OutcomeId
    label: str
    checklist_version: str
    # Everyone who answered, in order: a checklist is often run by several people in a thread.
    user_ids: tuple[str, ...] = ()
    # Who the follow-up asks: the first person who answered (the session does not record who
    # opened the checklist; the first to answer is the nearest to it).
    started_by: str | None = None
    permalink: str | None = None
    decided_at: float = Field(default_factory=time.time)
    followup: FollowUp | None = None
    outcome: Outcome | None = None

    @property
    def key(self) -> str:
        return decision_key(self.team_id, self.channel_id, self.thread_ts)


class DecisionHistory:
    """Add decisions, attach follow-ups and outcomes, and list them by channel or all together."""

    def __init__(
        self,
        redis: Redis,
        ttl_days: float = 365,
        max_entries: int = 200,
        max_all: int = 2000,
    ) -> None:
        if ttl_days <= 0 or max_entries <= 0 or max_all <= 0:
            raise ValueError("ttl_days, max_entries and max_all must be positive")
        self._redis = redis
        self._ttl_seconds = max(1, round(ttl_days * 86400))
        self.max_entries = max_entries
        self._max_all = max_all

    async def add(self, decision: Decision) -> bool:
        """Record a decision (replacing the thread's earlier one); False when Redis could not
        take it (the result is shown anyway)."""
        key, channel_index = decision.key, channel_index_key(decision.team_id, decision.channel_id)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(key, decision.model_dump_json(), ex=self._ttl_seconds)
                for index, cap in (
                    (channel_index, self.max_entries),
                    (ALL_DECISIONS_KEY, self._max_all),
                ):
                    pipe.zadd(index, {key: decision.decided_at})
                    pipe.zremrangebyrank(index, 0, -cap - 1)
                    pipe.expire(index, self._ttl_seconds)
                await pipe.execute()
        except (*_OUTAGE_ERRORS, ResponseError) as exc:
            logger.warning("Could not record a checklist decision in %s: %s", key, exc)
            return False
        return True

    async def get(self, team_id: str, channel_id: str, thread_ts: str) -> Decision | None:
        """The thread's decision, or None when there is none (or it is unreadable)."""
        key = decision_key(team_id, channel_id, thread_ts)
        try:
            raw = await self._redis.get(key)
        except ResponseError:
            return None
        except _OUTAGE_ERRORS as exc:
            raise ChecklistError(_UNAVAILABLE) from exc
        return None if raw is None else _parse(raw, key)

    async def update(
        self,
        team_id: str,
        channel_id: str,
        thread_ts: str,
        decision_id: str,
        change: Callable[[Decision], Decision],
    ) -> tuple[Decision, Decision] | None:
        """Apply `change` to the thread's decision if it is still `decision_id`: (before, after),
        or None when the thread holds no such decision. `change` may raise to refuse."""
        key = decision_key(team_id, channel_id, thread_ts)
        try:
            for _ in range(_UPDATE_ATTEMPTS):
                try:
                    async with self._redis.pipeline(transaction=True) as pipe:
                        await pipe.watch(key)
                        raw = await pipe.get(key)
                        before = None if raw is None else _parse(raw, key)
                        if before is None or before.id != decision_id:
                            return None
                        after = change(before)
                        pipe.multi()  # type: ignore[no-untyped-call]
                        pipe.set(key, after.model_dump_json(), keepttl=True)
                        await pipe.execute()
                        return before, after
                except WatchError:
                    continue  # someone else wrote the record meanwhile: read it again
        except ResponseError:
            return None
        except _OUTAGE_ERRORS as exc:
            raise ChecklistError(
                "The decision could not be updated right now; please try again."
            ) from exc
        raise ChecklistError("The decision is being changed by someone else; please try again.")

    async def recent(self, team_id: str, channel_id: str, limit: int = 10) -> list[Decision]:
        """This channel's decisions, newest first."""
        return await self._listed(channel_index_key(team_id, channel_id), limit)

    async def everything(self, limit: int | None = None) -> list[Decision]:
        """Every decision still kept, across channels, newest first."""
        return await self._listed(ALL_DECISIONS_KEY, limit or self._max_all)

    async def _listed(self, index: str, limit: int) -> list[Decision]:
        try:
            found = await self._redis.zrevrange(index, 0, max(0, limit - 1))
            keys = [str(key) for key in found]
            raws = await self._redis.mget(keys) if keys else []
        except ResponseError:
            logger.warning("Decision index %s is not a sorted set; ignoring it", index)
            return []
        except _OUTAGE_ERRORS as exc:
            raise ChecklistError(_UNAVAILABLE) from exc
        decisions = [_parse(raw, key) for key, raw in zip(keys, raws, strict=True) if raw]
        return [d for d in decisions if d is not None]


def _parse(raw: str | bytes, key: str) -> Decision | None:
    try:
        return Decision.model_validate_json(raw)
    except ValidationError:
        logger.warning("Skipping an unreadable decision in %s", key)
        return None
