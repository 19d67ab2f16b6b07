"""One guard per listener: log with context, tell the user briefly (with an error id), move on.

Never a silent failure and never exception text in Slack: the id joins the user's report to the
log line that has the details.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UserFacingError, new_error_id
from bot.slack.mrkdwn import echo_text

logger = logging.getLogger("bot.slack")

GENERIC_MESSAGE = "Sorry, something went wrong while answering. (error id `{error_id}`)"
# Bolt's `respond`: posts through a slash command's or a click's response URL, which works even
# where the bot may not post (a DM between two people, a channel it is not in).
Respond = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Where:
    """Enough to log a failure and to put the apology where the user will see it."""

    listener: str
    team_id: str | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    user_id: str | None = None


@asynccontextmanager
async def listener_guard(
    client: AsyncWebClient, where: Where, respond: Respond | None = None
) -> AsyncIterator[None]:
    """With `respond` (slash commands), the apology goes through the response URL first."""
    try:
        yield
    except Exception as exc:
        await report_failure(client, where, exc, respond)


async def report_failure(
    client: AsyncWebClient, where: Where, exc: BaseException, respond: Respond | None = None
) -> str:
    error_id = new_error_id()
    logger.error(
        "Slack listener %s failed [error_id=%s team=%s channel=%s thread=%s user=%s]",
        where.listener,
        error_id,
        where.team_id,
        where.channel_id,
        where.thread_ts,
        where.user_id,
        exc_info=exc,
    )
    if isinstance(exc, UserFacingError):
        # The message may quote what the user sent (an id from a forged button, say).
        text = f"{echo_text(exc.message)} (error id `{error_id}`)"
    else:
        text = GENERIC_MESSAGE.format(error_id=error_id)
    await _tell_user(client, where, text, error_id, respond)
    return error_id


async def _tell_user(
    client: AsyncWebClient, where: Where, text: str, error_id: str, respond: Respond | None
) -> None:
    if respond is not None:
        try:
            await respond(text=text, response_type="ephemeral")
            return
        except Exception:
            logger.warning("Could not report error %s through the response URL", error_id)
    if where.channel_id is None:
        return
    try:
        if where.thread_ts is not None:
            await client.chat_postMessage(
                channel=where.channel_id, thread_ts=where.thread_ts, text=text
            )
        elif where.user_id is not None:
            await client.chat_postEphemeral(channel=where.channel_id, user=where.user_id, text=text)
    except Exception:
        # The apology itself failed (Slack down, bot removed): the log line is all we can leave.
        logger.exception("Could not report error %s to the user", error_id)
