"""The agent Messages tab (`features.agent_view`): suggested prompts, and a one-time welcome.

Under the agent view a conversation with the app lives in its Messages tab; Slack sends
`app_home_opened` with `tab == "messages"` when a user opens it (this replaces the assistant
view's `assistant_thread_started`). That is where suggested prompts are set: for the DM channel,
with no `thread_ts` (Slack ignores a call for an agent app that names a thread).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.answering import answer_in_new_thread
from bot.slack.blocks import Block
from bot.slack.guard import Where, listener_guard
from bot.slack.prompts import SUGGESTED_PROMPTS
from bot.slack.services import SlackServices

logger = logging.getLogger(__name__)

SUGGESTED_PROMPT_ACTION = "suggested_prompt"
WELCOME_TEXT = (
    "Hi! I help decide whether to *prompt*, use *RAG*, or *fine-tune*, citing our guidance. "
    "Ask me anything here, or pick one of these:"
)
PROMPTS_TITLE = "Try asking"
_WELCOME_TTL_SECONDS = 365 * 24 * 3600


def suggested_prompts() -> list[dict[str, str]]:
    return [{"title": title, "message": message} for title, message in SUGGESTED_PROMPTS]


def welcome_blocks() -> list[Block]:
    buttons: list[Block] = [
        {
            "type": "button",
            "action_id": f"{SUGGESTED_PROMPT_ACTION}:{index}",
            "value": message,
            "text": {"type": "plain_text", "text": title},
        }
        for index, (title, message) in enumerate(SUGGESTED_PROMPTS)
    ]
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": WELCOME_TEXT}},
        {"type": "actions", "block_id": "suggested_prompts", "elements": buttons},
    ]


def register(app: AsyncApp, services: SlackServices) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(
        event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        if event.get("tab") != "messages":
            return
        user_id, channel_id = event.get("user"), event.get("channel")
        if not user_id or not channel_id:
            return
        where = Where("app_home_opened", context.team_id, None, None, user_id)
        async with listener_guard(client, where):
            await client.assistant_threads_setSuggestedPrompts(
                channel_id=channel_id, title=PROMPTS_TITLE, prompts=suggested_prompts()
            )
            key = f"welcome:{context.team_id}:{user_id}"
            if await services.deliveries.first(key, _WELCOME_TTL_SECONDS):
                await client.chat_postMessage(
                    channel=channel_id, text=WELCOME_TEXT, blocks=welcome_blocks()
                )

    @app.action(re.compile(rf"^{SUGGESTED_PROMPT_ACTION}:\d+$"))
    async def on_prompt_clicked(
        ack: Any, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        channel_id = (body.get("channel") or {}).get("id")
        user_id = (body.get("user") or {}).get("id")
        text = ((body.get("actions") or [{}])[0]).get("value") or ""
        team_id = context.team_id or (body.get("team") or {}).get("id")
        if not channel_id or not user_id or not text or not team_id:
            return
        where = Where("suggested_prompt", context.team_id, channel_id, None, user_id)
        async with listener_guard(client, where):
            await answer_in_new_thread(
                client,
                services,
                team_id=team_id,
                channel_id=channel_id,
                user_id=user_id,
                text=text,
                is_dm=True,
            )
