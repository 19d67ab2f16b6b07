"""Every Slack Web API client the app builds: same base URL, same retry policy.

429s wait for Retry-After and try again. A 500 or 503 is retried once: Slack answers those when
it could not process the call, and without a retry one blip in the middle of a streamed answer
cut the answer short and posted an apology instead.
"""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import SlackSettings

RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 1


def build_web_client(settings: SlackSettings, token: str | None) -> AsyncWebClient:
    return AsyncWebClient(
        token=token,
        base_url=settings.api_url,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            AsyncServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
        ],
    )
