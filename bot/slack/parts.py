"""One Slack message of an answer: natively streamed, or posted then edited.

`StreamPart` drives chat.startStream / appendStream / stopStream itself (rather than through
slack-sdk's size-only buffer) so that appends follow the workspace's rate budget: text buffers
until an append is both worth sending and allowed, and whatever is left rides on the stop.

Failures are sorted for the writer: before the first message exists nothing is lost
(`StreamUnavailable`: post instead); the user pressing stop is a quiet end (`StreamStopped`);
anything else after the first message (`StreamBroken`) is finished by editing that same message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import Block, fit_blocks, text_sections
from bot.slack.mrkdwn import sanitize_markdown, to_mrkdwn
from bot.slack.pacing import RatePacer

logger = logging.getLogger(__name__)

# An append is sent once this much text waited this long (slack-sdk's default buffer is 256
# characters); under load the Tier 4 budget spaces appends further and pieces grow.
MIN_APPEND_CHARS = 256
MIN_APPEND_SECONDS = 0.5
# Progress edits of a posted answer: at most one a second per message, within the Tier 3 budget.
MIN_UPDATE_SECONDS = 1.0
NOTIFICATION_CHARS = 1_000
USER_STOPPED = "stopped_by_user"


class StreamUnavailable(Exception):
    """No stream could be started (refused, or no Tier 2 budget left): post the text instead."""


class StreamStopped(Exception):
    """The user pressed stop on the streaming message."""


class StreamBroken(Exception):
    """The stream failed after its message existed: finish that message with chat.update."""

    def __init__(self, ts: str, error: str) -> None:
        super().__init__(error)
        self.ts = ts


class Target:
    """Where an answer goes. Streaming to a channel needs the recipient (team and user)."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        channel_id: str,
        thread_ts: str,
        team_id: str,
        user_id: str,
        pacer: RatePacer,
    ) -> None:
        self.client = client
        self.channel_id = channel_id
        self.thread_ts = thread_ts
        self.team_id = team_id
        self.user_id = user_id
        self.pacer = pacer


class Part(Protocol):
    text: str  # the raw Markdown this message holds so far
    ts: str | None  # the message, once it exists

    def rendered_size(self) -> int: ...
    async def append(self, markdown: str) -> None: ...
    async def close(self, footer: list[Block]) -> None: ...


class StreamPart:
    def __init__(self, target: Target, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.text = ""
        self.ts: str | None = None
        self._target = target
        self._unsent = ""
        self._clock = clock
        self._last_flush = 0.0

    def rendered_size(self) -> int:
        return len(sanitize_markdown(self.text))

    async def append(self, markdown: str) -> None:
        self.text += markdown
        self._unsent += markdown
        if not self._unsent.strip():
            return
        if self.ts is None:
            await self._start()
        elif (
            len(self._unsent) >= MIN_APPEND_CHARS
            and self._clock() - self._last_flush >= MIN_APPEND_SECONDS
            and self._target.pacer.try_take("chat.appendStream")
        ):
            await self._guard(
                self._target.client.chat_appendStream(
                    channel=self._target.channel_id,
                    ts=self.ts,
                    markdown_text=sanitize_markdown(self._unsent),
                )
            )
            self._sent()

    async def close(self, footer: list[Block]) -> None:
        if self.ts is None:
            await self._start()
        assert self.ts is not None
        await self._target.pacer.take("chat.stopStream")
        await self._guard(
            self._target.client.chat_stopStream(
                channel=self._target.channel_id,
                ts=self.ts,
                markdown_text=sanitize_markdown(self._unsent) or None,
                blocks=footer or None,
            )
        )
        self._sent()

    async def _start(self) -> None:
        target = self._target
        if not target.pacer.try_take("chat.startStream"):
            raise StreamUnavailable("no chat.startStream budget left this minute")
        try:
            response = await target.client.chat_startStream(
                channel=target.channel_id,
                thread_ts=target.thread_ts,
                recipient_team_id=target.team_id,
                recipient_user_id=target.user_id,
                markdown_text=sanitize_markdown(self._unsent) or None,
            )
        except SlackApiError as exc:
            raise StreamUnavailable(_error(exc)) from exc
        self.ts = str(response["ts"])
        self._sent()

    async def _guard(self, call: Any) -> None:
        assert self.ts is not None
        try:
            await call
        except SlackApiError as exc:
            error = _error(exc)
            if error == USER_STOPPED:
                raise StreamStopped() from exc
            raise StreamBroken(self.ts, error) from exc

    def _sent(self) -> None:
        self._unsent = ""
        self._last_flush = self._clock()


class UpdatePart:
    """A posted message (or an existing one to continue, `ts`), edited as the answer grows.

    Every edit is a Tier 3 call, so the message is posted early (with the first words) only when
    the budget has room for the edit that will finish it; that edit is counted then. Otherwise the
    whole answer goes out in one chat.postMessage when it is complete, with no edit at all: under
    a burst, answers arrive whole instead of queueing for edits."""

    def __init__(
        self,
        target: Target,
        *,
        ts: str | None = None,
        text: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.text = text
        self.ts = ts
        self._target = target
        self._clock = clock
        self._last_update = clock()
        # An existing message must be finished by an edit; wait for its turn at the end.
        self._final_edit_counted = False

    def rendered_size(self) -> int:
        return len(to_mrkdwn(self.text)) + len(notification(self.text))

    async def append(self, markdown: str) -> None:
        self.text += markdown
        if not self.text.strip():
            return
        if self.ts is None:
            if self._target.pacer.try_take("chat.update"):
                self._final_edit_counted = True
                await self._post([])
        elif self._clock() - self._last_update >= MIN_UPDATE_SECONDS and (
            self._target.pacer.try_take("chat.update")
        ):
            await self._update([])

    async def close(self, footer: list[Block]) -> None:
        if self.ts is None:
            await self._post(footer)
            return
        if not self._final_edit_counted:
            await self._target.pacer.take("chat.update")
        await self._update(footer)

    async def _post(self, footer: list[Block]) -> None:
        response = await self._target.client.chat_postMessage(
            channel=self._target.channel_id,
            thread_ts=self._target.thread_ts,
            text=notification(self.text),
            blocks=fit_blocks(text_sections(self.text), footer),
        )
        self.ts = str(response["ts"])
        self._last_update = self._clock()

    async def _update(self, footer: list[Block]) -> None:
        assert self.ts is not None
        await self._target.client.chat_update(
            channel=self._target.channel_id,
            ts=self.ts,
            text=notification(self.text),
            blocks=fit_blocks(text_sections(self.text), footer),
        )
        self._last_update = self._clock()


def notification(markdown: str) -> str:
    """The `text` of a posted answer: what notifications and screen readers get (short)."""
    text = to_mrkdwn(markdown).strip() or " "
    return text if len(text) <= NOTIFICATION_CHARS else text[: NOTIFICATION_CHARS - 1] + "…"


def _error(exc: SlackApiError) -> str:
    response = exc.response
    return str(response.get("error")) if response is not None else "unknown"
