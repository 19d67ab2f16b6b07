"""Answer one incoming message: indicator, streamed text, footer, answer record, thread memory.

Three ways an answer can end besides completing: a failure (the guard apologises with an error
id), the user pressing stop (quiet: the turn is remembered as stopped, no apology, no footer), and
a shutdown cancelling it (the message says so). The indicator is cleared on every path.
"""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.memory.conversation import conversation_key
from bot.memory.feedback import AnswerRecord, new_answer_id
from bot.models import DeltaEvent, DoneEvent, Question, StatusEvent, Turn
from bot.slack.blocks import answer_footer
from bot.slack.guard import Where, listener_guard
from bot.slack.indicator import Indicator
from bot.slack.mrkdwn import echo_text
from bot.slack.parsing import IncomingMessage
from bot.slack.parts import Target
from bot.slack.services import SlackServices
from bot.slack.writer import AnswerWriter

logger = logging.getLogger(__name__)

EMPTY_ANSWER = "I could not put an answer together for that. Could you rephrase the question?"
CANCELLED_NOTE = "\n\n_The advisor was restarting and stopped here. Please ask again in a moment._"
# What conversation memory keeps after a turn the user stopped, so follow-ups know.
STOPPED_MARK = "\n\n[The user stopped this answer here.]"


async def answer_message(
    client: AsyncWebClient, services: SlackServices, message: IncomingMessage
) -> None:
    """Everything after the ack. The guard reports failures; the indicator is always cleared."""
    thread_ts = message.reply_thread_ts
    where = Where(
        listener="answer",
        team_id=message.team_id,
        channel_id=message.channel_id,
        thread_ts=thread_ts,
        user_id=message.user_id,
    )
    # The status line works in DMs and, with chat:write, in channel threads too; where Slack
    # refuses it the indicator falls back to a reaction.
    indicator = Indicator(
        client,
        channel_id=message.channel_id,
        thread_ts=thread_ts,
        message_ts=message.ts,
        reaction=services.behaviour.reaction,
    )
    with services.inflight.track():
        async with listener_guard(client, where):
            try:
                await indicator.start()
                # Mark first: a follow-up sent while this answer streams is still ours to answer.
                if not message.is_dm:
                    await services.threads.mark(message.team_id, message.channel_id, thread_ts)
                await _stream_answer(client, services, message, thread_ts, indicator)
            finally:
                await indicator.clear()


async def answer_in_new_thread(
    client: AsyncWebClient,
    services: SlackServices,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    text: str,
    is_dm: bool,
) -> None:
    """Post the question as its own message and answer in its thread, so the answer gets a
    thread (and a memory) of its own, as a mention would."""
    posted = await client.chat_postMessage(channel=channel_id, text=question_echo(user_id, text))
    await answer_in_thread(
        client,
        services,
        team_id=team_id,
        channel_id=channel_id,
        user_id=user_id,
        text=text,
        ts=str(posted["ts"]),
        is_dm=is_dm,
    )


def question_echo(user_id: str, text: str) -> str:
    """The posted copy of a question asked by command or button (made safe to echo)."""
    return f"<@{user_id}> asked: _{echo_text(text)}_"


async def answer_in_thread(
    client: AsyncWebClient,
    services: SlackServices,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    text: str,
    ts: str,
    is_dm: bool,
) -> None:
    """Answer `text` in the thread of the message `ts` (the posted copy of the question)."""
    message = IncomingMessage(
        team_id=team_id, channel_id=channel_id, user_id=user_id, text=text, ts=ts, is_dm=is_dm
    )
    await answer_message(client, services, message)


async def _stream_answer(
    client: AsyncWebClient,
    services: SlackServices,
    message: IncomingMessage,
    thread_ts: str,
    indicator: Indicator,
) -> None:
    question = Question(
        text=message.text,
        conversation_key=conversation_key(message.team_id, message.channel_id, thread_ts),
    )
    target = Target(
        client,
        channel_id=message.channel_id,
        thread_ts=thread_ts,
        team_id=message.team_id,
        user_id=message.user_id,
        pacer=services.pacer,
    )
    writer = AnswerWriter(target)
    try:
        done = await _relay(services, question, writer, indicator)
    except asyncio.CancelledError:
        # A shutdown: say so in the answer itself, then let the cancellation go on.
        await writer.cancel(CANCELLED_NOTE)
        raise
    except BaseException:
        # Leave no stream hanging open under the apology the guard is about to post.
        await writer.abort()
        raise
    if done is None:
        await _remember_stopped(services, question, writer.written)
        return
    if not writer.written.strip():
        # Some answers (no match, extractive) may arrive only in the DoneEvent.
        await writer.append(done.answer.strip() or EMPTY_ANSWER)
    answer_id = await _save_answer(services, message, thread_ts, done)
    footer = answer_footer(
        done.citations,
        done.notes,
        answer_id,
        checklist=services.start_checklist is not None,
        assessed=done.assessment is not None,
        expert=services.escalation is not None and not message.is_dm,
    )
    await writer.finish(footer)


async def _relay(
    services: SlackServices, question: Question, writer: AnswerWriter, indicator: Indicator
) -> DoneEvent | None:
    """The answer's DoneEvent, or None when the user stopped it (no more is generated)."""
    done: DoneEvent | None = None
    events = services.responder.respond(question)
    try:
        async for event in events:
            if isinstance(event, StatusEvent):
                await indicator.update(event.message)
            elif isinstance(event, DeltaEvent):
                await writer.append(event.text)
            elif isinstance(event, DoneEvent):
                done = event
            if writer.stopped:
                return None
    finally:
        # Stopped or failed: end the generation now rather than whenever it is collected.
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
    if done is None:
        raise RuntimeError("responder finished without a DoneEvent")
    return done


async def _remember_stopped(services: SlackServices, question: Question, shown: str) -> None:
    """The turn as the user saw it, marked as stopped, so a follow-up knows where it ended."""
    if services.memory is None or question.conversation_key is None:
        return
    try:
        await services.memory.append(
            question.conversation_key,
            Turn(role="user", content=question.text),
            Turn(role="assistant", content=shown.strip() + STOPPED_MARK),
        )
    except Exception:
        logger.warning("A stopped turn was not remembered", exc_info=True)


async def _save_answer(
    services: SlackServices, message: IncomingMessage, thread_ts: str, done: DoneEvent
) -> str | None:
    """Store what was shown so feedback can refer to it; without it, offer no feedback buttons."""
    answer_id = new_answer_id()
    record = AnswerRecord(
        answer_id=answer_id,
        team_id=message.team_id,
        channel_id=message.channel_id,
        thread_ts=thread_ts,
        user_id=message.user_id,
        question=message.text,
        answer=done.answer,
        mode=done.mode,
        citations=done.citations,
        index_version=done.index_version,
    )
    try:
        await services.feedback.save_answer(record)
    except Exception:
        logger.warning("Answer record not saved; no feedback buttons", exc_info=True)
        return None
    return answer_id
