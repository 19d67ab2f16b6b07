"""Feedback buttons under answers, and the optional "what was wrong?" modal."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.memory.feedback import Rating
from bot.slack.blocks import (
    FEEDBACK_HELPFUL,
    FEEDBACK_NOT_HELPFUL,
    FEEDBACK_REASON_BLOCK,
    FEEDBACK_REASON_INPUT,
    FEEDBACK_REASON_VIEW,
    reason_modal,
)
from bot.slack.guard import Where, listener_guard
from bot.slack.services import SlackServices

logger = logging.getLogger(__name__)

THANKS = "Thanks for the feedback!"
EXPIRED = "That answer is too old to rate now, but thanks for trying."


def register(app: AsyncApp, services: SlackServices) -> None:
    async def on_click(
        ack: Any, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        rating: Rating = "helpful" if action.get("action_id") == FEEDBACK_HELPFUL else "not_helpful"
        answer_id = str(action.get("value") or "")
        user_id = (body.get("user") or {}).get("id")
        channel_id = (body.get("channel") or {}).get("id")
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts") or message.get("ts")
        where = Where("feedback", context.team_id, channel_id, None, user_id)
        async with listener_guard(client, where):
            if not user_id:
                return
            answer = await services.feedback.get_answer(answer_id) if answer_id else None
            if answer is None:
                await _ephemeral(client, channel_id, user_id, thread_ts, EXPIRED)
                return
            await services.feedback.record(answer, user_id=user_id, rating=rating)
            trigger_id = body.get("trigger_id")
            if rating == "not_helpful" and trigger_id:
                await client.views_open(trigger_id=trigger_id, view=reason_modal(answer_id))
            else:
                await _ephemeral(client, channel_id, user_id, thread_ts, THANKS)

    async def on_reason(
        ack: Any, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        view = body.get("view") or {}
        user_id = (body.get("user") or {}).get("id")
        where = Where("feedback_reason", context.team_id, None, None, user_id)
        async with listener_guard(client, where):
            answer_id = str(view.get("private_metadata") or "")
            answer = await services.feedback.get_answer(answer_id) if answer_id else None
            if answer is None or not user_id:
                logger.info("Feedback reason for unknown answer %r dropped", answer_id)
                return
            values = (view.get("state") or {}).get("values") or {}
            reason = (values.get(FEEDBACK_REASON_BLOCK) or {}).get(FEEDBACK_REASON_INPUT) or {}
            await services.feedback.record(
                answer, user_id=user_id, rating="not_helpful", reason=reason.get("value")
            )

    app.action(FEEDBACK_HELPFUL)(on_click)
    app.action(FEEDBACK_NOT_HELPFUL)(on_click)
    app.view(FEEDBACK_REASON_VIEW)(on_reason)


async def _ephemeral(
    client: AsyncWebClient,
    channel_id: str | None,
    user_id: str,
    thread_ts: str | None,
    text: str,
) -> None:
    if channel_id:
        await client.chat_postEphemeral(
            channel=channel_id, user=user_id, text=text, thread_ts=thread_ts
        )
