"""The decision checklist in a Slack thread: start, click (answer/back/restart), share, export.

One message per checklist, updated in place. Every click names the session revision its message
showed; the store's compare-and-set turns a double click or a stale message into a polite
ephemeral note and a refreshed message, never a second answer and never a crash. Where a click
applies (team, channel, thread) comes from Slack's payload, so a forged value cannot reach another
thread's checklist. A start from "Confirm in the checklist" fills in the facts read from the
thread, found in its conversation memory by the same payload ids.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.checklist import engine
from bot.checklist.assessment import Fact
from bot.checklist.decisions import decision_report
from bot.checklist.definition import ChecklistError
from bot.checklist.engine import Session
from bot.checklist.history import Decision, DecisionHistory
from bot.checklist.loader import load_from_knowledge_dir
from bot.checklist.record import to_adr_markdown
from bot.checklist.scoring import Result
from bot.checklist.state import ChecklistStore
from bot.memory.conversation import ConversationMemory, conversation_key
from bot.memory.threads import ThreadMarks
from bot.models import Turn
from bot.slack import checklist_blocks as ui
from bot.slack.blocks import Block
from bot.slack.checklist_services import ChecklistRequest, ChecklistServices, StartChecklist
from bot.slack.followup import FollowUps
from bot.slack.mrkdwn import echo_text

logger = logging.getLogger(__name__)

UNAVAILABLE = "The decision checklist is not enabled in this workspace."
EXPIRED = (
    "This checklist is no longer saved (checklists are kept for a limited number of days). "
    "Start a new one with `/finetune-check`."
)
UNREADABLE = (
    "That button could not be read, so nothing changed. The message shows the current step."
)
STALE = "This step was already answered (maybe by someone else) — here is the current question."
OUTDATED = (
    "This result is out of date: the checklist in this thread changed since. See the message."
)
RESUMED = "Continuing the decision checklist where it stopped."
HISTORY_LINES = 10  # decisions listed by /finetune-check history (the summary counts them all)
FACTS_GONE = (
    "The answers read from the messages in this thread are no longer saved (they are kept for a "
    "limited time), so this checklist starts with nothing filled in."
)


def build_checklist_services(
    redis: Redis,
    knowledge_dir: Path,
    ttl_days: float,
    memory: ConversationMemory | None,
    threads: ThreadMarks,
    index_version: Callable[[], Awaitable[str | None]],
    *,
    followups: FollowUps | None = None,
) -> ChecklistServices:
    """Load and validate knowledge_dir/checklist.yaml (raises ChecklistError naming file:line).
    Decisions go to `followups.history` when given (it keeps them long enough for the follow-up
    to be answered), otherwise to a history kept as long as the sessions."""
    return ChecklistServices(
        definition=load_from_knowledge_dir(knowledge_dir),
        store=ChecklistStore(redis, ttl_days=ttl_days),
        history=followups.history if followups else DecisionHistory(redis, ttl_days=ttl_days),
        memory=memory,
        threads=threads,
        index_version=index_version,
        followups=followups,
    )


def checklist_starter(checklist: ChecklistServices) -> StartChecklist:
    """The hook the rest of the Slack layer calls to start (or resume) a checklist."""

    async def start(request: ChecklistRequest) -> None:
        await start_checklist(checklist, request)

    return start


@dataclass(frozen=True)
class Click:
    """A button press on a checklist message; every id comes from Slack's payload."""

    team_id: str
    channel_id: str
    thread_ts: str
    message_ts: str
    user_id: str
    action_id: str
    value: object


def render(checklist: ChecklistServices, session: Session) -> tuple[str, list[Block]]:
    """The message for a session: the current question, the result, or a request to restart."""
    definition = checklist.definition
    try:
        question = engine.current_question(definition, session)
        if question is None:
            result = engine.result(definition, session)
            return ui.result_text(result), ui.result_blocks(result, session.revision)
        progress = engine.progress(definition, session)
    except ChecklistError as exc:
        # The definition changed under a saved session: only Restart can help.
        restart = ui.button("Restart", ui.RESTART, ui.encode_value(session.revision))
        blocks = [*ui.sections(exc.message), {"type": "actions", "elements": [restart]}]
        return exc.message, blocks
    return ui.question_text(question, progress), ui.question_blocks(
        definition, session, question, progress
    )


async def start_checklist(checklist: ChecklistServices, request: ChecklistRequest) -> None:
    """Post the checklist in the request's thread, continuing an unfinished one if there is one.

    With `request.read_facts`, the answers read from the thread's messages (conversation memory,
    never the request) are filled in and marked; when they are gone the checklist starts blank
    and the message says so. The session is saved before anything says it started.
    """
    ids = (request.team_id, request.channel_id, request.thread_ts)
    facts: tuple[Fact, ...] = ()
    notice = None
    if request.read_facts:
        facts = await _thread_facts(checklist, request)
        notice = None if facts else FACTS_GONE
    session = await checklist.store.load(*ids)
    resumed = session is not None and _unfinished(checklist, session)
    fresh = _next_session(checklist, session, facts, resumed)
    if fresh is not session:
        expected = session.revision if session is not None else None
        if await checklist.store.save(*ids, fresh, expected_revision=expected):
            if session is not None and not resumed and checklist.followups is not None:
                # A finished checklist started again: its decision's follow-up no longer applies.
                await checklist.followups.cancel_in_thread(request.client, *ids)
            session = fresh
        else:
            # Someone started or answered it at the same moment: show theirs.
            session = await checklist.store.load(*ids)
            if session is None:
                raise ChecklistError("The checklist could not be started; please try again.")
    text, blocks = render(checklist, session)
    if resumed:
        text = f"{RESUMED} {text}"
    if notice and not resumed:  # a resumed checklist keeps what it was started with
        text = f"{notice} {text}"
        blocks = [ui.context(f":information_source: {notice}"), *blocks]
    await request.client.chat_postMessage(
        channel=request.channel_id, thread_ts=request.thread_ts, text=text, blocks=blocks
    )
    # Follow-up questions in this thread are then answered without a mention.
    await checklist.threads.mark(request.team_id, request.channel_id, request.thread_ts)


def _next_session(
    checklist: ChecklistServices, session: Session | None, facts: tuple[Fact, ...], resumed: bool
) -> Session:
    """What to save: a new session (prefilled with `facts`), the unfinished one with the facts
    applied to its open questions, or `session` itself when nothing changes."""
    definition = checklist.definition
    if session is None:
        return engine.start(definition, facts)
    if not resumed:
        return engine.restart(definition, session, facts)
    return engine.add_prefill(definition, session, facts) if facts else session


async def _thread_facts(
    checklist: ChecklistServices, request: ChecklistRequest
) -> tuple[Fact, ...]:
    """The situation facts read from this thread's messages so far (empty when expired)."""
    if checklist.memory is None:
        return ()
    key = conversation_key(request.team_id, request.channel_id, request.thread_ts)
    return (await checklist.memory.load(key)).facts


def _unfinished(checklist: ChecklistServices, session: Session) -> bool:
    try:
        return not engine.is_complete(checklist.definition, session)
    except ChecklistError:
        return False  # started on another definition: start afresh


async def handle_click(
    checklist: ChecklistServices | None, client: AsyncWebClient, click: Click
) -> None:
    if checklist is None:
        await _ephemeral(client, click, UNAVAILABLE)
        return
    ids = (click.team_id, click.channel_id, click.thread_ts)
    session = await checklist.store.load(*ids)
    if session is None:
        await _ephemeral(client, click, EXPIRED)
        return
    value = ui.decode_value(click.value)
    if value is None or value.r != session.revision:
        final = click.action_id in (ui.SHARE, ui.EXPORT)
        notice = UNREADABLE if value is None else OUTDATED if final else STALE
        await _refresh(client, click, checklist, session, notice)
        return
    if click.action_id in (ui.SHARE, ui.EXPORT):
        await _finish_action(client, click, checklist, session)
        return
    try:
        updated = _apply(checklist, session, click, value)
    except ChecklistError as exc:
        await _refresh(
            client, click, checklist, session, f"{echo_text(exc.message)}. Nothing changed."
        )
        return
    if not await checklist.store.save(*ids, updated, expected_revision=session.revision):
        latest = await checklist.store.load(*ids)
        if latest is None:
            await _ephemeral(client, click, EXPIRED)
        else:
            await _refresh(client, click, checklist, latest, STALE)
        return
    await _show(client, click, checklist, updated)
    if click.action_id.startswith(ui.ANSWER_PREFIX) and not _unfinished(checklist, updated):
        await _record_decision(client, click, checklist, updated)
    elif click.action_id == ui.RESTART and checklist.followups is not None:
        # A restarted checklist withdraws the thread's decision from its follow-up.
        await checklist.followups.cancel_in_thread(client, *ids)


def _apply(
    checklist: ChecklistServices, session: Session, click: Click, value: ui.ButtonValue
) -> Session:
    definition = checklist.definition
    if click.action_id == ui.BACK:
        return engine.back(definition, session)
    if click.action_id == ui.RESTART:
        return engine.restart(definition, session)
    if value.q is None or value.o is None:
        raise ChecklistError("That button does not name an answer")
    return engine.answer(definition, session, value.q, value.o, click.user_id)


async def _finish_action(
    client: AsyncWebClient, click: Click, checklist: ChecklistServices, session: Session
) -> None:
    if _unfinished(checklist, session):
        await _refresh(client, click, checklist, session, OUTDATED)
        return
    result = engine.result(checklist.definition, session)
    if click.action_id == ui.SHARE:
        permalink = await _permalink(client, click)
        # Not in the thread: the point is to tell the channel what was decided.
        await client.chat_postMessage(
            channel=click.channel_id,
            text=ui.result_text(result),
            blocks=ui.share_blocks(result, click.user_id, permalink),
        )
    else:
        await export_record(client, click, checklist, result)


async def export_record(
    client: AsyncWebClient, click: Click, checklist: ChecklistServices, result: Result
) -> None:
    """Upload the ADR as a Markdown file in the thread; without upload rights, post it as code."""
    today = datetime.datetime.now(datetime.UTC).date()
    record = to_adr_markdown(result, date=today, index_version=await _index_version(checklist))
    try:
        await client.files_upload_v2(
            channel=click.channel_id,
            thread_ts=click.thread_ts,
            content=record,
            filename=f"decision-record-{today.isoformat()}.md",
            title=f"Decision record: {result.label}",
            initial_comment=f"Decision record exported by <@{click.user_id}>.",
        )
    except SlackClientError as exc:
        logger.info("File upload failed (%s); posting the decision record as text", exc)
        for blocks in ui.record_messages(record):
            await client.chat_postMessage(
                channel=click.channel_id,
                thread_ts=click.thread_ts,
                text=f"Decision record: {result.label}",
                blocks=blocks,
            )


async def _record_decision(
    client: AsyncWebClient, click: Click, checklist: ChecklistServices, session: Session
) -> None:
    """Remember the result for follow-up questions in the thread and for the channel's history,
    and schedule the "how did it go?" follow-up (replacing the thread's earlier one)."""
    result = engine.result(checklist.definition, session)
    if checklist.memory is not None:
        key = conversation_key(click.team_id, click.channel_id, click.thread_ts)
        await checklist.memory.append(key, Turn(role="assistant", content=summarise(result)))
    answered = tuple(dict.fromkeys(a.user_id for a in session.answers if a.user_id))
    decision = Decision(
        team_id=click.team_id,
        channel_id=click.channel_id,
        thread_ts=click.thread_ts,
        recommendation=result.recommendation,
        label=result.label,
        checklist_version=result.checklist_version,
        user_ids=answered,
        started_by=answered[0] if answered else click.user_id,
        permalink=await _permalink(client, click),
    )
    previous = await _previous_decision(checklist, click)
    if await checklist.history.add(decision) and checklist.followups is not None:
        await checklist.followups.after_decision(client, decision, previous)


async def _previous_decision(checklist: ChecklistServices, click: Click) -> Decision | None:
    try:
        return await checklist.history.get(click.team_id, click.channel_id, click.thread_ts)
    except ChecklistError:
        return None  # Redis is down: the add below fails softly too


def summarise(result: Result) -> str:
    """The result as plain text for conversation memory (the model sees it on follow-ups)."""
    lines = [f"Decision checklist result: {result.label}. {result.summary}", "Answers:"]
    lines += [f"- {a.question} {a.option}" for a in result.answers]
    lines += ["Reasons:"] + [f"- {r.rationale} ({', '.join(r.cites)})" for r in result.reasons]
    lines += ["Next steps:"] + [f"- {step}" for step in result.next_steps]
    lines += ["What would change it:"]
    lines += [f"- {f.question} {f.to_option} -> {f.new_label}" for f in result.what_would_change]
    return "\n".join(lines)


async def recent_decisions(
    checklist: ChecklistServices, team_id: str, channel_id: str
) -> list[Block]:
    report = await decision_report(
        checklist.history, team_id=team_id, channel_id=channel_id, limit=HISTORY_LINES
    )
    now = checklist.followups.clock() if checklist.followups else time.time()
    return ui.history_blocks(report, now)


async def _refresh(
    client: AsyncWebClient,
    click: Click,
    checklist: ChecklistServices,
    session: Session,
    notice: str,
) -> None:
    await _ephemeral(client, click, notice)
    await _show(client, click, checklist, session)


async def _show(
    client: AsyncWebClient, click: Click, checklist: ChecklistServices, session: Session
) -> None:
    text, blocks = render(checklist, session)
    await client.chat_update(
        channel=click.channel_id, ts=click.message_ts, text=text, blocks=blocks
    )


async def _ephemeral(client: AsyncWebClient, click: Click, text: str) -> None:
    await client.chat_postEphemeral(
        channel=click.channel_id, user=click.user_id, thread_ts=click.thread_ts, text=text
    )


async def _permalink(client: AsyncWebClient, click: Click) -> str | None:
    try:
        response = await client.chat_getPermalink(
            channel=click.channel_id, message_ts=click.message_ts
        )
    except SlackClientError as exc:
        logger.info("No permalink for the checklist message: %s", exc)
        return None
    link = response.get("permalink")
    return link if isinstance(link, str) else None


async def _index_version(checklist: ChecklistServices) -> str | None:
    try:
        return await checklist.index_version()
    except Exception:
        # The record still has value without it; it then says "unknown".
        logger.warning("Could not read the index version for a decision record", exc_info=True)
        return None
