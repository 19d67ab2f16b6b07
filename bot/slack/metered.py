"""Metrics for the Slack layer, by wrapping rather than by editing listeners.

- `SlackErrorCounter` is a retry handler that never retries: the Web API client consults every
  handler on each failed call, so placed first it counts every error (ratelimited included)
  while the real retry handlers after it decide what to do.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.ops.metrics import Metrics


class SlackErrorCounter(AsyncRetryHandler):
    def __init__(self, metrics: Metrics) -> None:
        # A large count so the base class never short-circuits before we have counted.
        super().__init__(max_retry_count=1_000_000)
        self.metrics = metrics

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = request.url.rstrip("/").rsplit("/", 1)[-1] or "unknown"
        if error is not None:
            self.metrics.count_slack_error(method, type(error).__name__)
        elif response is not None:
            body: Any = response.body
            failed = response.status_code >= 400 or (
                isinstance(body, dict) and not body.get("ok", True)
            )
            if failed:
                error_code = body.get("error") if isinstance(body, dict) else None
                self.metrics.count_slack_error(method, str(error_code or response.status_code))
        return False
