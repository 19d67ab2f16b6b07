"""Checklist buttons under answers ("Start the decision checklist", "Confirm in the checklist"),
and the checklist's own buttons.

The buttons under an answer start the checklist in that answer's thread, wherever it is (a
channel or a DM). Their value is never read: "Confirm in the checklist" fills in the answers
the start service finds in the thread's conversation memory, so a forged value adds nothing.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import checklist_blocks as ui
from bot.slack.blocks import CHECKLIST_CONFIRM, CHECKLIST_START
from bot.slack.checklist_flow import UNAVAILABLE, Click, handle_click
from bot.slack.checklist_services import ChecklistRequest
from bot.slack.guard import Where, listener_guard
from bot.slack.services import SlackServices

ANSWER_ACTIONS = re.compile(rf"^{re.escape(ui.ANSWER_PREFIX)}\d+$")


def parse_click(body: dict[str, Any], team_id: str | None) -> Click | None:
    """Where the click happened, from the payload alone; None when something is missing."""
    action = (body.get("actions") or [{}])[0]
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel_id = (body.get("channel") or {}).get("id") or container.get("channel_id")
    message_ts = message.get("ts") or container.get("message_ts")
    thread_ts = message.get("thread_ts") or container.get("thread_ts") or message_ts
    user_id = (body.get("user") or {}).get("id")
    team_id = team_id or (body.get("team") or {}).get("id")
    action_id = action.get("action_id")
    if not (channel_id and message_ts and thread_ts and user_id and team_id and action_id):
        return None
    return Click(
        team_id=str(team_id),
        channel_id=str(channel_id),
        thread_ts=str(thread_ts),
        message_ts=str(message_ts),
        user_id=str(user_id),
        action_id=str(action_id),
        value=action.get("value"),
    )


def click_where(click: Click) -> Where:
    """Where a failure while handling `click` is logged and apologised for."""
    return Where(click.action_id, click.team_id, click.channel_id, click.thread_ts, click.user_id)


def register(app: AsyncApp, services: SlackServices) -> None:
    async def on_start(
        ack: Any, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        channel_id = (body.get("channel") or {}).get("id")
        user_id = (body.get("user") or {}).get("id")
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts") or message.get("ts")
        team_id = context.team_id or (body.get("team") or {}).get("id")
        action_id = (body.get("actions") or [{}])[0].get("action_id")
        where = Where(str(action_id), team_id, channel_id, thread_ts, user_id)
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
                    read_facts=action_id == CHECKLIST_CONFIRM,
                )
            )

    app.action(CHECKLIST_START)(on_start)
    app.action(CHECKLIST_CONFIRM)(on_start)

    async def on_click(
        ack: Any, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        click = parse_click(body, context.team_id)
        if click is None:
            return  # nothing to answer to: no channel, user or message in the payload
        async with listener_guard(client, click_where(click)):
            await handle_click(services.checklist, client, click)

    app.action(ANSWER_ACTIONS)(on_click)
    for action_id in (ui.BACK, ui.RESTART, ui.SHARE, ui.EXPORT):
        app.action(action_id)(on_click)
