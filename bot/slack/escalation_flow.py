"""Escalation in Slack: post the experts' message in the thread, mark the thread, list it.

The rules and the records live in bot/escalation; here are only the Slack calls around them.
What must happen (the post) raises; what is decoration (the reaction, the listing) is logged and
skipped when Slack refuses it. Resolving is in escalation_resolve.py.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.escalation.models import Escalation
from bot.escalation.service import EscalationRequest
from bot.memory.feedback import AnswerRecord
from bot.slack.escalation_blocks import (
    ALREADY_OPEN,
    MARKER_REACTION,
    NO_EXPERTS,
    NOT_IN_DM,
    escalation_message,
    listing_message,
)
from bot.slack.escalation_services import Escalations
from bot.slack.parsing import IncomingMessage

logger = logging.getLogger(__name__)


async def tell(
    client: AsyncWebClient, channel_id: str, user_id: str, thread_ts: str | None, text: str
) -> None:
    """A note only `user_id` sees, in the thread."""
    await client.chat_postEphemeral(
        channel=channel_id, user=user_id, text=text, thread_ts=thread_ts
    )


def request_from_answer(record: AnswerRecord, clicked_by: str) -> EscalationRequest:
    return EscalationRequest(
        team_id=record.team_id,
        channel_id=record.channel_id,
        thread_ts=record.thread_ts,
        requested_by=clicked_by,
        asker_id=record.user_id,
        source="button",
        answer_id=record.answer_id,
        question=record.question,
        answer=record.answer,
        sources=tuple(citation.title for citation in record.citations),
        index_version=record.index_version,
    )


def request_from_message(message: IncomingMessage) -> EscalationRequest:
    return EscalationRequest(
        team_id=message.team_id,
        channel_id=message.channel_id,
        thread_ts=message.reply_thread_ts,
        requested_by=message.user_id,
        asker_id=message.user_id,
        source="message",
    )


async def escalate_message(
    client: AsyncWebClient, escalations: Escalations | None, message: IncomingMessage
) -> None:
    """`@advisor expert`, "can a human look at this?" in a thread."""
    thread_ts = message.reply_thread_ts
    if escalations is None:
        await tell(client, message.channel_id, message.user_id, thread_ts, NO_EXPERTS)
        return
    await escalate(client, escalations, request_from_message(message), is_dm=message.is_dm)


async def escalate(
    client: AsyncWebClient, escalations: Escalations, request: EscalationRequest, *, is_dm: bool
) -> Escalation | None:
    """Open the thread's escalation and announce it; a second request only gets a note."""
    if is_dm:
        await tell(client, request.channel_id, request.requested_by, request.thread_ts, NOT_IN_DM)
        return None
    service = escalations.service
    opened = await service.escalate(request)
    if not opened.created:
        await tell(
            client, request.channel_id, request.requested_by, request.thread_ts, ALREADY_OPEN
        )
        return None
    escalation = opened.escalation
    text, blocks = escalation_message(escalation, service.roster)
    try:
        posted = await client.chat_postMessage(
            channel=escalation.channel_id,
            thread_ts=escalation.thread_ts,
            text=text,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
    except BaseException:
        # Nobody was told: free the thread so the next click can try again.
        await service.withdraw(escalation)
        raise
    message_ts = str(posted["ts"])
    await react(client, "reactions_add", escalation, MARKER_REACTION)
    listing_ts = await _list(client, escalations, escalation, message_ts)
    return await service.announced(escalation, message_ts, listing_ts)


async def react(client: AsyncWebClient, method: str, escalation: Escalation, name: str) -> None:
    try:
        await getattr(client, method)(
            channel=escalation.channel_id, timestamp=escalation.thread_ts, name=name
        )
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        if error not in ("already_reacted", "no_reaction"):
            logger.warning("Could not change the escalation marker (%s): %s", method, error)


async def _list(
    client: AsyncWebClient, escalations: Escalations, escalation: Escalation, message_ts: str
) -> str | None:
    if escalations.channel_id is None:
        return None
    try:
        link = await client.chat_getPermalink(channel=escalation.channel_id, message_ts=message_ts)
        text, blocks = listing_message(escalation, str(link.get("permalink") or "") or None)
        posted = await client.chat_postMessage(
            channel=escalations.channel_id, text=text, blocks=blocks, unfurl_links=False
        )
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        logger.warning("Could not list the escalation in %s: %s", escalations.channel_id, error)
        return None
    return str(posted["ts"])
