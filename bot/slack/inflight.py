"""Answers in flight, so a shutdown can let them finish or cancel them visibly.

`track()` wraps one answer; `drain(grace)` stops new work being accepted (`draining`), waits for
what is running, and cancels whatever is left early enough that the cancelled answers can still
say so in Slack and clear their status lines before the grace period ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)

# Of the grace period, the share kept for cancelled answers to tell their users (one or two
# Slack calls each); never more than this many seconds.
_CANCEL_SHARE = 0.3
_CANCEL_MAX_SECONDS = 3.0


class InFlight:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()
        self.draining = False

    def __len__(self) -> int:
        return len(self._tasks)

    def add(self, task: asyncio.Task[object]) -> None:
        """Track a task until it is done (e.g. an event being dispatched after its ack)."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @contextmanager
    def track(self) -> Iterator[None]:
        task = asyncio.current_task()
        if task is None:
            yield
            return
        self._tasks.add(task)
        try:
            yield
        finally:
            self._tasks.discard(task)

    async def drain(self, grace_seconds: float) -> tuple[int, int]:
        """(tasks that finished, tasks cancelled) within `grace_seconds`."""
        self.draining = True
        loop = asyncio.get_running_loop()
        reserve = min(_CANCEL_MAX_SECONDS, grace_seconds * _CANCEL_SHARE)
        deadline = loop.time() + max(0.0, grace_seconds - reserve)
        finished: set[asyncio.Task[object]] = set()
        # Work acked just before the drain may register a moment later: look again each round.
        while (running := self._tasks - finished) and (left := deadline - loop.time()) > 0:
            logger.info("Shutting down: waiting up to %.1fs for %d answers", left, len(running))
            done, _ = await asyncio.wait(running, timeout=left)
            finished |= done
        pending = self._tasks - finished
        for task in pending:
            task.cancel()
        if pending:
            logger.warning("Shutting down: cancelling %d answers still running", len(pending))
            await asyncio.wait(pending, timeout=reserve)
        return len(finished), len(pending)
