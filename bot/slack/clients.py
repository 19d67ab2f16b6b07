"""Every Slack Web API client the app builds: same base URL, connection pool and retry policy.

Retries, in the order the client consults them:
- a dropped or refused connection is retried once (slack-sdk's default handler, kept: without it
  a blip between us and Slack cut an answer short);
- a 429 waits for Retry-After and tries again, up to three times;
- a 500 or 503 is retried once: Slack answers those when it could not process the call.
Before them, observers that never retry: the error counter (metrics) and the rate pacer, which
learns about every 429 so other answers hold back too.
"""

from __future__ import annotations

from aiohttp import ClientSession
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import SlackSettings
from bot.ops.metrics import Metrics
from bot.slack.metered import SlackErrorCounter
from bot.slack.pacing import RateLimitObserver, RatePacer

CONNECTION_RETRIES = 1
RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 1


def retry_handlers(
    metrics: Metrics | None = None, pacer: RatePacer | None = None
) -> list[AsyncRetryHandler]:
    observers: list[AsyncRetryHandler] = []
    if metrics is not None:
        observers.append(SlackErrorCounter(metrics))
    if pacer is not None:
        observers.append(RateLimitObserver(pacer))
    return [
        *observers,
        AsyncConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        AsyncServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
    ]


def build_web_client(
    settings: SlackSettings,
    token: str | None,
    *,
    session: ClientSession | None = None,
    metrics: Metrics | None = None,
    pacer: RatePacer | None = None,
) -> AsyncWebClient:
    """`session` pools connections (kept alive across calls); without one, slack-sdk opens and
    closes a connection for every call. Bolt hands the same session to its per-request copies."""
    return AsyncWebClient(
        token=token,
        base_url=settings.api_url,
        session=session,
        retry_handlers=retry_handlers(metrics, pacer),
    )
