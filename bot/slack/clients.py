"""Every Slack Web API client the app builds: same base URL, same 429 retry policy."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import SlackSettings

RATE_LIMIT_RETRIES = 3


def build_web_client(settings: SlackSettings, token: str | None) -> AsyncWebClient:
    return AsyncWebClient(
        token=token,
        base_url=settings.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
    )
