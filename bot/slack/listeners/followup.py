"""Decision follow-up buttons ("what did you do, how did it go?") and the note modal."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import followup_blocks as ui
from bot.slack.followup import FollowUps
from bot.slack.followup_answers import NoteSubmission, handle_answer, handle_note
from bot.slack.guard import Where, listener_guard
from bot.slack.listeners.checklist import click_where, parse_click
from bot.slack.services import SlackServices

logger = logging.getLogger(__name__)

# Every action id with the prefix, including ones no button of ours has: those are refused.
ANSWER_ACTIONS = re.compile(rf"^{re.escape(ui.ACTION_PREFIX)}")


def _followups(services: SlackServices) -> FollowUps | None:
    return services.checklist.followups if services.checklist is not None else None


def register(app: AsyncApp, services: SlackServices) -> None:
    @app.action(ANSWER_ACTIONS)
    async def on_answer(
        ack: Any, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        click = parse_click(body, context.team_id)
        if click is None:
            return  # nothing to answer to: no channel, user or message in the payload
        async with listener_guard(client, click_where(click)):
            await handle_answer(_followups(services), client, click, body.get("trigger_id"))

    @app.view(ui.NOTE_VIEW)
    async def on_note(
        ack: Any, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        view = body.get("view") or {}
        user_id = (body.get("user") or {}).get("id")
        team_id = context.team_id or (body.get("team") or {}).get("id")
        metadata = ui.decode_metadata(view.get("private_metadata"))
        where = Where(ui.NOTE_VIEW, team_id, metadata.c if metadata else None, None, user_id)
        async with listener_guard(client, where):
            if metadata is None or not (user_id and team_id):
                logger.info("A follow-up note without readable metadata was dropped")
                return
            values = (view.get("state") or {}).get("values") or {}
            field = (values.get(ui.NOTE_BLOCK) or {}).get(ui.NOTE_INPUT) or {}
            note = field.get("value")
            submission = NoteSubmission(
                team_id=str(team_id),
                user_id=str(user_id),
                metadata=metadata,
                note=note if isinstance(note, str) else "",
            )
            await handle_note(_followups(services), client, submission)
