"""Slack's rate tiers, kept on our side so a burst slows down instead of collecting 429s.

Slack limits each Web API method per workspace per app per minute: Tier 2 about 20 calls, Tier 3
about 50, Tier 4 about 100 (chat.startStream and chat.stopStream are Tier 2, chat.appendStream
Tier 4, chat.update Tier 3). The pacer allows at most that many calls of a method in any window
(a sliding log of call times) and, after a 429, holds the method back for its Retry-After.
chat.scheduleMessage and chat.deleteScheduledMessage (the decision follow-ups) are Tier 3 too.
Callers that have a cheaper way ask whether a call is free now (`try_take`); the others wait for
one (`take`):

- chat.startStream: none free -> the answer is posted and edited instead of streamed;
- chat.appendStream: none free -> text keeps buffering into the next append or into the stop,
  so under load each stream sends fewer, larger pieces;
- chat.update: none free -> progress edits are skipped; the final edit waits its turn.

The bot serves one workspace (one bot token), so methods are counted per process. With several
replicas each keeps its own count; Slack's 429 with Retry-After, retried by the Web API client,
stays the backstop, and `RateLimitObserver` feeds those 429s back here.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

TIER_2, TIER_3, TIER_4 = 20, 50, 100
_DEFAULT_BUDGETS = MappingProxyType(
    {
        "chat.startStream": TIER_2,
        "chat.stopStream": TIER_2,
        "chat.appendStream": TIER_4,
        "chat.update": TIER_3,
        "chat.scheduleMessage": TIER_3,
        "chat.deleteScheduledMessage": TIER_3,
    }
)


@dataclass(frozen=True)
class RateTiers:
    """Calls allowed per method in any `window_seconds`; methods not listed are not paced."""

    window_seconds: float = 60.0
    budgets: Mapping[str, int] = field(default_factory=lambda: _DEFAULT_BUDGETS)


class RatePacer:
    def __init__(
        self, tiers: RateTiers | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.tiers = tiers or RateTiers()
        self._clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._held_until: dict[str, float] = {}

    def try_take(self, method: str) -> bool:
        """Count a call of `method` now if the budget allows one; otherwise count nothing."""
        return self._wait_time(method) == 0.0 and self._record(method)

    async def take(self, method: str) -> None:
        """Wait until a call of `method` fits the budget, then count it."""
        while (delay := self._wait_time(method)) > 0:  # noqa: ASYNC110 - a timed wait, no event
            await asyncio.sleep(delay)
        self._record(method)

    def hold(self, method: str, seconds: float) -> None:
        """Slack said 429: no call of `method` for `seconds`."""
        until = self._clock() + max(0.0, seconds)
        self._held_until[method] = max(until, self._held_until.get(method, 0.0))

    def _wait_time(self, method: str) -> float:
        now = self._clock()
        held = self._held_until.get(method, 0.0) - now
        budget = self.tiers.budgets.get(method)
        if budget is None:
            return max(0.0, held)
        calls = self._calls.setdefault(method, deque())
        window = self.tiers.window_seconds
        while calls and calls[0] <= now - window:
            calls.popleft()
        full = calls[0] + window - now if len(calls) >= budget else 0.0
        return max(0.0, held, full)

    def _record(self, method: str) -> bool:
        if method in self.tiers.budgets:
            self._calls.setdefault(method, deque()).append(self._clock())
        return True


class RateLimitObserver(AsyncRetryHandler):
    """Tells the pacer about every 429 the Web API client sees. It never retries itself: the
    client asks each handler in turn, and the rate-limit handler after it does the waiting."""

    def __init__(self, pacer: RatePacer) -> None:
        super().__init__(max_retry_count=1_000_000)
        self.pacer = pacer

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            method = request.url.rstrip("/").rsplit("/", 1)[-1]
            self.pacer.hold(method, _retry_after(response))
        return False


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            value = values[0] if isinstance(values, list) else values
            try:
                return float(value)
            except ValueError:
                break
    return 1.0
