"""Decision follow-ups, kept by Slack: scheduled when a checklist decides, cancelled when the
thread's checklist is restarted or decides again.

`chat.scheduleMessage` holds the message until `post_at`, so no scheduler of ours has to survive
a restart; the scheduled message id is kept with the decision record, which is how a later
restart or decision finds it to cancel (`chat.deleteScheduledMessage`).

Where it is posted: in the decision's own thread, mentioning the person asked. The thread holds
the checklist and its result, so the question arrives with its context and the others who
answered can see it; the bot can already post there (it posted the checklist), so it needs no
extra scope (a DM would need `im:write` and a `conversations.open` call per decision) and a
checklist run in a DM with the bot gets its follow-up in that DM all the same. The mention
notifies the person like a DM would.

Both methods are Tier 3 and go through the pacer. Failures never undo a decision: a follow-up
that cannot be scheduled is logged and counted, and one that was already sent or deleted
(`invalid_scheduled_message_id`) counts as cancelled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.checklist.history import Decision, DecisionHistory, FollowUp
from bot.ops.metrics import FollowUpEvent, Metrics
from bot.slack.followup_blocks import followup_blocks, followup_text
from bot.slack.pacing import RatePacer

logger = logging.getLogger(__name__)

DAY_SECONDS = 86_400
GONE = "invalid_scheduled_message_id"  # already sent, or already deleted


class FollowUps:
    """Schedules and cancels follow-ups; `days` 0 schedules none (but still cancels old ones)."""

    def __init__(
        self,
        history: DecisionHistory,
        *,
        days: int,
        pacer: RatePacer,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if days < 0:
            raise ValueError("days must be 0 (off) or more")
        self.history = history
        self.days = days
        self.pacer = pacer
        self.metrics = metrics
        self.clock = clock

    async def after_decision(
        self, client: AsyncWebClient, decision: Decision, previous: Decision | None
    ) -> Decision:
        """Cancel the thread's earlier follow-up, then schedule this decision's."""
        if previous is not None:
            await self.cancel(client, previous)
        person = decision.started_by
        if self.days == 0 or person is None:
            return decision
        post_at = int(self.clock()) + self.days * DAY_SECONDS
        try:
            await self.pacer.take("chat.scheduleMessage")
            response = await client.chat_scheduleMessage(
                channel=decision.channel_id,
                thread_ts=decision.thread_ts,
                post_at=post_at,
                text=followup_text(decision, person),
                blocks=followup_blocks(decision, person),
            )
        except SlackApiError as exc:
            logger.warning(
                "Could not schedule the follow-up for decision %s: %s", decision.id, _error(exc)
            )
            return decision
        followup = FollowUp(
            scheduled_message_id=str(response["scheduled_message_id"]),
            channel_id=str(response.get("channel") or decision.channel_id),
            post_at=post_at,
            user_id=person,
        )
        changed = await self.history.update(
            decision.team_id,
            decision.channel_id,
            decision.thread_ts,
            decision.id,
            lambda d: d.model_copy(update={"followup": followup}),
        )
        if changed is None:
            # The record is gone (Redis lost it): an answer would have nowhere to go.
            await self._delete(client, followup)
            return decision
        self.count("scheduled")
        return changed[1]

    async def cancel_in_thread(
        self, client: AsyncWebClient, team_id: str, channel_id: str, thread_ts: str
    ) -> None:
        """The thread's checklist was restarted: its decision's follow-up no longer applies."""
        decision = await self.history.get(team_id, channel_id, thread_ts)
        if decision is not None:
            await self.cancel(client, decision)

    async def cancel(self, client: AsyncWebClient, decision: Decision) -> None:
        """Delete the pending follow-up and clear it from the record. One already posted stays
        (and can still be answered); a failed delete keeps the id so a later cancel retries."""
        followup = decision.followup
        if followup is None or followup.post_at <= self.clock():
            return
        if not await self._delete(client, followup):
            return
        self.count("cancelled")
        await self.history.update(
            decision.team_id,
            decision.channel_id,
            decision.thread_ts,
            decision.id,
            lambda d: d.model_copy(update={"followup": None}),
        )

    async def _delete(self, client: AsyncWebClient, followup: FollowUp) -> bool:
        try:
            await self.pacer.take("chat.deleteScheduledMessage")
            await client.chat_deleteScheduledMessage(
                channel=followup.channel_id, scheduled_message_id=followup.scheduled_message_id
            )
        except SlackApiError as exc:
            if _error(exc) == GONE:
                logger.info(
                    "Follow-up %s was already sent or deleted", followup.scheduled_message_id
                )
                return True
            logger.warning(
                "Could not cancel follow-up %s: %s", followup.scheduled_message_id, _error(exc)
            )
            return False
        return True

    def count(self, event: FollowUpEvent) -> None:
        if self.metrics is not None:
            self.metrics.count_followup(event)


def _error(exc: SlackApiError) -> str:
    response = exc.response
    return str(response.get("error")) if response is not None else "no response"
