"""Progress for a long admin job, shown by editing one message at most about once a second.

The indexer reports progress synchronously and often; this keeps only the latest state and a
background task sends it, so a slow chat API never slows the build and the API is not flooded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from types import TracebackType

log = logging.getLogger(__name__)

Send = Callable[[str], Awaitable[None]]


class ThrottledProgress:
    def __init__(self, send: Send, render: Callable[[str, int, int], str], interval: float = 1.0):
        self._send = send
        self._render = render
        self._interval = interval
        self._latest: str | None = None
        self._sent: str | None = None
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._sending = False
        self.updates_sent = 0

    def update(self, stage: str, done: int, total: int) -> None:
        """The indexer's ProgressFn: cheap, never blocks."""
        self._latest = self._render(stage, done, total)
        self._changed.set()

    async def __aenter__(self) -> ThrottledProgress:
        self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping = True
        self._changed.set()
        if self._task is None:
            return
        # A send in flight is allowed to finish, so the caller knows whether a message exists.
        if not self._sending:
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _loop(self) -> None:
        last = 0.0
        while not self._stopping:
            await self._changed.wait()
            # Wait out the rest of the interval, then send whatever is newest by then.
            delay = last + self._interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if self._stopping:
                return
            self._changed.clear()
            text = self._latest
            if text is None or text == self._sent:
                continue
            last = time.monotonic()
            self._sending = True
            try:
                await self._send(text)
                self._sent = text
                self.updates_sent += 1
            except Exception:
                # Progress is a courtesy; the final summary is sent separately.
                log.warning("could not show reindex progress", exc_info=True)
            finally:
                self._sending = False
