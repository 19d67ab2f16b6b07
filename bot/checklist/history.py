"""Each channel's recent checklist decisions in Redis: validated JSON, capped, with a TTL in days.

Storage: one list per channel, newest first, one JSON `Decision` per element. A write is one
MULTI/EXEC (LPUSH + LTRIM + EXPIRE) so the list never outgrows `max_entries` and lives as long as
the checklist sessions it summarises. Entries that do not validate (a manual edit, an older format)
are skipped on read rather than failing the whole list.
"""

from __future__ import annotations

import logging
import time

from pydantic import Field, ValidationError
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.checklist.definition import ChecklistError, Frozen, OutcomeId

logger = logging.getLogger(__name__)

_OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
_UNAVAILABLE = "The decision history cannot be read right now; please try again in a minute."


def history_key(team_id: str, channel_id: str) -> str:
    return f"advisor:decisions:{team_id}:{channel_id}"


class Decision(Frozen):
    """One completed checklist, as listed by `/finetune-check history`."""

    thread_ts: str
    recommendation: OutcomeId
    label: str
    checklist_version: str
    # Everyone who answered, in order: a checklist is often run by several people in a thread.
    user_ids: tuple[str, ...] = ()
    permalink: str | None = None
    decided_at: float = Field(default_factory=time.time)


class DecisionHistory:
    """Add decisions and list a channel's recent ones."""

    def __init__(self, redis: Redis, ttl_days: float = 14, max_entries: int = 20) -> None:
        if ttl_days <= 0 or max_entries <= 0:
            raise ValueError("ttl_days and max_entries must be positive")
        self._redis = redis
        self._ttl_seconds = max(1, round(ttl_days * 86400))
        self._max_entries = max_entries

    async def add(self, team_id: str, channel_id: str, decision: Decision) -> bool:
        """Record a decision; False when Redis could not take it (the result is shown anyway)."""
        key = history_key(team_id, channel_id)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.lpush(key, decision.model_dump_json())
                pipe.ltrim(key, 0, self._max_entries - 1)
                pipe.expire(key, self._ttl_seconds)
                await pipe.execute()
        except (*_OUTAGE_ERRORS, ResponseError) as exc:
            logger.warning("Could not record a checklist decision in %s: %s", key, exc)
            return False
        return True

    async def recent(self, team_id: str, channel_id: str, limit: int = 10) -> list[Decision]:
        """Newest first, one per thread: re-deciding after Back replaces the earlier entry."""
        key = history_key(team_id, channel_id)
        try:
            raw = await self._redis.lrange(key, 0, self._max_entries - 1)
        except ResponseError:
            logger.warning("Decision history %s is not a list; ignoring it", key)
            return []
        except _OUTAGE_ERRORS as exc:
            raise ChecklistError(_UNAVAILABLE) from exc
        decisions: list[Decision] = []
        seen: set[str] = set()
        for item in raw:
            decision = _parse(item, key)
            if decision is None or decision.thread_ts in seen:
                continue
            seen.add(decision.thread_ts)
            decisions.append(decision)
        return decisions[:limit]


def _parse(raw: str | bytes, key: str) -> Decision | None:
    try:
        return Decision.model_validate_json(raw)
    except ValidationError:
        logger.warning("Skipping an unreadable decision in %s", key)
        return None
