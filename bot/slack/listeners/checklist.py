"""The "Start the decision checklist" button: hands over to the checklist hook."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import CHECKLIST_START
from bot.slack.guard import Where, listener_guard
from bot.slack.services import ChecklistRequest, SlackServices

UNAVAILABLE = "The decision checklist is not enabled in this workspace."


def register(app: AsyncApp, services: SlackServices) -> None:
    @app.action(CHECKLIST_START)
    async def on_checklist(
        ack: Any, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        channel_id = (body.get("channel") or {}).get("id")
        user_id = (body.get("user") or {}).get("id")
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts") or message.get("ts")
        team_id = context.team_id or (body.get("team") or {}).get("id")
        where = Where("checklist_start", team_id, channel_id, thread_ts, user_id)
        async with listener_guard(client, where):
            if not (channel_id and user_id and thread_ts and team_id):
                return
            if services.start_checklist is None:
                # Only buttons posted while a checklist was configured can get here.
                await client.chat_postEphemeral(
                    channel=channel_id, user=user_id, thread_ts=thread_ts, text=UNAVAILABLE
                )
                return
            await services.start_checklist(
                ChecklistRequest(
                    team_id=team_id,
                    channel_id=channel_id,
                    thread_ts=thread_ts,
                    user_id=user_id,
                    client=client,
                    trigger_id=body.get("trigger_id"),
                )
            )
