"""What the guidance misses, in Redis: a bounded, expiring log of gaps, and the provisional
verdicts still waiting for their missing facts.

Storage, all under `advisor:gaps:`:
- `items` (hash gap id -> `GapRecord` JSON) and `log` (sorted set gap id by time). A write
  upserts by gap id (a second vote by the same user on the same answer replaces the first),
  then drops what is older than the TTL and the oldest beyond `max_records`; both keys expire
  `ttl` after the last write, so an idle deployment forgets everything on its own.
- `pending` (hash conversation digest -> `PendingVerdict` JSON): one per conversation, bounded
  the same way. Whoever removes a pending entry (HDEL returns 1) owns it, so with several
  replicas a verdict is promoted to a gap exactly once.

No secrets and no Slack ids are kept: the question, an optional reason, the checklist question
ids still open, the verdict's outcome and the index version. Conversations are named by a
digest of their key, enough to match a later answer in the same thread and nothing more.
"""

from __future__ import annotations

import hashlib
import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis

from bot.memory.records import as_text, load_record

GapKind = Literal["no_match", "not_helpful", "escalation", "provisional"]
GAP_KINDS: tuple[GapKind, ...] = ("no_match", "not_helpful", "escalation", "provisional")
MAX_TEXT = 2000

_PREFIX = "advisor:gaps"
ITEMS = f"{_PREFIX}:items"
LOG = f"{_PREFIX}:log"
PENDING = f"{_PREFIX}:pending"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GapRecord(_Record):
    gap_id: str = Field(min_length=1, max_length=200)
    kind: GapKind
    question: str = Field(max_length=MAX_TEXT)
    reason: str | None = Field(None, max_length=MAX_TEXT)  # a vote's reason, an escalation's
    outcome: str | None = None  # provisional: the verdict that was never firmed up
    missing: tuple[str, ...] = ()  # provisional: the checklist questions left open
    index_version: str | None = None
    created_at: float = Field(default_factory=time.time)


class PendingVerdict(_Record):
    conversation: str  # digest of the conversation key
    question: str = Field(max_length=MAX_TEXT)
    outcome: str
    missing: tuple[str, ...]
    index_version: str | None = None
    created_at: float


def conversation_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def clip(text: str | None) -> str | None:
    cleaned = (text or "").strip()
    return cleaned[:MAX_TEXT] or None


class GapLog:
    def __init__(
        self, redis: Redis, *, ttl_seconds: int = 90 * 24 * 3600, max_records: int = 2000
    ) -> None:
        self._redis = redis
        self.ttl_seconds = ttl_seconds
        self.max_records = max_records

    async def add(self, record: GapRecord) -> bool:
        """Store (or replace) `record`; True when it is a new gap."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(ITEMS, record.gap_id, record.model_dump_json())
            pipe.zadd(LOG, {record.gap_id: record.created_at})
            pipe.expire(ITEMS, self.ttl_seconds)
            pipe.expire(LOG, self.ttl_seconds)
            created, *_ = await pipe.execute()
        await self._trim(time.time())
        return bool(created)

    async def remove(self, gap_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(ITEMS, gap_id)
            pipe.zrem(LOG, gap_id)
            await pipe.execute()

    async def since(self, start: float, until: float | None = None) -> list[GapRecord]:
        """Gaps recorded from `start` (epoch seconds) to `until`, oldest first."""
        ids = await self._redis.zrangebyscore(LOG, start, "+inf" if until is None else until)
        if not ids:
            return []
        raws = await self._redis.hmget(ITEMS, [as_text(gap_id) for gap_id in ids])  # type: ignore[arg-type]
        records = (load_record(GapRecord, raw) for raw in raws)
        return [record for record in records if record is not None]

    async def _trim(self, now: float) -> None:
        expired = await self._redis.zrangebyscore(LOG, "-inf", now - self.ttl_seconds)
        overflow = await self._redis.zrange(LOG, 0, -(self.max_records + 1))
        doomed = {as_text(gap_id) for gap_id in (*expired, *overflow)}
        if doomed:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hdel(ITEMS, *doomed)
                pipe.zrem(LOG, *doomed)
                await pipe.execute()

    # -- provisional verdicts waiting for their missing facts ------------------------------

    async def pending(self, conversation: str) -> PendingVerdict | None:
        return load_record(PendingVerdict, await self._redis.hget(PENDING, conversation))

    async def put_pending(self, verdict: PendingVerdict) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(PENDING, verdict.conversation, verdict.model_dump_json())
            pipe.expire(PENDING, self.ttl_seconds)
            await pipe.execute()
        if await self._redis.hlen(PENDING) > self.max_records:
            oldest = sorted(await self.all_pending(), key=lambda item: item.created_at)
            excess = oldest[: len(oldest) - self.max_records]
            if excess:
                await self._redis.hdel(PENDING, *(item.conversation for item in excess))

    async def take_pending(self, conversation: str) -> bool:
        """Remove the conversation's pending verdict; True for the one caller that did."""
        return bool(await self._redis.hdel(PENDING, conversation))

    async def all_pending(self) -> list[PendingVerdict]:
        raws = await self._redis.hvals(PENDING)
        records = (load_record(PendingVerdict, raw) for raw in raws)
        return [record for record in records if record is not None]

    async def count_pending(self) -> int:
        return int(await self._redis.hlen(PENDING))
