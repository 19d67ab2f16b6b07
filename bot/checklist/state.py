"""Checklist sessions in Redis: validated JSON, a TTL in days, and compare-and-set on the revision.

Storage: one hash per Slack thread with `rev` (the session's revision) and `data` (its JSON). A
save names the revision it started from and only applies if that is still the stored one, so two
clicks on the same step (or two replicas handling them) cannot both apply. The check and the write
happen in one Lua script, which Redis runs atomically.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.checklist.definition import ChecklistError
from bot.checklist.engine import Session

logger = logging.getLogger(__name__)

_OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
_UNAVAILABLE = "The checklist cannot be saved or loaded right now; please try again in a minute."

# KEYS[1] key; ARGV: expected revision ('' = must not exist), new revision, JSON, TTL seconds.
_COMPARE_AND_SET = """
local kind = redis.call('TYPE', KEYS[1])['ok']
if ARGV[1] == '' then
  if kind ~= 'none' then return 0 end
elseif kind ~= 'hash' or redis.call('HGET', KEYS[1], 'rev') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'rev', ARGV[2], 'data', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""


def checklist_key(team_id: str, channel_id: str, thread_ts: str) -> str:
    return f"advisor:checklist:{team_id}:{channel_id}:{thread_ts}"


class ChecklistStore:
    """Save, load and delete one checklist session per Slack thread."""

    def __init__(self, redis: Redis, ttl_days: float = 14) -> None:
        if ttl_days <= 0:
            raise ValueError("ttl_days must be positive")
        self._redis = redis
        self._ttl_seconds = max(1, round(ttl_days * 86400))

    async def load(self, team_id: str, channel_id: str, thread_ts: str) -> Session | None:
        """The stored session, or None when there is none or it is unreadable (then dropped)."""
        key = checklist_key(team_id, channel_id, thread_ts)
        try:
            rev, data = await self._redis.hmget(key, ["rev", "data"])
        except ResponseError:
            await self._discard(key, "not a checklist hash")
            return None
        except _OUTAGE_ERRORS as exc:
            raise ChecklistError(_UNAVAILABLE) from exc
        if data is None:
            return None
        try:
            session = Session.model_validate_json(data)
        except ValidationError:
            await self._discard(key, "invalid session JSON")
            return None
        if _text(rev) != str(session.revision):
            await self._discard(key, "revision field does not match the session")
            return None
        return session

    async def save(
        self,
        team_id: str,
        channel_id: str,
        thread_ts: str,
        session: Session,
        *,
        expected_revision: int | None,
    ) -> bool:
        """Store `session` if the stored revision is still `expected_revision` (None: no session).

        False means someone else saved first: reload, and show the user the current step.
        """
        key = checklist_key(team_id, channel_id, thread_ts)
        expected = "" if expected_revision is None else str(expected_revision)
        args = [expected, str(session.revision), session.model_dump_json(), str(self._ttl_seconds)]
        try:
            applied = await self._redis.eval(_COMPARE_AND_SET, 1, key, *args)
        except _OUTAGE_ERRORS as exc:
            raise ChecklistError(_UNAVAILABLE) from exc
        return bool(applied)

    async def delete(self, team_id: str, channel_id: str, thread_ts: str) -> bool:
        key = checklist_key(team_id, channel_id, thread_ts)
        try:
            return bool(await self._redis.delete(key))
        except _OUTAGE_ERRORS as exc:
            raise ChecklistError(_UNAVAILABLE) from exc

    async def _discard(self, key: str, reason: str) -> None:
        # A tampered or stale value must not wedge the thread: log it, drop it, start afresh.
        logger.warning("dropping unreadable checklist session", extra={"key": key, "why": reason})
        try:
            await self._redis.delete(key)
        except _OUTAGE_ERRORS:
            logger.warning("could not drop unreadable checklist session", extra={"key": key})


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None
