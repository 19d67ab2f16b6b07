"""The "working on it" signal: the status line under the thread, else a reaction.

`assistant.threads.setStatus` takes the `chat:write` scope and works in DMs and channel threads;
where Slack refuses it (older workspaces, a scope missing) the reaction on the question is the
fallback, and later status updates are skipped.

`clear()` is safe to call on every exit path, more than once, and never raises: a failure to
clear must not hide the real outcome of the request.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

LOADING_MESSAGES = ["Searching the guidance...", "Weighing the options...", "Drafting..."]
_STATUS = "is thinking..."


class Indicator:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        channel_id: str,
        thread_ts: str,
        message_ts: str,
        reaction: str,
    ) -> None:
        self._client = client
        self._channel_id = channel_id
        self._thread_ts = thread_ts
        self._message_ts = message_ts
        self._reaction = reaction
        self._status_set = False
        self._reaction_added = False

    async def start(self) -> None:
        if await self._set_status(_STATUS, LOADING_MESSAGES):
            return
        # The status line was refused: the reaction works everywhere.
        try:
            await self._client.reactions_add(
                channel=self._channel_id, timestamp=self._message_ts, name=self._reaction
            )
            self._reaction_added = True
        except SlackApiError as exc:
            logger.info("No progress reaction on %s: %s", self._channel_id, _error(exc))

    async def update(self, message: str) -> None:
        if self._status_set:
            await self._set_status(message, None)

    async def clear(self) -> None:
        if self._status_set:
            self._status_set = False
            # An empty status clears the line (Slack also clears it when the bot replies).
            try:
                await self._client.assistant_threads_setStatus(
                    channel_id=self._channel_id, thread_ts=self._thread_ts, status=""
                )
            except Exception:
                logger.warning("Could not clear status in %s", self._channel_id, exc_info=True)
        if self._reaction_added:
            self._reaction_added = False
            try:
                await self._client.reactions_remove(
                    channel=self._channel_id, timestamp=self._message_ts, name=self._reaction
                )
            except Exception:
                logger.warning("Could not remove reaction in %s", self._channel_id, exc_info=True)

    async def _set_status(self, status: str, loading_messages: list[str] | None) -> bool:
        try:
            await self._client.assistant_threads_setStatus(
                channel_id=self._channel_id,
                thread_ts=self._thread_ts,
                status=status,
                loading_messages=loading_messages,
            )
        except SlackApiError as exc:
            logger.info("No status line in %s: %s", self._channel_id, _error(exc))
            return False
        self._status_set = True
        return True


def _error(exc: SlackApiError) -> str:
    response = exc.response
    return str(response.get("error")) if response is not None else "unknown"
