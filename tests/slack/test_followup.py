"""Decision follow-ups through the real Bolt app, signed requests, the mock Slack API (which
keeps scheduled messages the way Slack does) and real Redis: scheduled in the decision's thread
at the right time, cancelled on restart and on a new decision, off at 0, answered with buttons
and a note, forged values and other people refused, and the outcomes in the history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.checklist.history import Decision, DecisionHistory
from bot.checklist.state import ChecklistStore
from bot.deps import Deps
from bot.memory.conversation import ConversationMemory
from bot.memory.threads import ThreadMarks
from bot.ops.metrics import Metrics
from bot.slack import checklist_blocks as ui
from bot.slack import followup_answers as answers
from bot.slack import followup_blocks as fui
from bot.slack.checklist_services import ChecklistServices
from bot.slack.followup import DAY_SECONDS, FollowUps
from bot.slack.pacing import TIER_3, RatePacer, RateTiers
from bot.slack.wiring import build_slack_services
from tests.slack.test_checklist_flow import DEFINITION, Checklist
from tests.support.slack_api import TEAM_ID, Message, MockSlackApi
from tests.support.slack_fixtures import MakeHarness
from tests.support.slack_requests import CHANNEL, USER, view_submission

OTHER = "U0OTHER"
NOW = 1_800_000_000.0


class Clock:
    """The time both the bot and the mock Slack see; tests move it forward."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Run:
    checklist: Checklist
    clock: Clock
    metrics: Metrics
    history: DecisionHistory

    @property
    def api(self) -> MockSlackApi:
        return self.checklist.api

    async def decision(self) -> Decision:
        decision = await self.history.get(TEAM_ID, CHANNEL, self.checklist.thread_ts)
        assert decision is not None
        return decision

    def count(self, event: str) -> float:
        value = self.metrics.registry.get_sample_value(
            "advisor_decision_followups_total", {"event": event}
        )
        return value or 0.0

    async def deliver(self) -> Message:
        """Time passes until the follow-up is due, and Slack posts it."""
        [pending] = self.api.scheduled.values()
        self.clock.now = pending.post_at
        sent: list[Message] = self.api.send_due()
        assert len(sent) == 1
        return sent[0]

    async def click(
        self,
        message: Message,
        action_id: str,
        value: str | None = None,
        user: str = USER,
        until: str = "chat.update",
    ) -> None:
        """Click a button on the posted follow-up (optionally with a forged value)."""
        if value is None:
            value = next(
                e["value"]
                for b in message.blocks
                if b["type"] == "actions"
                for e in b["elements"]
                if e["action_id"] == action_id
            )
        done = len(self.api.calls_to(until))
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM_ID},
            "user": {"id": user},
            "api_app_id": "A0APP",
            "trigger_id": "trig-followup",
            "channel": {"id": CHANNEL},
            "container": {"type": "message", "channel_id": CHANNEL, "message_ts": message.ts},
            "message": {"ts": message.ts, "thread_ts": message.thread_ts},
            "actions": [
                {"action_id": action_id, "value": value, "type": "button", "block_id": "b"}
            ],
        }
        assert await self.checklist.harness.post_interaction(payload) == 200
        await self.api.wait_for(until, done + 1)

    def ephemerals(self) -> list[str]:
        return [str(c.params["text"]) for c in self.api.calls_to("chat.postEphemeral")]


async def _run(
    redis: Redis, make_harness: MakeHarness, days: int = 30, pacer: RatePacer | None = None
) -> Run:
    async def index_version() -> str | None:
        return "idx-test"

    clock, metrics, pacer = Clock(), Metrics(), pacer or RatePacer()
    history = DecisionHistory(redis)
    followups = FollowUps(history, days=days, pacer=pacer, metrics=metrics, clock=clock)
    memory = ConversationMemory(redis, ttl_seconds=3600, max_turns=12, max_tokens=3000)
    services = ChecklistServices(
        definition=DEFINITION,
        store=ChecklistStore(redis),
        history=history,
        memory=memory,
        threads=ThreadMarks(redis, 3600),
        index_version=index_version,
        followups=followups,
    )
    checklist = Checklist(await make_harness(checklist=services, pacer=pacer), memory)
    checklist.api.clock = clock
    await checklist.start()
    return Run(checklist, clock, metrics, history)


@pytest.fixture
async def run(redis_client: Redis, make_harness: MakeHarness) -> Run:
    return await _run(redis_client, make_harness)


async def _decide(run: Run) -> Decision:
    await run.checklist.answer_all()
    await run.api.wait_for("chat.scheduleMessage")
    await run.api.settle(quiet=0.05)
    return await run.decision()


async def test_a_decision_schedules_a_followup_in_its_thread(run: Run) -> None:
    decision = await _decide(run)
    [call] = run.api.calls_to("chat.scheduleMessage")
    params = call.params
    assert params["channel"] == CHANNEL
    assert params["thread_ts"] == run.checklist.thread_ts
    assert int(params["post_at"]) == int(NOW) + 30 * DAY_SECONDS
    assert params["text"].startswith(f"<@{USER}>, how did the decision go?")
    shown = json.dumps(params["blocks"], ensure_ascii=False)
    assert "recommended *Prompting + RAG*. What did you do, and how did it go?" in shown
    action_ids = [
        e["action_id"] for b in params["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert action_ids == [
        "followup:followed",
        "followup:other",
        "followup:worked",
        "followup:partly",
        "followup:did_not",
        "followup:note",
    ]
    # The id Slack gave is kept with the decision, and the message is waiting in Slack.
    assert decision.followup is not None
    assert decision.followup.scheduled_message_id == call.response["scheduled_message_id"]
    assert (decision.followup.user_id, decision.followup.post_at) == (USER, params["post_at"])
    assert decision.started_by == USER
    assert list(run.api.scheduled) == [decision.followup.scheduled_message_id]
    assert run.count("scheduled") == 1


async def test_restart_cancels_the_followup(run: Run) -> None:
    await _decide(run)
    await run.checklist.click(run.checklist.button(ui.RESTART))
    [delete] = await run.api.wait_for("chat.deleteScheduledMessage")
    await run.api.settle(quiet=0.05)
    assert delete.response == {"ok": True}
    assert run.api.scheduled == {}
    decision = await run.decision()
    assert decision.followup is None  # the decision stays in the history, without a follow-up
    assert run.count("cancelled") == 1


async def test_a_new_decision_in_the_thread_replaces_the_followup(run: Run) -> None:
    first = await _decide(run)
    assert first.followup is not None
    # "Start the decision checklist" again in the thread: a fresh checklist (its own message),
    # answered to the end, is a new decision in the same thread.
    start = {"action_id": "checklist_start", "value": "a1b2c3"}
    await run.checklist.click(start, until="chat.postMessage")
    run.checklist.message_ts = str(run.api.calls_to("chat.postMessage")[-1].response["ts"])
    run.clock.now += 3600
    await run.checklist.answer_all()
    await run.api.wait_for("chat.scheduleMessage", 2)
    await run.api.settle(quiet=0.05)
    [delete] = run.api.calls_to("chat.deleteScheduledMessage")
    assert delete.params["scheduled_message_id"] == first.followup.scheduled_message_id
    second = await run.decision()
    assert second.id != first.id and second.followup is not None
    assert list(run.api.scheduled) == [second.followup.scheduled_message_id]
    assert second.followup.post_at == int(NOW) + 3600 + 30 * DAY_SECONDS
    assert (run.count("scheduled"), run.count("cancelled")) == (2, 1)


async def test_starting_a_finished_checklist_again_cancels_its_followup(run: Run) -> None:
    first = await _decide(run)
    assert first.followup is not None
    # "Start the decision checklist" in a thread whose checklist ended: a fresh start, so the
    # old decision's follow-up is deleted at once, before any new decision is made.
    start = {"action_id": "checklist_start", "value": "a1b2c3"}
    await run.checklist.click(start, until="chat.deleteScheduledMessage")
    await run.api.settle(quiet=0.05)
    [delete] = run.api.calls_to("chat.deleteScheduledMessage")
    assert delete.params["scheduled_message_id"] == first.followup.scheduled_message_id
    assert run.api.scheduled == {}
    assert (await run.decision()).followup is None
    assert run.count("cancelled") == 1


async def test_a_followup_deleted_in_slack_counts_as_cancelled(run: Run) -> None:
    decision = await _decide(run)
    assert decision.followup is not None
    run.api.scheduled.clear()  # deleted elsewhere: Slack no longer knows the id
    await run.checklist.click(run.checklist.button(ui.RESTART))
    [delete] = await run.api.wait_for("chat.deleteScheduledMessage")
    await run.api.settle(quiet=0.05)
    assert delete.response["error"] == "invalid_scheduled_message_id"
    assert (await run.decision()).followup is None
    assert not [c for c in run.api.calls_to("chat.postMessage") if "error id" in str(c.params)]


async def test_a_followup_already_sent_is_left_alone_on_restart(run: Run) -> None:
    await _decide(run)
    await run.deliver()
    await run.checklist.click(run.checklist.button(ui.RESTART))
    await run.api.settle(quiet=0.05)
    assert run.api.calls_to("chat.deleteScheduledMessage") == []
    assert (await run.decision()).followup is not None  # it can still be answered


async def test_a_failed_schedule_keeps_the_decision(run: Run) -> None:
    run.api.fail("chat.scheduleMessage", "restricted_too_many")
    await run.checklist.answer_all()
    await run.api.settle(quiet=0.05)
    decision = await run.decision()
    assert (decision.label, decision.followup) == ("Prompting + RAG", None)
    assert run.count("scheduled") == 0
    assert not [c for c in run.api.calls_to("chat.postMessage") if "error id" in str(c.params)]


async def test_scheduling_is_paced_with_slacks_tier_3_budget(
    redis_client: Redis, make_harness: MakeHarness
) -> None:
    tiers = RateTiers(budgets={**RateTiers().budgets, "chat.scheduleMessage": 1})
    pacer = RatePacer(tiers)
    paced = await _run(redis_client, make_harness, pacer=pacer)
    await _decide(paced)
    # The decision's call took the one call the budget allows in this window.
    assert not pacer.try_take("chat.scheduleMessage")
    assert RateTiers().budgets["chat.scheduleMessage"] == TIER_3
    assert RateTiers().budgets["chat.deleteScheduledMessage"] == TIER_3


async def test_followups_are_off_at_zero_days(
    redis_client: Redis, make_harness: MakeHarness
) -> None:
    off = await _run(redis_client, make_harness, days=0)
    await off.checklist.answer_all()
    await off.api.settle(quiet=0.05)
    assert off.api.calls_to("chat.scheduleMessage") == []
    decision = await off.decision()
    assert (decision.label, decision.followup) == ("Prompting + RAG", None)
    _, body = await off.checklist.command("history")
    assert "_no follow-up_" in body


async def test_outcome_buttons_and_the_note_are_stored_with_the_decision(run: Run) -> None:
    await _decide(run)
    message = await run.deliver()
    assert message.thread_ts == run.checklist.thread_ts
    await run.click(message, "followup:followed")
    run.clock.now += 60
    await run.click(message, "followup:worked")
    decision = await run.decision()
    assert decision.outcome is not None
    assert (decision.outcome.choice, decision.outcome.result) == ("followed", "worked")
    assert (decision.outcome.user_id, decision.outcome.updated_at) == (USER, run.clock.now)
    # The message shows what was recorded, with the chosen buttons marked.
    update = run.api.calls_to("chat.update")[-1].params
    assert update["ts"] == message.ts
    shown = json.dumps(update["blocks"], ensure_ascii=False)
    assert "Recorded: Followed the recommendation · It worked" in shown
    styled = [
        e["action_id"]
        for b in update["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("style") == "primary"
    ]
    assert styled == ["followup:followed", "followup:worked"]
    # The note: a modal opened with the click's trigger, its submission stored.
    await run.click(message, "followup:note", until="views.open")
    [opened] = run.api.calls_to("views.open")
    assert opened.params["trigger_id"] == "trig-followup"
    view = opened.params["view"]
    assert view["callback_id"] == fui.NOTE_VIEW
    submission = view_submission(
        opened.response["view"], fui.NOTE_BLOCK, fui.NOTE_INPUT, " Shipped in two weeks. "
    )
    done = len(run.api.calls_to("chat.update"))
    assert await run.checklist.harness.post_interaction(submission) == 200
    await run.api.wait_for("chat.update", done + 1)
    decision = await run.decision()
    assert decision.outcome is not None and decision.outcome.note == "Shipped in two weeks."
    assert decision.outcome.result == "worked"  # the note kept the rest
    assert "note: “Shipped in two weeks.”" in json.dumps(
        run.api.calls_to("chat.update")[-1].params["blocks"], ensure_ascii=False
    )
    assert run.count("answered") == 1  # one follow-up answered, however many clicks


@pytest.mark.parametrize(
    ("action_id", "forge"),
    [
        ("followup:followed", lambda d: "{not json"),
        ("followup:followed", lambda d: json.dumps({"d": d, "a": "worked"})),  # other button
        ("followup:great", lambda d: json.dumps({"d": d, "a": "great"})),
        ("followup:worked", lambda d: json.dumps({"d": d, "a": "worked", "u": "U0HUMAN"})),
        ("followup:worked", lambda d: json.dumps({"d": "not-an-id", "a": "worked"})),
        ("followup:worked", lambda d: json.dumps({"d": 7, "a": "worked"})),
    ],
)
async def test_forged_values_are_refused(run: Run, action_id: str, forge: Any) -> None:
    decision = await _decide(run)
    message = await run.deliver()
    await run.click(message, action_id, value=forge(decision.id), until="chat.postEphemeral")
    assert run.ephemerals() == [answers.UNREADABLE]
    assert (await run.decision()).outcome is None
    assert run.api.calls_to("chat.update")[-1].params["ts"] != message.ts


async def test_an_answer_about_an_earlier_decision_is_refused(run: Run) -> None:
    await _decide(run)
    message = await run.deliver()
    value = json.dumps({"d": "0123456789abcdef", "a": "worked"})
    await run.click(message, "followup:worked", value=value, until="chat.postEphemeral")
    assert run.ephemerals() == [answers.OUTDATED]
    assert (await run.decision()).outcome is None


async def test_only_the_person_asked_may_answer(run: Run) -> None:
    await _decide(run)
    message = await run.deliver()
    await run.click(message, "followup:did_not", user=OTHER, until="chat.postEphemeral")
    await run.click(message, "followup:note", user=OTHER, until="chat.postEphemeral")
    refused = f"Only <@{USER}> was asked about this decision, so nothing changed."
    assert run.ephemerals() == [refused, refused]
    assert run.api.calls_to("views.open") == []
    # A note submitted by someone else (a modal is only opened for the person asked, but the
    # check is on our side, not in the modal) is refused too.
    decision = await run.decision()
    metadata = fui.NoteMetadata(d=decision.id, c=CHANNEL, t=run.checklist.thread_ts, m=message.ts)
    modal = {**fui.note_modal(metadata, None), "id": "V9"}
    submission = view_submission(modal, fui.NOTE_BLOCK, fui.NOTE_INPUT, "mine", user=OTHER)
    assert await run.checklist.harness.post_interaction(submission) == 200
    await run.api.wait_for("chat.postEphemeral", 3)
    assert run.ephemerals()[-1] == refused
    assert (await run.decision()).outcome is None
    assert run.count("answered") == 0


async def test_history_shows_outcomes_beside_decisions_and_a_summary(run: Run) -> None:
    await _decide(run)
    _, body = await run.checklist.command("history")
    assert "_follow-up due " in body
    message = await run.deliver()
    await run.click(message, "followup:followed")
    await run.click(message, "followup:partly")
    _, body = await run.checklist.command("history")
    shown = json.dumps(json.loads(body)["blocks"], ensure_ascii=False)
    assert "_Followed the recommendation · Partly_" in shown
    assert "*How decisions turned out*" in shown
    assert (
        "Prompting + RAG: 1 decision, 1 reported, 0 worked, 1 partly "
        "(1 followed it, 0 chose something else)"
    ) in shown


def test_production_wiring_schedules_with_the_settings_and_counts_in_deps_metrics(
    knowledge_deps: Deps,
) -> None:
    services = build_slack_services(knowledge_deps)
    assert services.checklist is not None
    followups = services.checklist.followups
    assert followups is not None
    assert followups.days == knowledge_deps.settings.slack_behaviour.followup_days == 30
    assert followups.metrics is knowledge_deps.metrics  # what /metrics exports
    assert followups.pacer is services.pacer  # one budget for every Tier 3 call
    assert followups.history is services.checklist.history
