"""Answers to a decision follow-up: the buttons, and the note from the modal.

Every value is checked on our side before anything is stored: the button's value must decode
strictly and agree with the button's action id, it must name the decision the thread holds now,
and only the person asked may answer. Anything else gets a short ephemeral note and changes
nothing. Where the answer applies (team, channel, thread) comes from Slack's payload.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.checklist import outcomes
from bot.checklist.history import Decision
from bot.checklist.outcomes import FollowUpRefused
from bot.slack import followup_blocks as ui
from bot.slack.checklist_flow import Click
from bot.slack.followup import FollowUps

logger = logging.getLogger(__name__)

UNAVAILABLE = "Decision follow-ups are not enabled in this workspace."
UNREADABLE = "That button could not be read, so nothing was recorded."
OUTDATED = (
    "This follow-up is about an earlier decision: the checklist in this thread has decided "
    "again since (or the decision is no longer kept), so nothing was recorded."
)


@dataclass(frozen=True)
class NoteSubmission:
    team_id: str
    user_id: str
    metadata: ui.NoteMetadata
    note: str


async def handle_answer(
    followups: FollowUps | None, client: AsyncWebClient, click: Click, trigger_id: str | None
) -> None:
    if followups is None:
        await _ephemeral(client, click.channel_id, click.thread_ts, click.user_id, UNAVAILABLE)
        return
    value = ui.decode_value(click.value)
    if value is None or click.action_id != f"{ui.ACTION_PREFIX}{value.a}":
        await _ephemeral(client, click.channel_id, click.thread_ts, click.user_id, UNREADABLE)
        return
    if value.a == ui.NOTE:
        await _open_note(followups, client, click, value.d, trigger_id)
        return
    choice = value.a if value.a in outcomes.CHOICES else None
    result = value.a if value.a in outcomes.RESULTS else None
    now = followups.clock()

    def merge(decision: Decision) -> Decision:
        return outcomes.answer(
            decision,
            click.user_id,
            now=now,
            choice=choice,
            result=result,
        )

    where = _Where(click.team_id, click.channel_id, click.thread_ts, click.user_id)
    await _store(followups, client, where, value.d, merge, click.message_ts)


async def handle_note(
    followups: FollowUps | None, client: AsyncWebClient, submission: NoteSubmission
) -> None:
    meta = submission.metadata
    if followups is None:
        return
    now = followups.clock()

    def merge(decision: Decision) -> Decision:
        return outcomes.answer(decision, submission.user_id, now=now, note=submission.note)

    where = _Where(submission.team_id, meta.c, meta.t, submission.user_id)
    await _store(followups, client, where, meta.d, merge, meta.m)


async def _open_note(
    followups: FollowUps,
    client: AsyncWebClient,
    click: Click,
    decision_id: str,
    trigger_id: str | None,
) -> None:
    decision = await followups.history.get(click.team_id, click.channel_id, click.thread_ts)
    if decision is None or decision.id != decision_id:
        await _ephemeral(client, click.channel_id, click.thread_ts, click.user_id, OUTDATED)
        return
    person = outcomes.asked(decision)
    if person != click.user_id:
        text = f"Only <@{person}> was asked about this decision, so nothing changed."
        await _ephemeral(client, click.channel_id, click.thread_ts, click.user_id, text)
        return
    if not trigger_id:
        return  # no way to open a modal without one; Slack always sends it with a click
    metadata = ui.NoteMetadata(
        d=decision.id, c=click.channel_id, t=click.thread_ts, m=click.message_ts
    )
    note = decision.outcome.note if decision.outcome else None
    await client.views_open(trigger_id=trigger_id, view=ui.note_modal(metadata, note))


@dataclass(frozen=True)
class _Where:
    team_id: str
    channel_id: str
    thread_ts: str
    user_id: str  # who answered


async def _store(
    followups: FollowUps,
    client: AsyncWebClient,
    where: _Where,
    decision_id: str,
    merge: outcomes.Merge,
    message_ts: str | None,
) -> None:
    try:
        changed = await followups.history.update(
            where.team_id, where.channel_id, where.thread_ts, decision_id, merge
        )
    except FollowUpRefused as exc:
        await _ephemeral(client, where.channel_id, where.thread_ts, where.user_id, exc.message)
        return
    if changed is None:
        await _ephemeral(client, where.channel_id, where.thread_ts, where.user_id, OUTDATED)
        return
    before, after = changed
    if not outcomes.reported(before.outcome) and outcomes.reported(after.outcome):
        followups.count("answered")
    person = outcomes.asked(after) or where.user_id
    if message_ts:
        # The message shows what was recorded, and stays answerable (a changed mind, a note).
        await followups.pacer.take("chat.update")
        await client.chat_update(
            channel=where.channel_id,
            ts=message_ts,
            text=ui.followup_text(after, person),
            blocks=ui.followup_blocks(after, person),
        )


async def _ephemeral(
    client: AsyncWebClient, channel_id: str, thread_ts: str | None, user_id: str, text: str
) -> None:
    await client.chat_postEphemeral(
        channel=channel_id, user=user_id, thread_ts=thread_ts, text=text
    )
