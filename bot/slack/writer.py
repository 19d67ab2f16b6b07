"""Writes a streamed answer into one or more Slack messages, within Slack's size limits.

Text is held back near a message's budget so the cut between two messages can land on a
paragraph or sentence boundary instead of wherever a delta happened to end.
"""

from __future__ import annotations

import logging
import re

from slack_sdk.errors import SlackApiError

from bot.slack.blocks import MESSAGE_TEXT_BUDGET, Block, split_point
from bot.slack.parts import Part, PostUpdatePart, StreamPart, StreamUnavailable, Target

logger = logging.getLogger(__name__)

HOLDBACK_CHARS = 1_500
# A Slack token such as <!here> must never be cut in half: hold back from an unclosed "<".
_OPEN_TOKEN = re.compile(r"<[^>\s]*$")


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
        self._pending = ""
        self.parts_closed = 0
        self.written = ""  # every character handed to Slack, for the answer record

    @property
    def native(self) -> bool:
        return self._native

    async def append(self, delta: str) -> None:
        self._pending += delta
        await self._drain(final=False)

    async def finish(self, footer: list[Block]) -> None:
        """Flush everything and close the last message with `footer` under it."""
        await self._drain(final=True)
        if self._part is None:
            await self._emit("")
        await self._close(footer)

    async def abort(self) -> None:
        """Close an open message without a footer after a failure; never raises."""
        if self._part is None:
            return
        try:
            await self._part.close([])
        except Exception:
            logger.warning("Could not close the partial answer", exc_info=True)
        self._part = None

    async def _drain(self, *, final: bool) -> None:
        while True:
            used = len(self._part.text) if self._part is not None else 0
            room = self._budget - used
            if len(self._pending) > room:
                cut = split_point(self._pending, room)
                head, self._pending = self._pending[:cut], self._pending[cut:].lstrip("\n ")
                await self._emit(head.rstrip())
                await self._close([])
                continue
            if final:
                if self._pending:
                    await self._emit(self._pending)
                    self._pending = ""
                return
            if used + len(self._pending) > self._budget - self._holdback:
                return  # near the budget: wait until we know where the clean cut is
            ready = _safe_prefix(self._pending)
            if ready:
                self._pending = self._pending[len(ready) :]
                await self._emit(ready)
            return

    async def _emit(self, text: str) -> None:
        if self._part is None:
            self._part = StreamPart(self._target) if self._native else PostUpdatePart(self._target)
        self.written += text
        try:
            await self._part.append(text)
        except StreamUnavailable as exc:
            await self._fall_back(str(exc))

    async def _close(self, footer: list[Block]) -> None:
        if self._part is None:
            return
        try:
            await self._part.close(footer)
        except StreamUnavailable as exc:
            await self._fall_back(str(exc))
            assert self._part is not None
            await self._part.close(footer)
        except SlackApiError as exc:
            if not isinstance(self._part, StreamPart):
                raise
            # The stream died after its first message: finish this part as a plain message.
            logger.warning("chat.stopStream failed (%s); reposting", exc.response.get("error"))
            self._native = False
            replacement = PostUpdatePart(self._target)
            replacement.text = self._part.text
            await replacement.close(footer)
        self._part = None
        self.parts_closed += 1

    async def _fall_back(self, reason: str) -> None:
        logger.info("Streaming unavailable (%s); using chat.postMessage + chat.update", reason)
        self._native = False
        text = self._part.text if self._part is not None else ""
        self._part = PostUpdatePart(self._target)
        await self._part.append(text)


def _safe_prefix(text: str) -> str:
    """The longest prefix ending at whitespace and outside any half-written `<...>` token."""
    match = _OPEN_TOKEN.search(text)
    if match:
        text = text[: match.start()]
    last_space = max(text.rfind(" "), text.rfind("\n"))
    return text[: last_space + 1] if last_space >= 0 else ""
