"""/finetune-admin: reindex (and --dry-run), rollback, status, gaps, help — for admins only.

The listener is thin: it checks who is asking, acks at once and runs the work in the background
through `AdminService`. A reindex shows its progress by editing one channel message, then the
summary; answers for the admin alone (refusals, busy, status) go through the response URL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.admin import messages
from bot.admin.lock import ReindexBusyError
from bot.admin.progress import ThrottledProgress
from bot.admin.service import AdminService
from bot.errors import UserFacingError, new_error_id
from bot.gaps.render import report_text
from bot.gaps.service import GapService
from bot.gaps.since import parse_since
from bot.slack.digest import slack_text
from bot.slack.guard import Where, listener_guard
from bot.slack.mrkdwn import echo_text
from bot.slack.pacing import RatePacer

logger = logging.getLogger(__name__)

ADMIN_COMMAND = messages.ADMIN_COMMAND
# chat.update is Tier 3 (about 50 a minute for the whole workspace, answers included): a progress
# edit every 3 s is 20 a minute at most, and edits are skipped when the budget has no room.
PROGRESS_INTERVAL_SECONDS = 3.0
Respond = Callable[..., Awaitable[Any]]
SLACK_TOP_GROUPS = 10  # under Slack's text limit; the rest: `advisor gaps` in a terminal


def register(
    app: AsyncApp, admin: AdminService, pacer: RatePacer, gaps: GapService | None = None
) -> None:
    # Background jobs are kept referenced so the event loop does not drop them mid-run.
    jobs: set[asyncio.Task[None]] = set()

    def spawn(job: Awaitable[None]) -> None:
        task = asyncio.ensure_future(job)
        jobs.add(task)
        task.add_done_callback(jobs.discard)

    @app.command(ADMIN_COMMAND)
    async def on_admin(
        ack: Any, command: dict[str, Any], client: AsyncWebClient, respond: Respond
    ) -> None:
        words = str(command.get("text") or "").casefold().split()
        action = words[0] if words else "help"
        user_id = str(command.get("user_id") or "")
        where = Where(
            ADMIN_COMMAND, command.get("team_id"), command.get("channel_id"), None, user_id
        )
        context = {"team_id": where.team_id, "channel_id": where.channel_id, "user_id": user_id}

        async def lookup(uid: str) -> Mapping[str, Any]:
            response = await client.users_info(user=uid)
            user = response.get("user")
            return user if isinstance(user, dict) else {}

        allowed = bool(user_id) and await admin.policy.allows(user_id, lookup)
        logger.info(
            "admin command %r by %s at %s: %s",
            " ".join(words),
            user_id,
            datetime.now(UTC).isoformat(timespec="seconds"),
            "allowed" if allowed else "refused",
            extra=context,
        )
        if not allowed:
            await ack(text=messages.REFUSED)
            return
        unknown = [word for word in words[1:] if word != "--dry-run"]
        if action == "reindex" and unknown:
            # The folder is fixed by ADVISOR_KNOWLEDGE_DIR; a path from chat is never read.
            await ack(text=messages.unknown_reindex_argument(echo_text(unknown[0])))
            return
        if action == "reindex":
            await ack()
            dry_run = "--dry-run" in words[1:]
            spawn(_reindex(admin, client, respond, where, pacer, dry_run=dry_run))
        elif action == "rollback":
            await ack()
            spawn(_rollback(admin, client, respond, where))
        elif action == "status":
            await ack()
            spawn(_status(admin, client, respond, where))
        elif action == "gaps" and gaps is not None:
            try:
                since = parse_since(_since_argument(words[1:]), datetime.now(UTC))
            except UserFacingError as exc:
                await ack(text=exc.message)
                return
            await ack()
            spawn(_gaps(gaps, client, respond, where, since))
        else:
            await ack(text=messages.HELP)


async def _reindex(
    admin: AdminService,
    client: AsyncWebClient,
    respond: Respond,
    where: Where,
    pacer: RatePacer,
    *,
    dry_run: bool,
) -> None:
    by, channel_id = where.user_id or "", where.channel_id
    message_ts: str | None = None

    async def show(text: str, *, final: bool = False) -> None:
        nonlocal message_ts
        if channel_id is None:
            return
        if message_ts is None:
            posted = await client.chat_postMessage(channel=channel_id, text=text)
            message_ts = str(posted["ts"])
            return
        if final:
            await pacer.take("chat.update")
        elif not pacer.try_take("chat.update"):
            return  # no Tier 3 room now; a later edit or the summary shows the progress
        await client.chat_update(channel=channel_id, ts=message_ts, text=text)

    def render(stage: str, done: int, total: int) -> str:
        return messages.progress_text(by, stage, done, total, dry_run)

    async with listener_guard(client, where):
        try:
            async with ThrottledProgress(show, render, PROGRESS_INTERVAL_SECONDS) as progress:
                result = await admin.reindex(by, dry_run=dry_run, progress=progress.update)
            final = messages.reindex_summary(by, result)
        except ReindexBusyError as exc:
            await respond(text=exc.message, response_type="ephemeral")
            return
        except UserFacingError as exc:
            # The quality gate and embedding failures explain themselves; nothing was published.
            logger.warning("reindex by %s stopped: %s", by, exc.message)
            final = messages.failure_text(by, exc.message)
        except Exception:
            error_id = new_error_id()
            logger.exception(
                "reindex by %s failed",
                by,
                extra={"error_id": error_id, "channel_id": channel_id, "team_id": where.team_id},
            )
            final = messages.failure_text(by, f"an unexpected error (error id `{error_id}`)")
        try:
            await show(final, final=True)
        except Exception:
            # The channel message failed (bot not in the channel?): the admin still hears back.
            logger.warning("could not post the reindex summary in %s", channel_id, exc_info=True)
            await respond(text=final, response_type="ephemeral")


async def _rollback(
    admin: AdminService, client: AsyncWebClient, respond: Respond, where: Where
) -> None:
    by = where.user_id or ""
    async with listener_guard(client, where):
        try:
            result = await admin.rollback(by)
        except UserFacingError as exc:
            await respond(text=exc.message, response_type="ephemeral")
            return
        # In the channel: everyone there should know which index answers them now.
        await respond(text=messages.rollback_text(by, result), response_type="in_channel")


def _since_argument(words: list[str]) -> str:
    """`gaps`, `gaps --since 7d`, `gaps --since=7d` or `gaps 7d`."""
    if not words:
        return "7d"
    if words[0] == "--since" and len(words) == 2:
        return words[1]
    if len(words) == 1:
        return words[0].removeprefix("--since=")
    raise UserFacingError(f"Usage: `{ADMIN_COMMAND} gaps [--since 7d]`.")


async def _gaps(
    gaps: GapService, client: AsyncWebClient, respond: Respond, where: Where, since: datetime
) -> None:
    async with listener_guard(client, where):
        report = await gaps.report(since)
        text = slack_text(report_text(report, SLACK_TOP_GROUPS))
        await respond(text=text, response_type="ephemeral")


async def _status(
    admin: AdminService, client: AsyncWebClient, respond: Respond, where: Where
) -> None:
    async with listener_guard(client, where):
        status = await admin.status()
        await respond(text=messages.status_text(status), response_type="ephemeral")
