"""The "Ask an expert" button under answers and the "Mark resolved" button on escalations."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.escalation_blocks import ESCALATE_ACTION, EXPIRED, NO_EXPERTS, RESOLVE_ACTION
from bot.slack.escalation_flow import escalate, request_from_answer, tell
from bot.slack.escalation_resolve import resolve
from bot.slack.guard import Where, listener_guard
from bot.slack.services import SlackServices


def _click(body: dict[str, Any]) -> tuple[str, str | None, str | None, str | None]:
    """(value, user_id, channel_id, thread_ts) of a button click."""
    action = (body.get("actions") or [{}])[0]
    message = body.get("message") or {}
    return (
        str(action.get("value") or ""),
        (body.get("user") or {}).get("id"),
        (body.get("channel") or {}).get("id"),
        message.get("thread_ts") or message.get("ts"),
    )


def register(app: AsyncApp, services: SlackServices) -> None:
    # Registered even with no experts set: a button on an older message still gets an answer.
    @app.action(ESCALATE_ACTION)
    async def on_ask_expert(
        ack: Any, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        answer_id, user_id, channel_id, thread_ts = _click(body)
        where = Where("escalate", context.team_id, channel_id, thread_ts, user_id)
        with services.inflight.track():
            async with listener_guard(client, where):
                if not (user_id and channel_id):
                    return
                escalations = services.escalation
                if escalations is None:
                    await tell(client, channel_id, user_id, thread_ts, NO_EXPERTS)
                    return
                record = await services.feedback.get_answer(answer_id) if answer_id else None
                if record is None:
                    await tell(client, channel_id, user_id, thread_ts, EXPIRED)
                    return
                request = request_from_answer(record, user_id)
                await escalate(client, escalations, request, is_dm=channel_id.startswith("D"))

    @app.action(RESOLVE_ACTION)
    async def on_resolve(
        ack: Any, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        escalation_id, user_id, channel_id, thread_ts = _click(body)
        where = Where("escalation_resolve", context.team_id, channel_id, thread_ts, user_id)
        with services.inflight.track():
            async with listener_guard(client, where):
                if not (user_id and channel_id and escalation_id):
                    return
                if services.escalation is None:
                    await tell(client, channel_id, user_id, thread_ts, NO_EXPERTS)
                    return
                await resolve(
                    client,
                    services.escalation,
                    escalation_id,
                    user_id=user_id,
                    channel_id=channel_id,
                    thread_ts=thread_ts,
                    bot_user_id=context.bot_user_id,
                )
