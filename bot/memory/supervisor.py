"""Keep the embedded redis-server running for as long as the process that uses it.

The server is a child process, so it can die on its own (the OOM killer, a `kill -9`, a crash).
The bot already answers without memory while Redis is down; without a restart it would stay
down for the life of the process: readiness failing, Slack retries answered twice, checklists
unavailable. The supervisor notices the death within `interval` seconds and starts a new server
on the same socket and data file, which reloads everything that was acknowledged (the
append-only file is written before each reply). The Redis client reconnects by itself.

Restarts are bounded: a server that keeps failing to start (a full disk, a corrupt file) is
retried `attempts` times with exponential backoff, then the supervisor gives up and logs an
error, and /readyz stays 503 so an orchestrator replaces the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.memory.embedded_redis import EmbeddedRedis, EmbeddedRedisError

logger = logging.getLogger(__name__)


class RedisSupervisor:
    """A background task watching one `EmbeddedRedis`; `start` and `stop` from the owner."""

    def __init__(
        self,
        server: EmbeddedRedis,
        *,
        interval: float = 0.5,
        attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
    ) -> None:
        self._server = server
        self._interval = interval
        self._attempts = attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.restarts = 0  # successful restarts, for tests and the log

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name="embedded-redis-supervisor")

    async def stop(self) -> None:
        """Stop watching. A restart under way is finished first (at most the server's start
        timeout), so the owner never stops a server while another one is being spawned."""
        self._stopping.set()
        if self._task is not None:
            await self._task

    async def _watch(self) -> None:
        try:
            await self._watch_until_stopped()
        except Exception:
            # Never die silently: without the supervisor nothing restarts Redis any more.
            logger.exception("The embedded Redis supervisor failed; Redis is no longer watched")

    async def _watch_until_stopped(self) -> None:
        while not await self._stopped_within(self._interval):
            # Our own child is checked without I/O; a reused server needs a socket connect.
            reason = await asyncio.to_thread(self._server.exit_reason)
            if reason is None:
                continue
            logger.warning("The embedded Redis server is gone (%s); restarting it", reason)
            if not await self._restart():
                logger.error(
                    "The embedded Redis server could not be restarted after %d attempts; "
                    "answers continue without memory. Restart the process (or set REDIS_URL).",
                    self._attempts,
                )
                return

    async def _restart(self) -> bool:
        for attempt in range(1, self._attempts + 1):
            try:
                await asyncio.to_thread(self._server.start)
            except (EmbeddedRedisError, OSError) as exc:
                delay = min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
                logger.warning(
                    "Restart %d of %d of the embedded Redis server failed: %s",
                    attempt,
                    self._attempts,
                    exc.message if isinstance(exc, EmbeddedRedisError) else exc,
                )
                if attempt == self._attempts or await self._stopped_within(delay):
                    return False
            else:
                self.restarts += 1
                logger.warning(
                    "The embedded Redis server restarted from its data file on %s (attempt %d)",
                    self._server.socket_path,
                    attempt,
                )
                return True
        return False

    async def _stopped_within(self, seconds: float) -> bool:
        """Wait up to `seconds`; True as soon as `stop` was called."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()
