"""One reindex at a time across every replica: a Redis lock with an owner and an expiry.

The value names who holds it (shown to a second admin) and carries a random token, so only the
owner can refresh or release it: both are compare-and-act Lua scripts, atomic in Redis. The
expiry frees the lock when a replica dies mid-build; a live owner refreshes it well before that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from bot.errors import UserFacingError
from bot.models import Frozen

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

LOCK_KEY = "advisor:admin:reindex-lock"

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_REFRESH = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


class LockHolder(Frozen):
    owner: str  # Slack user id, or "cli"
    started_at: str  # ISO 8601, UTC
    host: str
    token: str
    pid: int = 0  # 0: written by a version that did not record it


def _dead(holder: LockHolder, host: str) -> bool:
    """A holder on this host whose process is gone (a killed `advisor reindex`): its lock need
    not wait out the expiry. Another host's holder is never judged from here."""
    if holder.host != host or holder.pid <= 0 or holder.pid == os.getpid():
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class ReindexBusyError(UserFacingError):
    """Another reindex holds the lock; the message says who started it and when."""

    def __init__(self, holder: LockHolder | None) -> None:
        self.holder = holder
        if holder is None:
            text = "A reindex is already running; try again in a minute."
        else:
            who = holder.owner if holder.owner == "cli" else f"<@{holder.owner}>"
            text = f"A reindex is already running, started by {who} at {holder.started_at} UTC."
        super().__init__(text)


class ReindexLock:
    def __init__(
        self,
        redis: Redis,
        *,
        ttl_seconds: float = 60.0,
        host: str | None = None,
        key: str = LOCK_KEY,
    ) -> None:
        self._redis = redis
        self._ttl_ms = int(ttl_seconds * 1000)
        self._host = host or socket.gethostname()
        self.key = key

    async def acquire(self, owner: str) -> LockHolder | None:
        """The new holder, or None when someone else holds the lock."""
        holder = LockHolder(
            owner=owner,
            started_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            host=self._host,
            token=secrets.token_hex(8),
            pid=os.getpid(),
        )
        taken = await self._redis.set(self.key, holder.model_dump_json(), nx=True, px=self._ttl_ms)
        return holder if taken else None

    async def ping(self) -> None:
        """Raise a redis or OS error when Redis cannot be reached."""
        await self._redis.ping()

    async def holder(self) -> LockHolder | None:
        raw = await self._redis.get(self.key)
        if raw is None:
            return None
        try:
            return LockHolder.model_validate_json(raw)
        except ValidationError:
            return None

    async def refresh(self, holder: LockHolder) -> bool:
        done = await self._redis.eval(
            _REFRESH, 1, self.key, holder.model_dump_json(), str(self._ttl_ms)
        )
        return bool(done)

    async def release(self, holder: LockHolder) -> bool:
        done = await self._redis.eval(_RELEASE, 1, self.key, holder.model_dump_json())
        return bool(done)

    @contextlib.asynccontextmanager
    async def hold(self, owner: str) -> AsyncIterator[LockHolder]:
        """Hold the lock for the block, refreshing it; raise ReindexBusyError if it is taken."""
        holder = await self.acquire(owner)
        if holder is None:
            current = await self.holder()
            if current is not None and _dead(current, self._host):
                log.warning("reindex lock held by dead process %d on this host; taking it over",
                            current.pid)  # fmt: skip
                await self.release(current)
                holder = await self.acquire(owner)
        if holder is None:
            raise ReindexBusyError(await self.holder())
        refresher = asyncio.create_task(self._keep_alive(holder))
        try:
            yield holder
        finally:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
            # Shielded: a cancelled reindex must still free the lock for the next admin.
            await asyncio.shield(self.release(holder))

    async def _keep_alive(self, holder: LockHolder) -> None:
        # A third of the TTL leaves two refresh attempts before the lock could lapse.
        interval = self._ttl_ms / 3000
        while True:
            await asyncio.sleep(interval)
            try:
                if not await self.refresh(holder):
                    log.error("reindex lock %s was lost (expired or taken over)", self.key)
                    return
            except Exception:
                log.warning("could not refresh the reindex lock; retrying", exc_info=True)
