"""/finetune-check <question>: the question is posted in the channel and answered in its thread.

/finetune-admin is registered by the admin feature, not here.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.answering import answer_message
from bot.slack.guard import Where, listener_guard
from bot.slack.mrkdwn import escape, neutralise_mentions
from bot.slack.parsing import IncomingMessage
from bot.slack.prompts import EMPTY_MENTION_HINT
from bot.slack.services import SlackServices

CHECK_COMMAND = "/finetune-check"


def register(app: AsyncApp, services: SlackServices) -> None:
    @app.command(CHECK_COMMAND)
    async def on_check(ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        text = str(command.get("text") or "").strip()
        if not text:
            await ack(text=EMPTY_MENTION_HINT)
            return
        await ack()
        channel_id, user_id = command.get("channel_id"), command.get("user_id")
        team_id = command.get("team_id")
        where = Where(CHECK_COMMAND, team_id, channel_id, None, user_id)
        async with listener_guard(client, where):
            if not (channel_id and user_id and team_id):
                return
            # Posting the question gives the answer a thread, so follow-ups work as for mentions.
            posted = await client.chat_postMessage(
                channel=channel_id,
                text=f"<@{user_id}> asked: _{escape(neutralise_mentions(text))}_",
            )
            message = IncomingMessage(
                team_id=team_id,
                channel_id=channel_id,
                user_id=user_id,
                text=text,
                ts=str(posted["ts"]),
                is_dm=str(command.get("channel_name")) == "directmessage",
            )
            await answer_message(client, services, message)
