"""@mentions, DMs and follow-ups in the bot's threads. Everything else in channels is ignored."""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.escalation.rules import is_escalation_request
from bot.slack.answering import answer_message
from bot.slack.checklist_services import ChecklistRequest
from bot.slack.escalation_flow import escalate_message
from bot.slack.guard import Where, listener_guard
from bot.slack.parsing import IncomingMessage, parse_message, retry_num_from_headers
from bot.slack.prompts import EMPTY_MENTION_HINT, is_checklist_request
from bot.slack.services import SlackServices

logger = logging.getLogger(__name__)


def register(app: AsyncApp, services: SlackServices) -> None:
    async def on_event(
        body: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
        request: AsyncBoltRequest,
    ) -> None:
        # Events need no ack(): Bolt answers 200 before this runs (process_before_response off).
        message = parse_message(
            body,
            bot_user_id=context.bot_user_id,
            retry_num=retry_num_from_headers(request.headers),
        )
        if message is None:
            return
        where = Where("message", message.team_id, message.channel_id, message.reply_thread_ts)
        with services.inflight.track():
            await _handle(client, services, message, body, context, where)

    app.event("app_mention")(on_event)
    app.event("message")(on_event)


async def _handle(
    client: AsyncWebClient,
    services: SlackServices,
    message: IncomingMessage,
    body: dict[str, Any],
    context: AsyncBoltContext,
    where: Where,
) -> None:
    async with listener_guard(client, where):
        if not await _should_answer(services, message, body, context):
            return
        if not await _first_delivery(services, message):
            logger.info("Duplicate delivery ignored (retry %d)", message.retry_num)
            return
        await _dispatch(client, services, message)


async def _should_answer(
    services: SlackServices,
    message: IncomingMessage,
    body: dict[str, Any],
    context: AsyncBoltContext,
) -> bool:
    event = body.get("event") or {}
    if message.user_id == context.bot_user_id or (
        context.bot_id and event.get("bot_id") == context.bot_id
    ):
        return False
    if message.from_bot and services.behaviour.ignore_bots:
        return False
    if event.get("type") == "app_mention":
        return True
    if message.is_dm:
        return True
    if message.mentions_bot:
        return False  # the matching app_mention event answers it
    if message.is_thread_reply:
        assert message.thread_ts is not None
        marked = await services.threads.is_marked(
            message.team_id, message.channel_id, message.thread_ts
        )
        # An escalated thread is the experts' until someone mentions the bot again.
        return marked and not await _escalated(services, message, message.thread_ts)
    return message.channel_id in services.behaviour.channel_allowlist


async def _escalated(services: SlackServices, message: IncomingMessage, thread_ts: str) -> bool:
    if services.escalation is None:
        return False
    try:
        return await services.escalation.service.is_escalated(
            message.team_id, message.channel_id, thread_ts
        )
    except (RedisError, OSError) as exc:
        logger.warning("Could not check escalation of %s: %s", thread_ts, exc)
        return False


async def _first_delivery(services: SlackServices, message: IncomingMessage) -> bool:
    # event_id catches Slack's retries; client_msg_id catches one message delivered as both
    # `app_mention` and `message`, or by two subscriptions (each with its own event_id).
    if message.event_id and not await services.deliveries.first(f"event:{message.event_id}"):
        return False
    if message.client_msg_id:
        return await services.deliveries.first(f"msg:{message.team_id}:{message.client_msg_id}")
    return True


async def _dispatch(
    client: AsyncWebClient, services: SlackServices, message: IncomingMessage
) -> None:
    thread_ts = message.reply_thread_ts
    if not message.text:
        await client.chat_postMessage(
            channel=message.channel_id, thread_ts=thread_ts, text=EMPTY_MENTION_HINT
        )
        return
    if is_escalation_request(message.text):
        await escalate_message(client, services.escalation, message)
        return
    if services.start_checklist is not None and is_checklist_request(message.text):
        await services.start_checklist(
            ChecklistRequest(
                team_id=message.team_id,
                channel_id=message.channel_id,
                thread_ts=thread_ts,
                user_id=message.user_id,
                client=client,
            )
        )
        return
    await answer_message(client, services, message)
