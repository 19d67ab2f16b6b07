"""/finetune-check: start the decision checklist, list past decisions, or answer a question.

- no text or `start`: a root message in the channel, and the checklist in its thread
- `history`: this channel's recent decisions (only the caller sees them)
- `help`: usage (only the caller sees it)
- anything else: the question is posted in the channel and answered in its thread

/finetune-admin is registered by the admin feature, not here.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.errors import UserFacingError, new_error_id
from bot.slack.answering import answer_in_thread, question_echo
from bot.slack.checklist_flow import UNAVAILABLE, recent_decisions
from bot.slack.checklist_services import ChecklistRequest
from bot.slack.guard import GENERIC_MESSAGE, Respond, Where, listener_guard
from bot.slack.mrkdwn import escape
from bot.slack.prompts import EMPTY_MENTION_HINT
from bot.slack.services import SlackServices

logger = logging.getLogger(__name__)

CHECK_COMMAND = "/finetune-check"
USAGE = (
    f"*{CHECK_COMMAND}* — decide between prompting, RAG and fine-tuning\n"
    f"• `{CHECK_COMMAND}` or `{CHECK_COMMAND} start` — run the decision checklist in a new "
    "thread; anyone in the thread can answer\n"
    f"• `{CHECK_COMMAND} history` — recent decisions in this channel\n"
    f"• `{CHECK_COMMAND} <question>` — ask a question, answered with sources\n"
    f"• `{CHECK_COMMAND} help` — this message"
)
EXPERTS_ON = (
    "• *Ask an expert* under an answer, or mention me with `expert` in a thread — hand the "
    "thread to a human expert"
)
EXPERTS_OFF = (
    "• Asking a human expert is off: an admin turns it on by setting `ADVISOR_EXPERT_USER_IDS` "
    "(Slack user ids) or `ADVISOR_EXPERT_GROUP_ID` (a user group id)"
)


def usage(services: SlackServices) -> str:
    return USAGE + "\n" + (EXPERTS_ON if services.escalation is not None else EXPERTS_OFF)


# The history is read before the ack, which Slack wants within 3 seconds.
HISTORY_TIMEOUT_SECONDS = 2.0
# chat.postMessage's answers where the bot may not post: a DM between two people, a private
# channel it is not in. The ephemeral apology fails the same way; the response URL does not.
CANNOT_POST = frozenset({"not_in_channel", "channel_not_found"})


def cannot_post_text(bot_user_id: str | None) -> str:
    me = f"<@{bot_user_id}>" if bot_user_id else "the advisor"
    return (
        "I can't post in this conversation, so I can't run that here. Invite me with "
        f"/invite {me}, or run {CHECK_COMMAND} in a DM with me."
    )


def register(app: AsyncApp, services: SlackServices) -> None:
    @app.command(CHECK_COMMAND)
    async def on_check(
        ack: Any,
        command: dict[str, Any],
        client: AsyncWebClient,
        respond: Respond,
        context: AsyncBoltContext,
    ) -> None:
        text = str(command.get("text") or "").strip()
        keyword = text.casefold()
        if keyword == "help":
            await ack(text=usage(services))
            return
        if keyword == "history":
            await _history(ack, services, command)
            return
        if keyword in ("", "start"):
            if services.start_checklist is None:
                await ack(text=EMPTY_MENTION_HINT if not text else UNAVAILABLE)
                return
            await ack()
            await _start(client, services, command, _Reply(respond, context.bot_user_id))
            return
        await ack()
        await _ask(client, services, command, text, _Reply(respond, context.bot_user_id))


class _Reply:
    """How a command talks back to its user alone: the response URL, and who "me" is."""

    def __init__(self, respond: Respond, bot_user_id: str | None) -> None:
        self.respond = respond
        self.bot_user_id = bot_user_id

    async def post_or_explain(
        self, client: AsyncWebClient, **message: Any
    ) -> AsyncSlackResponse | None:
        """chat.postMessage; where the bot may not post, a visible reply saying what to do."""
        try:
            return await client.chat_postMessage(**message)
        except SlackApiError as exc:
            if exc.response is None or exc.response.get("error") not in CANNOT_POST:
                raise
            logger.info("Cannot post in %s: %s", message.get("channel"), exc.response["error"])
            await self.respond(text=cannot_post_text(self.bot_user_id), response_type="ephemeral")
            return None


async def _history(ack: Any, services: SlackServices, command: dict[str, Any]) -> None:
    team_id, channel_id = command.get("team_id"), command.get("channel_id")
    if services.checklist is None or not (team_id and channel_id):
        await ack(text=UNAVAILABLE)
        return
    try:
        async with asyncio.timeout(HISTORY_TIMEOUT_SECONDS):
            blocks = await recent_decisions(services.checklist, team_id, channel_id)
    except UserFacingError as exc:
        await ack(text=exc.message)
        return
    except Exception:
        # The ack is the only reply a slash command gets here, so it carries the apology.
        error_id = new_error_id()
        logger.exception("Decision history failed [error_id=%s channel=%s]", error_id, channel_id)
        await ack(text=GENERIC_MESSAGE.format(error_id=error_id))
        return
    await ack(text="Recent decisions in this channel", blocks=blocks)


async def _start(
    client: AsyncWebClient, services: SlackServices, command: dict[str, Any], reply: _Reply
) -> None:
    """A root message of its own gives the checklist a thread the whole channel can join. It
    says "started" only once the session is saved and the first question is in the thread:
    until then it is a neutral placeholder, removed again if the checklist cannot start."""
    channel_id, user_id = command.get("channel_id"), command.get("user_id")
    team_id = command.get("team_id")
    where = Where(CHECK_COMMAND, team_id, channel_id, None, user_id)
    async with listener_guard(client, where, reply.respond):
        if not (channel_id and user_id and team_id and services.start_checklist):
            return
        title = services.checklist.definition.title if services.checklist else "Decision checklist"
        posted = await reply.post_or_explain(
            client, channel=channel_id, text=f"<@{user_id}> asked for the decision checklist…"
        )
        if posted is None:
            return
        root_ts = str(posted["ts"])
        try:
            await services.start_checklist(
                ChecklistRequest(
                    team_id=team_id,
                    channel_id=channel_id,
                    thread_ts=root_ts,
                    user_id=user_id,
                    client=client,
                    trigger_id=command.get("trigger_id"),
                )
            )
        except Exception:
            await _remove_placeholder(client, channel_id, root_ts)
            raise  # the guard tells the user what went wrong
        await client.chat_update(
            channel=channel_id,
            ts=root_ts,
            text=f"<@{user_id}> started the decision checklist: *{escape(title)}* "
            "Answer in the thread; anyone here can join in.",
        )


async def _remove_placeholder(client: AsyncWebClient, channel_id: str, ts: str) -> None:
    try:
        await client.chat_delete(channel=channel_id, ts=ts)
    except Exception as exc:  # best effort: the failure being reported matters more
        logger.warning("Could not remove the checklist placeholder %s: %s", ts, exc)


async def _ask(
    client: AsyncWebClient,
    services: SlackServices,
    command: dict[str, Any],
    text: str,
    reply: _Reply,
) -> None:
    channel_id, user_id = command.get("channel_id"), command.get("user_id")
    team_id = command.get("team_id")
    where = Where(CHECK_COMMAND, team_id, channel_id, None, user_id)
    async with listener_guard(client, where, reply.respond):
        if not (channel_id and user_id and team_id):
            return
        posted = await reply.post_or_explain(
            client, channel=channel_id, text=question_echo(user_id, text)
        )
        if posted is None:
            return
        await answer_in_thread(
            client,
            services,
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            text=text,
            ts=str(posted["ts"]),
            is_dm=str(command.get("channel_name")) == "directmessage",
        )
