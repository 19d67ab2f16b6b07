"""Writes a streamed answer into one or more Slack messages, each within Slack's size limits.

Text is held back near a message's budget so the cut between two messages can land on a
paragraph or sentence boundary instead of wherever a delta happened to end. Sizes are measured as
Slack will count them (converted and escaped), so no message passes the ~12,000-character limit;
a footer that would push the last message over goes in a message of its own.

A stream that fails is finished without a second copy of the text: before its first message the
text is posted instead; after it, the same message is edited; when the user pressed stop the
writer goes quiet (`stopped`).
"""

from __future__ import annotations

import logging
import re

from bot.slack.blocks import (
    MESSAGE_TEXT_BUDGET,
    MESSAGE_TEXT_LIMIT,
    Block,
    blocks_text_size,
    split_point,
)
from bot.slack.mrkdwn import to_mrkdwn
from bot.slack.parts import (
    Part,
    StreamBroken,
    StreamPart,
    StreamStopped,
    StreamUnavailable,
    Target,
    UpdatePart,
)

logger = logging.getLogger(__name__)

HOLDBACK_CHARS = 1_500
FOOTER_ONLY_TEXT = "Sources and feedback for the answer above"
# A Slack construct such as <!here|attention everyone> must never go out in two pieces that Slack
# joins into a live mention: everything from an unclosed "<" is held back, whatever it contains,
# until its ">" arrives. A "<" still open this far back is released (the stream escapes a "<"
# nothing closes), so text is delayed, never lost.
MAX_OPEN_TOKEN_CHARS = 500
_OPEN_TOKEN = re.compile(r"<[^>]*$")


class AnswerWriter:
    def __init__(
        self,
        target: Target,
        *,
        budget: int = MESSAGE_TEXT_BUDGET,
        holdback: int = HOLDBACK_CHARS,
        native: bool = True,
    ) -> None:
        self._target = target
        self._budget = budget
        self._holdback = min(holdback, budget // 2)
        self._native = native
        self._part: Part | None = None
        self._used = 0  # rendered size of the open part's text, kept incrementally
        self._pending = ""
        self.parts_closed = 0
        self.stopped = False  # the user pressed stop: nothing more is written
        self.written = ""  # every character handed to Slack, for the answer record

    @property
    def native(self) -> bool:
        return self._native

    async def append(self, delta: str) -> None:
        if self.stopped:
            return
        self._pending += delta
        await self._drain(final=False)

    async def finish(self, footer: list[Block]) -> None:
        """Flush everything and close the last message with `footer` under it."""
        if self.stopped:
            return
        await self._drain(final=True)
        if self.stopped:
            return
        if self._part is None:
            await self._emit("")
        await self._close(footer)

    async def cancel(self, note: str) -> None:
        """End the answer visibly with `note` (e.g. on shutdown); never raises."""
        if self.stopped:
            return
        try:
            self._pending += note
            await self._drain(final=True)
            await self._close([])
        except Exception:
            logger.warning("Could not mark the answer as cancelled", exc_info=True)
            await self.abort()

    async def abort(self) -> None:
        """Close an open message without a footer after a failure; never raises."""
        part, self._part = self._part, None
        if part is None or part.ts is None:
            return
        try:
            await part.close([])
        except StreamBroken:
            pass  # the stream is over either way; its text is already shown
        except Exception:
            logger.warning("Could not close the partial answer", exc_info=True)

    async def _drain(self, *, final: bool) -> None:
        while not self.stopped:
            room = self._budget - self._used
            pending_size = _size(self._pending)
            if pending_size > room and room <= 0:
                await self._close([])
                continue
            if pending_size > room:
                cut = _fitting_cut(self._pending, room)
                head, self._pending = self._pending[:cut], self._pending[cut:].lstrip("\n ")
                await self._emit(head.rstrip())
                await self._close([])
                continue
            if final:
                if self._pending:
                    text, self._pending = self._pending, ""
                    await self._emit(text)
                return
            if self._used + pending_size > self._budget - self._holdback:
                return  # near the budget: wait until we know where the clean cut is
            ready = _safe_prefix(self._pending)
            if ready:
                self._pending = self._pending[len(ready) :]
                await self._emit(ready)
            return

    async def _emit(self, text: str) -> None:
        if self._part is None:
            self._part = StreamPart(self._target) if self._native else UpdatePart(self._target)
            self._used = 0
        self.written += text
        self._used += _size(text)
        part = self._part
        try:
            await part.append(text)
        except StreamUnavailable as exc:
            logger.info("Streaming unavailable (%s); posting and editing instead", exc)
            self._native = False
            self._part = UpdatePart(self._target, text=part.text)
            await self._part.append("")
        except StreamBroken as exc:
            self._switch_to_update(part, exc)
            await self._part.append("")
        except StreamStopped:
            self._stop()

    async def _close(self, footer: list[Block]) -> None:
        part = self._part
        if part is None:
            return
        body = part.rendered_size()
        if footer and body + blocks_text_size(footer) > MESSAGE_TEXT_LIMIT:
            await self._close_part(part, [])
            await self._post_footer(footer)
        else:
            await self._close_part(part, footer)
        self._part = None
        self._used = 0
        self.parts_closed += 1

    async def _close_part(self, part: Part, footer: list[Block]) -> None:
        try:
            await part.close(footer)
        except StreamUnavailable as exc:
            logger.info("Streaming unavailable (%s); posting instead", exc)
            self._native = False
            await UpdatePart(self._target, text=part.text).close(footer)
        except StreamBroken as exc:
            self._switch_to_update(part, exc)
            assert self._part is not None
            await self._part.close(footer)
        except StreamStopped:
            self._stop()

    def _switch_to_update(self, part: Part, exc: StreamBroken) -> None:
        # The message exists and holds part of the answer: finish it by editing, never repost.
        logger.warning("Stream failed after its first message (%s); editing it instead", exc)
        self._native = False
        self._part = UpdatePart(self._target, ts=exc.ts, text=part.text)

    async def _post_footer(self, footer: list[Block]) -> None:
        await self._target.client.chat_postMessage(
            channel=self._target.channel_id,
            thread_ts=self._target.thread_ts,
            text=FOOTER_ONLY_TEXT,
            blocks=footer,
        )

    def _stop(self) -> None:
        logger.info("The user stopped the answer in %s", self._target.channel_id)
        self.stopped = True
        self._part = None
        self._pending = ""


def _size(markdown: str) -> int:
    """Characters Slack counts for `markdown` once converted (escaping makes text grow)."""
    return len(to_mrkdwn(markdown)) if markdown else 0


def _fitting_cut(text: str, room: int) -> int:
    """A clean cut whose head, converted, fits in `room`."""
    limit = max(1, room)
    while True:
        cut = split_point(text, limit)
        over = _size(text[:cut]) - room
        if over <= 0 or limit <= 1:
            return max(1, cut)
        limit = max(1, min(limit, cut) - over)


def _safe_prefix(text: str) -> str:
    """The longest prefix ending at whitespace and outside any `<…>` construct: one that is
    still open, or whose ">" is yet to come after the cut, is held back (up to a bound)."""
    head = _to_whitespace(text)
    match = _OPEN_TOKEN.search(head, max(0, len(text) - MAX_OPEN_TOKEN_CHARS))
    return _to_whitespace(head[: match.start()]) if match else head


def _to_whitespace(text: str) -> str:
    last_space = max(text.rfind(" "), text.rfind("\n"))
    return text[: last_space + 1] if last_space >= 0 else ""
