"""One Slack message of an answer: natively streamed, or posted then updated as a fallback."""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import Block, fit_blocks, text_sections
from bot.slack.mrkdwn import sanitize_markdown, to_mrkdwn

logger = logging.getLogger(__name__)

# Fewer appendStream calls: Slack rate-limits chat methods per channel.
STREAM_BUFFER_CHARS = 200
UPDATE_INTERVAL_SECONDS = 1.0
_NOTIFICATION_CHARS = 2_900


class StreamUnavailable(Exception):
    """chat.startStream refused (unknown_method, not allowed here...); use the fallback."""


class Part(Protocol):
    text: str  # the raw Markdown this message holds so far

    async def append(self, markdown: str) -> None: ...
    async def close(self, footer: list[Block]) -> None: ...


class Target:
    """Where an answer goes. Streaming to a channel needs the recipient (team and user)."""

    def __init__(
        self, client: AsyncWebClient, *, channel_id: str, thread_ts: str, team_id: str, user_id: str
    ) -> None:
        self.client = client
        self.channel_id = channel_id
        self.thread_ts = thread_ts
        self.team_id = team_id
        self.user_id = user_id


class StreamPart:
    """chat.startStream / appendStream / stopStream through slack-sdk's AsyncChatStream."""

    def __init__(self, target: Target) -> None:
        self.text = ""
        self._stream: AsyncChatStream = _open_stream(target)

    async def append(self, markdown: str) -> None:
        self.text += markdown
        await self._guard(self._stream.append(markdown_text=sanitize_markdown(markdown)))

    async def close(self, footer: list[Block]) -> None:
        await self._guard(self._stream.stop(blocks=footer or None))

    async def _guard(self, call: Any) -> None:
        try:
            await call
        except SlackApiError as exc:
            # Before the first message exists nothing is lost: the caller reposts `text`.
            if self._stream.ts is None:
                raise StreamUnavailable(str(exc.response.get("error"))) from exc
            raise


def _open_stream(target: Target) -> AsyncChatStream:
    # AsyncWebClient.chat_stream only builds the helper; no request is made until a flush.
    stream: AsyncChatStream = AsyncChatStream(
        target.client,
        logger=logger,
        channel=target.channel_id,
        thread_ts=target.thread_ts,
        recipient_team_id=target.team_id,
        recipient_user_id=target.user_id,
        buffer_size=STREAM_BUFFER_CHARS,
    )
    return stream


class PostUpdatePart:
    """chat.postMessage for the first words, chat.update at most once a second, final update."""

    def __init__(self, target: Target, *, clock: Any = time.monotonic) -> None:
        self.text = ""
        self._target = target
        self._ts: str | None = None
        self._clock = clock
        self._last_update = 0.0

    async def append(self, markdown: str) -> None:
        self.text += markdown
        if not self.text.strip():
            return
        if self._ts is None:
            response = await self._target.client.chat_postMessage(
                channel=self._target.channel_id,
                thread_ts=self._target.thread_ts,
                text=_notification(self.text),
            )
            self._ts = str(response["ts"])
            self._last_update = self._clock()
        elif self._clock() - self._last_update >= UPDATE_INTERVAL_SECONDS:
            await self._update(blocks=None)

    async def close(self, footer: list[Block]) -> None:
        blocks = fit_blocks(text_sections(self.text), footer)
        if self._ts is None:
            await self._target.client.chat_postMessage(
                channel=self._target.channel_id,
                thread_ts=self._target.thread_ts,
                text=_notification(self.text),
                blocks=blocks,
            )
        else:
            await self._update(blocks=blocks)

    async def _update(self, *, blocks: list[Block] | None) -> None:
        assert self._ts is not None
        kwargs: dict[str, Any] = {"blocks": blocks} if blocks is not None else {}
        await self._target.client.chat_update(
            channel=self._target.channel_id, ts=self._ts, text=_notification(self.text), **kwargs
        )
        self._last_update = self._clock()


def _notification(markdown: str) -> str:
    text = to_mrkdwn(markdown) or " "
    return text if len(text) <= _NOTIFICATION_CHARS else text[: _NOTIFICATION_CHARS - 1] + "…"
