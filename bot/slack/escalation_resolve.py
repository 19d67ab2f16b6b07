"""Resolving an escalation in Slack: who may, the thread's replies kept with it, and the thread
shown as resolved (message edited, marker swapped, a note, the listing updated)."""

from __future__ import annotations

import logging
from collections.abc import Collection
from decimal import Decimal, InvalidOperation
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.escalation.models import MAX_REPLIES, REPLY_CHARS, Escalation, ThreadReply
from bot.slack.escalation_blocks import (
    ALREADY_RESOLVED,
    MARKER_REACTION,
    RESOLVE_EXPIRED,
    RESOLVED_REACTION,
    listing_message,
    not_allowed,
    resolved_message,
    resolved_note,
)
from bot.slack.escalation_flow import react, tell
from bot.slack.escalation_services import Escalations

logger = logging.getLogger(__name__)

# Human messages worth keeping with an escalation (edits and joins are not replies).
_REPLY_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})


async def resolve(
    client: AsyncWebClient,
    escalations: Escalations,
    escalation_id: str,
    *,
    user_id: str,
    channel_id: str,
    thread_ts: str | None,
    bot_user_id: str | None,
) -> Escalation | None:
    """ "Mark resolved": an expert or the asker stores the resolution and the thread's replies
    once; anyone else, or a second click, gets a note only they see."""
    service = escalations.service
    escalation = await service.get(escalation_id)
    if escalation is None:
        await tell(client, channel_id, user_id, thread_ts, RESOLVE_EXPIRED)
        return None
    if escalation.status == "resolved":
        await tell(client, channel_id, user_id, thread_ts, ALREADY_RESOLVED)
        return None
    members = await escalations.group.members(client)
    role = service.role_of(user_id, escalation, members)
    if role is None:
        await tell(client, channel_id, user_id, thread_ts, not_allowed(escalation))
        return None
    if not await service.claim(escalation):
        await tell(client, channel_id, user_id, thread_ts, ALREADY_RESOLVED)
        return None
    try:
        experts = escalations.service.roster.user_ids | members
        replies, complete = await thread_replies(client, escalation, experts, bot_user_id)
        closed = await service.resolve(
            escalation,
            resolved_by=user_id,
            role=role,
            replies=replies,
            replies_complete=complete,
        )
    except BaseException:
        await service.release(escalation)
        raise
    await _show_resolved(client, escalations, closed)
    return closed


async def thread_replies(
    client: AsyncWebClient,
    escalation: Escalation,
    experts: Collection[str],
    bot_user_id: str | None,
) -> tuple[list[ThreadReply], bool]:
    """The human replies after the escalation message (one page, bounded), and whether that is
    all of them. A thread Slack will not show us is stored as incomplete, not as a failure."""
    after = _ts(escalation.message_ts or escalation.thread_ts)
    try:
        response = await client.conversations_replies(
            channel=escalation.channel_id,
            ts=escalation.thread_ts,
            oldest=escalation.message_ts or escalation.thread_ts,
            inclusive=False,
            limit=MAX_REPLIES + 1,
        )
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        logger.warning("Could not read thread %s for escalation: %s", escalation.thread_ts, error)
        return [], False
    replies: list[ThreadReply] = []
    for raw in response.get("messages") or []:
        reply = _reply(raw, after, experts, bot_user_id)
        if reply is not None:
            replies.append(reply)
    complete = not response.get("has_more") and len(replies) <= MAX_REPLIES
    return replies[:MAX_REPLIES], complete


def _reply(
    raw: Any, after: Decimal, experts: Collection[str], bot_user_id: str | None
) -> ThreadReply | None:
    if not isinstance(raw, dict):
        return None
    user_id, ts = raw.get("user"), str(raw.get("ts") or "")
    if not isinstance(user_id, str) or not user_id or user_id == bot_user_id:
        return None
    if raw.get("bot_id") or raw.get("subtype") not in _REPLY_SUBTYPES or _ts(ts) <= after:
        return None
    text = str(raw.get("text") or "")[:REPLY_CHARS]
    return ThreadReply(user_id=user_id, ts=ts, text=text, from_expert=user_id in experts)


def _ts(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        return Decimal(0)


async def _show_resolved(
    client: AsyncWebClient, escalations: Escalations, escalation: Escalation
) -> None:
    """The thread shows it is resolved: the message edited (no button, no pings), the marker
    swapped, a note in the thread, the listing updated. Each step is best effort."""
    text, blocks = resolved_message(escalation)
    calls: list[tuple[str, dict[str, Any]]] = []
    if escalation.message_ts:
        calls.append(
            (
                "chat_update",
                {
                    "channel": escalation.channel_id,
                    "ts": escalation.message_ts,
                    "text": text,
                    "blocks": blocks,
                },
            )
        )
    calls.append(
        (
            "chat_postMessage",
            {
                "channel": escalation.channel_id,
                "thread_ts": escalation.thread_ts,
                "text": resolved_note(escalation),
            },
        )
    )
    if escalation.listing_ts and escalations.channel_id:
        listing_text, listing_blocks = listing_message(escalation, None, resolved=True)
        calls.append(
            (
                "chat_update",
                {
                    "channel": escalations.channel_id,
                    "ts": escalation.listing_ts,
                    "text": listing_text,
                    "blocks": listing_blocks,
                },
            )
        )
    for method, params in calls:
        try:
            await getattr(client, method)(**params)
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            logger.warning("Could not show the resolution (%s): %s", method, error)
    await react(client, "reactions_remove", escalation, MARKER_REACTION)
    await react(client, "reactions_add", escalation, RESOLVED_REACTION)
