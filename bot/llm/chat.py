"""Streaming chat completions with our own retry policy, and a cheap reachability check.

The openai client is built with `max_retries=0` so that exactly one policy decides when to retry:
ours, which knows whether text has already reached the user (then a retry would repeat it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from openai import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AsyncOpenAI,
    OpenAIError,
    Timeout,
)
from openai.types.chat import ChatCompletionMessageParam

from bot.config import LLMSettings
from bot.errors import ConfigError, LLMUnavailableError

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_PING_TIMEOUT = 5.0
_STATUS_NAMES = {
    400: "bad request",
    401: "authentication failed",
    403: "permission denied",
    404: "not found (check the model name and base URL)",
    408: "request timeout",
    409: "conflict",
    422: "unprocessable request",
    429: "rate limited",
}


def build_openai_client(settings: LLMSettings, base_url: str | None = None) -> AsyncOpenAI:
    """One AsyncOpenAI per process. Retries are off here because `ChatClient` owns them."""
    if settings.api_key is None or not settings.api_key.get_secret_value():
        raise ConfigError("OPENAI_API_KEY is not set; it is needed to call the chat endpoint.")
    # Pass the base URL explicitly so the library never falls back to reading the environment
    # itself: settings are the one place configuration comes from.
    return AsyncOpenAI(
        api_key=settings.api_key.get_secret_value(),
        base_url=base_url or settings.base_url or DEFAULT_BASE_URL,
        timeout=Timeout(settings.timeout_seconds, connect=min(settings.timeout_seconds, 10.0)),
        max_retries=0,
    )


# finish_reason values that mean the answer is whole. "length" and "content_filter" stop it
# part-way, and no finish_reason at all means the stream ended before the model did.
_COMPLETE = frozenset({"stop", "tool_calls", "function_call"})
_UNFINISHED_REASONS = {
    None: "ended before the model finished",
    "length": "stopped at the length limit",
    "content_filter": "stopped by the provider's content filter",
}


class UnfinishedStreamError(Exception):
    """The stream ended cleanly (no error, maybe no `[DONE]`) but the model never finished.

    The openai client hides `[DONE]` and treats a clean end of body as the end, so the only sign
    left is the missing `finish_reason`; a proxy that gave up mid-answer looks exactly so.
    """

    def __init__(self, finish_reason: str | None) -> None:
        reason = _UNFINISHED_REASONS.get(finish_reason, f"finish_reason {finish_reason!r}")
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Failure:
    """One failed attempt, described without secrets or server-provided text."""

    reason: str  # e.g. "timed out", "server error 503", "rate limited (429)"
    retryable: bool
    retry_after: float | None = None


def classify(exc: Exception) -> Failure:
    # Never use exc.message: providers echo parts of the API key in 401 messages.
    if isinstance(exc, UnfinishedStreamError):
        return Failure(exc.reason, retryable=True)
    if isinstance(exc, APITimeoutError):
        return Failure("timed out", retryable=True)
    if isinstance(exc, APIConnectionError):
        return Failure("connection failed", retryable=True)
    if isinstance(exc, APIStatusError):
        status = exc.status_code
        if status >= 500:
            return Failure(f"server error {status}", retryable=True)
        name = _STATUS_NAMES.get(status, "request rejected")
        retry_after = parse_retry_after(exc.response.headers) if status == 429 else None
        return Failure(f"{name} ({status})", status in (408, 409, 429), retry_after)
    if isinstance(exc, APIError):
        return Failure("error event in stream", retryable=True)
    if isinstance(exc, ValueError):  # a garbled SSE line from a flaky proxy: bad JSON
        return Failure("malformed response", retryable=True)
    return Failure(f"client error ({type(exc).__name__})", retryable=False)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            seconds = float(raw) / divisor
        except ValueError:
            try:
                seconds = parsedate_to_datetime(raw).timestamp() - time.time()
            except (TypeError, ValueError):
                continue
        if math.isfinite(seconds):
            return max(seconds, 0.0)
    return None


def backoff_delay(attempt: int, base: float, cap: float, retry_after: float | None) -> float:
    """Delay before retry number `attempt` (1-based): the server's hint, else jittered 2^n."""
    if retry_after is not None:
        return min(retry_after, cap)
    ceiling = min(cap, base * 2.0 ** (attempt - 1))
    # Jitter spreads out replicas that failed together so they don't retry in lockstep.
    return ceiling * random.uniform(0.5, 1.0)


class ChatClient:
    def __init__(
        self,
        client: AsyncOpenAI,
        model: str,
        *,
        temperature: float = 0.2,
        max_retries: int = 2,
        timeout_seconds: float = 30.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
    ) -> None:
        self._client = client
        self._model = model
        self._temperature = temperature
        self._max_retries = max(0, max_retries)
        self._timeout = timeout_seconds
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap

    @property
    def model(self) -> str:
        return self._model

    async def stream(self, messages: list[ChatCompletionMessageParam]) -> AsyncGenerator[str, None]:
        """Yield text deltas; raise LLMUnavailableError once retries are exhausted, or at once
        when a stream that already yielded text breaks or ends without the model finishing.

        Each attempt waits at most `timeout_seconds` between bytes; retry waits stop at a
        deadline, so a failing endpoint costs a bounded time before the caller falls back.
        """
        attempts = self._max_retries + 1
        deadline = (
            time.monotonic() + attempts * self._timeout + self._max_retries * self._backoff_cap
        )
        failure = Failure("no attempt made", retryable=False)
        attempt = 0
        while attempt < attempts:
            attempt += 1
            yielded = False
            try:
                # aclosing: if our caller stops early, the HTTP response is closed right away.
                async with contextlib.aclosing(self._attempt(messages)) as texts:
                    async for text in texts:
                        yielded = True
                        yield text
                if yielded:
                    return
                failure = Failure("empty completion", retryable=True)
            except (OpenAIError, ValueError, UnfinishedStreamError) as exc:
                failure = classify(exc)
                if yielded:
                    # Retrying would repeat text the user has already seen; the caller keeps it
                    # and says the answer was cut off.
                    raise LLMUnavailableError(
                        f"stream interrupted after a partial answer ({failure.reason})"
                    ) from exc
                if not failure.retryable:
                    raise LLMUnavailableError(failure.reason) from exc
            if attempt >= attempts:
                break
            delay = backoff_delay(
                attempt, self._backoff_base, self._backoff_cap, failure.retry_after
            )
            if time.monotonic() + delay > deadline:
                break
            logger.warning(
                "chat completion failed (%s); retry %d of %d in %.2fs",
                failure.reason,
                attempt,
                self._max_retries,
                delay,
            )
            await asyncio.sleep(delay)
        plural = "attempt" if attempt == 1 else "attempts"
        raise LLMUnavailableError(f"{failure.reason} after {attempt} {plural}")

    async def _attempt(
        self, messages: list[ChatCompletionMessageParam]
    ) -> AsyncGenerator[str, None]:
        response = await self._client.chat.completions.create(
            model=self._model,
            messages=messages,
            temperature=self._temperature,
            stream=True,
            timeout=self._timeout,
        )
        finish_reason: str | None = None
        # `async with` closes the HTTP response even when the consumer stops reading early.
        async with response as chunks:
            async for chunk in chunks:
                for choice in chunk.choices:
                    text = choice.delta.content or choice.delta.refusal
                    if text:
                        yield text
                    finish_reason = choice.finish_reason or finish_reason
        if finish_reason not in _COMPLETE:
            raise UnfinishedStreamError(finish_reason)

    async def ping(self) -> str | None:
        """None when the endpoint answers, else a short reason. Never takes more than ~5 s."""
        limit = min(self._timeout, _PING_TIMEOUT)
        try:
            async with asyncio.timeout(limit + 0.5):
                await self._client.models.list(timeout=limit)
        except TimeoutError:
            return "timed out"
        except APIStatusError as exc:
            # Some OpenAI-compatible servers have no /models; a 404/405 still proves it answers.
            if exc.status_code in (404, 405):
                return None
            return classify(exc).reason
        except OpenAIError as exc:
            return classify(exc).reason
        return None
