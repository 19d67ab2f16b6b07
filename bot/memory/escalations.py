"""Escalations in Redis: one record per escalation, and per thread a pointer to the open one.

The pointer is taken with SET NX, so two clicks (or a click and a retried event) on the same
thread open one escalation, whichever replica handles them. Resolving takes a short claim, also
SET NX, so a double click on "Mark resolved" stores one resolution. Every key expires after
`ttl_seconds`; the "recent" list is capped.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from bot.escalation.models import Escalation
from bot.memory.records import as_text, load_record

logger = logging.getLogger(__name__)

_PREFIX = "advisor:escalation"
_RECENT = f"{_PREFIX}:recent"
CLAIM_SECONDS = 120


def record_key(escalation_id: str) -> str:
    return f"{_PREFIX}:item:{escalation_id}"


def open_key(team_id: str, channel_id: str, thread_ts: str) -> str:
    return f"{_PREFIX}:open:{team_id}:{channel_id}:{thread_ts}"


def _claim_key(escalation_id: str) -> str:
    return f"{_PREFIX}:resolving:{escalation_id}"


class EscalationStore:
    def __init__(self, redis: Redis, *, ttl_seconds: int, max_recent: int = 500) -> None:
        self._redis = redis
        self._ttl = ttl_seconds
        self._max_recent = max_recent

    async def create(self, escalation: Escalation) -> bool:
        """Store `escalation` as its thread's open one; False when the thread already has one."""
        await self._redis.set(
            record_key(escalation.escalation_id), escalation.model_dump_json(), ex=self._ttl
        )
        thread = open_key(escalation.team_id, escalation.channel_id, escalation.thread_ts)
        if not await self._redis.set(thread, escalation.escalation_id, nx=True, ex=self._ttl):
            await self._redis.delete(record_key(escalation.escalation_id))
            return False
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lpush(_RECENT, escalation.escalation_id)
            pipe.ltrim(_RECENT, 0, self._max_recent - 1)
            await pipe.execute()
        return True

    async def save(self, escalation: Escalation) -> None:
        await self._redis.set(
            record_key(escalation.escalation_id), escalation.model_dump_json(), ex=self._ttl
        )

    async def get(self, escalation_id: str) -> Escalation | None:
        return _load(await self._redis.get(record_key(escalation_id)))

    async def open_in(self, team_id: str, channel_id: str, thread_ts: str) -> Escalation | None:
        escalation_id = await self._redis.get(open_key(team_id, channel_id, thread_ts))
        if escalation_id is None:
            return None
        escalation = await self.get(as_text(escalation_id))
        return escalation if escalation is not None and escalation.status == "open" else None

    async def is_open(self, team_id: str, channel_id: str, thread_ts: str) -> bool:
        return bool(await self._redis.exists(open_key(team_id, channel_id, thread_ts)))

    async def withdraw(self, escalation: Escalation) -> None:
        """Forget an escalation that could not be announced, so the thread can try again."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(open_key(escalation.team_id, escalation.channel_id, escalation.thread_ts))
            pipe.delete(record_key(escalation.escalation_id))
            pipe.lrem(_RECENT, 0, escalation.escalation_id)
            await pipe.execute()

    async def claim(self, escalation_id: str) -> bool:
        """True for the one caller allowed to resolve it now (a double click gets False)."""
        created = await self._redis.set(_claim_key(escalation_id), "1", nx=True, ex=CLAIM_SECONDS)
        return bool(created)

    async def release(self, escalation_id: str) -> None:
        await self._redis.delete(_claim_key(escalation_id))

    async def close(self, escalation: Escalation) -> None:
        """Store the resolved record and free the thread (the bot answers there again)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(
                record_key(escalation.escalation_id), escalation.model_dump_json(), ex=self._ttl
            )
            pipe.delete(open_key(escalation.team_id, escalation.channel_id, escalation.thread_ts))
            await pipe.execute()

    async def recent(self, limit: int = 20) -> list[Escalation]:
        """Newest first; expired or unreadable records are skipped."""
        if limit <= 0:
            return []
        ids = await self._redis.lrange(_RECENT, 0, limit - 1)
        if not ids:
            return []
        raws = await self._redis.mget([record_key(as_text(i)) for i in ids])
        return [e for e in (_load(raw) for raw in raws) if e is not None]


def _load(raw: bytes | str | None) -> Escalation | None:
    escalation = load_record(Escalation, raw)
    if escalation is None and raw is not None:
        logger.warning("Dropping an unreadable escalation record")
    return escalation
