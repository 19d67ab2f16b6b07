"""Escalation to an expert through the real app: signed requests, the mock Slack API, real Redis.

The experts are U0EXPERT (named) and the members of the user group S0EXPERTS (U0GROUPIE, as the
mock's usergroups.users.list says). The asker is USER; U0OTHER is anybody else.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from bot.escalation.models import Escalation, ExpertRoster
from bot.escalation.service import EscalationService
from bot.memory.conversation import ConversationMemory
from bot.memory.escalations import EscalationStore
from bot.ops.metrics import Metrics
from bot.slack.escalation_blocks import (
    ALREADY_OPEN,
    ESCALATE_ACTION,
    MARKER_REACTION,
    NO_EXPERTS,
    NOT_IN_DM,
    RESOLVE_ACTION,
    RESOLVED_REACTION,
)
from bot.slack.escalation_services import Escalations, GroupMembers
from tests.support.scripted import ScriptedResponder
from tests.support.slack_api import BOT_USER_ID, Call
from tests.support.slack_fixtures import MakeHarness
from tests.support.slack_harness import SlackHarness, scripted_services
from tests.support.slack_requests import (
    CHANNEL,
    USER,
    click_payload,
    command_fields,
    mention,
    message_event,
)

EXPERT = "U0EXPERT"
GROUP = "S0EXPERTS"
GROUPIE = "U0GROUPIE"
OTHER = "U0OTHER"
LISTING = "C0EXPERTS"
Hook = Callable[[Escalation], Awaitable[None]]


class Setup:
    """A harness with experts configured, and what the test wants to look at afterwards."""

    def __init__(self, harness: SlackHarness, escalations: Escalations, metrics: Metrics) -> None:
        self.harness = harness
        self.escalations = escalations
        self.metrics = metrics
        self.hooked: list[Escalation] = []

    @property
    def store(self) -> EscalationStore:
        return self.escalations.service.store

    def escalation_posts(self) -> list[Call]:
        return [
            call
            for call in self.harness.api.calls_to("chat.postMessage")
            if any(
                str(block.get("block_id", "")).startswith("escalation:")
                for block in call.params.get("blocks") or []
            )
        ]

    def ephemerals(self) -> list[str]:
        return [str(c.params["text"]) for c in self.harness.api.calls_to("chat.postEphemeral")]

    def count(self, name: str, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(name, labels)
        return value or 0.0


async def open_setup(
    make_harness: MakeHarness,
    redis: Redis,
    *,
    responder: ScriptedResponder | None = None,
    listing: str | None = None,
) -> Setup:
    metrics = Metrics()
    memory = ConversationMemory(redis, ttl_seconds=3600, max_turns=12, max_tokens=3000)
    hooked: list[Escalation] = []

    async def hook(escalation: Escalation) -> None:
        hooked.append(escalation)

    service = EscalationService(
        EscalationStore(redis, ttl_seconds=3600),
        ExpertRoster(user_ids=frozenset({EXPERT}), group_id=GROUP),
        memory=memory,
        metrics=metrics,
        on_escalated=hook,
    )
    escalations = Escalations(service, GroupMembers(GROUP), listing)
    services = scripted_services(redis, responder, memory=memory, escalation=escalations)
    harness = await make_harness(services=services)
    harness.api.usergroups[GROUP] = [GROUPIE]
    setup = Setup(harness, escalations, metrics)
    setup.hooked = hooked
    return setup


async def answered(harness: SlackHarness, question: str = "Should we fine-tune?") -> str:
    """Ask in a channel; the thread's ts once the answer is finished."""
    event = mention(question)
    count = len(harness.api.calls_to("chat.stopStream"))
    await harness.post_event(event)
    await harness.api.wait_for("chat.stopStream", count=count + 1)
    return str(event["ts"])


def footer_actions(harness: SlackHarness) -> list[dict[str, Any]]:
    stop = harness.api.calls_to("chat.stopStream")[-1]
    actions = next(b for b in stop.params["blocks"] if b["type"] == "actions")
    return list(actions["elements"])


async def press_ask_expert(harness: SlackHarness, thread_ts: str, user: str = USER) -> None:
    button = next(a for a in footer_actions(harness) if a["action_id"] == ESCALATE_ACTION)
    payload = click_payload(
        ESCALATE_ACTION, button["value"], message_ts=thread_ts, thread_ts=thread_ts, user=user
    )
    assert await harness.post_interaction(payload) == 200


async def press_resolve(setup: Setup, escalation: Escalation, user: str) -> None:
    assert escalation.message_ts is not None
    payload = click_payload(
        RESOLVE_ACTION,
        escalation.escalation_id,
        message_ts=escalation.message_ts,
        thread_ts=escalation.thread_ts,
        user=user,
    )
    assert await setup.harness.post_interaction(payload) == 200


async def escalated(setup: Setup, thread_ts: str) -> Escalation:
    await setup.harness.api.wait_until(lambda: bool(setup.escalation_posts()))
    await setup.harness.api.settle()
    escalation = await setup.store.open_in("T0001", CHANNEL, thread_ts)
    assert escalation is not None
    return escalation


def live_tokens(call: Call) -> set[str]:
    """Every Slack token that would ping or link in a posted message (text and blocks)."""
    shown = str(call.params.get("text") or "") + json.dumps(call.params.get("blocks") or [])
    return set(re.findall(r"<[@!#][^>]*>", shown))


async def test_the_button_hands_the_thread_to_the_experts(
    make_harness: MakeHarness, redis_client: Redis
) -> None:
    setup = await open_setup(make_harness, redis_client)
    thread_ts = await answered(setup.harness)
    await press_ask_expert(setup.harness, thread_ts)
    escalation = await escalated(setup, thread_ts)

    [post] = setup.escalation_posts()
    assert post.params["thread_ts"] == thread_ts
    assert live_tokens(post) == {f"<@{EXPERT}>", f"<!subteam^{GROUP}>", f"<@{USER}>"}
    shown = json.dumps(post.params["blocks"])
    assert "Should we fine-tune?" in shown  # the question
    assert "Prompt first, then add RAG" in shown  # what the answer said, without Markdown
    assert "When to fine-tune" in shown  # its sources
    [marker] = setup.harness.api.calls_to("reactions.add")
    assert (marker.params["name"], marker.params["timestamp"]) == (MARKER_REACTION, thread_ts)
    assert escalation.message_ts == post.response["ts"]
    button = next(a for a in footer_actions(setup.harness) if a["action_id"] == ESCALATE_ACTION)
    assert (escalation.source, escalation.asker_id, escalation.answer_id) == (
        "button",
        USER,
        button["value"],
    )
    assert escalation.summary.question == "Should we fine-tune?"
    assert [e.escalation_id for e in setup.hooked] == [escalation.escalation_id]
    assert setup.count("advisor_escalations_total", source="button") == 1


async def test_a_double_click_escalates_once(
    make_harness: MakeHarness, redis_client: Redis
) -> None:
    setup = await open_setup(make_harness, redis_client)
    thread_ts = await answered(setup.harness)
    await asyncio.gather(*(press_ask_expert(setup.harness, thread_ts) for _ in range(3)))
    await setup.harness.api.wait_until(lambda: len(setup.ephemerals()) == 2)
    await setup.harness.api.settle()
    assert len(setup.escalation_posts()) == 1
    assert setup.ephemerals() == [ALREADY_OPEN, ALREADY_OPEN]
    assert len(setup.harness.api.calls_to("reactions.add")) == 1
    assert setup.count("advisor_escalations_total", source="button") == 1
    assert len(setup.hooked) == 1


async def test_asking_for_a_human_in_the_thread_escalates_once_despite_retries(
    make_harness: MakeHarness, redis_client: Redis
) -> None:
    setup = await open_setup(make_harness, redis_client)
    thread_ts = await answered(setup.harness)
    ask = message_event("can a human look at this?", thread_ts=thread_ts)
    for retry in (None, 1):
        await setup.harness.post_event(ask, event_id="EvHUMAN", retry_num=retry)
    escalation = await escalated(setup, thread_ts)
    assert len(setup.escalation_posts()) == 1
    assert escalation.source == "message"
    assert setup.harness.responder_questions() == ["Should we fine-tune?"]  # not answered
    assert setup.count("advisor_escalations_total", source="message") == 1


async def test_mentioning_the_bot_with_expert_escalates(
    make_harness: MakeHarness, redis_client: Redis
) -> None:
    setup = await open_setup(make_harness, redis_client)
    thread_ts = await answered(setup.harness)
    await setup.harness.post_event(mention("expert", thread_ts=thread_ts))
    escalation = await escalated(setup, thread_ts)
    assert escalation.requested_by == USER


async def test_follow_ups_wait_for_the_experts_until_the_bot_is_mentioned(
    make_harness: MakeHarness, redis_client: Redis
) -> None:
    setup = await open_setup(make_harness, redis_client)
    harness = setup.harness
    thread_ts = await answered(harness)
    await press_ask_expert(harness, thread_ts)
    await escalated(setup, thread_ts)

    await harness.post_event(message_event("And what about RAG?", thread_ts=thread_ts))
    await harness.post_event(message_event("I'd use LoRA", thread_ts=thread_ts, user=EXPERT))
    await harness.api.settle()
    assert harness.responder_questions() == ["Should we fine-tune?"]

    await harness.post_event(mention("What about RAG, then?", thread_ts=thread_ts))
    await harness.api.wait_for("chat.stopStream", count=2)
    assert harness.responder_questions() == ["Should we fine-tune?", "What about RAG, then?"]
    # A mention is answered once; the thread stays with the experts.
    assert await setup.store.is_open("T0001", CHANNEL, thread_ts)


async def test_an_expert_resolves_and_the_thread_replies_are_kept(
    make_harness: MakeHarness, redis_client: Redis
) -> None:
    setup = await open_setup(make_harness, redis_client)
    harness = setup.harness
    thread_ts = await answered(harness)
    await press_ask_expert(harness, thread_ts)
    escalation = await escalated(setup, thread_ts)
    harness.api.add_reply(CHANNEL, thread_ts, EXPERT, "Start with a prompt; 50 posts is few.")
    harness.api.add_reply(CHANNEL, thread_ts, USER, "Thanks!")

    await press_resolve(setup, escalation, EXPERT)
    await harness.api.wait_until(lambda: bool(harness.api.calls_to("reactions.add")[1:]), within=5)
    await harness.api.settle()

    stored = await setup.store.get(escalation.escalation_id)
    assert stored is not None and stored.status == "resolved" and stored.resolution is not None
    assert (stored.resolution.resolved_by, stored.resolution.role) == (EXPERT, "expert")
    replies = [(r.user_id, r.text, r.from_expert) for r in stored.resolution.replies]
    assert replies == [
        (EXPERT, "Start with a prompt; 50 posts is few.", True),
        (USER, "Thanks!", False),
    ]
    [edit] = harness.api.calls_to("chat.update")
    assert edit.params["ts"] == escalation.message_ts
    assert "actions" not in json.dumps(edit.params["blocks"])  # no button any more
    assert f"<!subteam^{GROUP}>" not in json.dumps(edit.params)  # nobody pinged again
    [removed] = harness.api.calls_to("reactions.remove")
    assert removed.params["name"] == MARKER_REACTION
    assert harness.api.calls_to("reactions.add")[-1].params["name"] == RESOLVED_REACTION
    assert setup.count("advisor_escalations_resolved_total", role="expert") == 1

    # The thread is the bot's again.
    await harness.post_event(message_event("So, prompting first?", thread_ts=thread_ts))
    await harness.api.wait_for("chat.stopStream", count=2)
    assert harness.responder_questions()[-1] == "So, prompting first?"


async def test_a_member_of_the_experts_group_can_resolve(
    make_harness: MakeHarness, redis_client: Redis
) -> None:
    setup = await open_setup(make_harness, redis_client)
    thread_ts = await answered(setup.harness)
    await press_ask_expert(setup.harness, thread_ts)
    escalation = await escalated(setup, thread_ts)
    await press_resolve(setup, escalation, OTHER)  # refused: reads the group
    await setup.harness.api.wait_for("chat.postEphemeral")
    await press_resolve(setup, escalation, GROUPIE)
    await setup.harness.api.wait_for("chat.update")
    stored = await setup.store.get(escalation.escalation_id)
    assert stored is not None and stored.resolution is not None
    assert (stored.resolution.resolved_by, stored.resolution.role) == (GROUPIE, "expert")
    # Two look-ups of the group, one call to Slack: the members are cached.
    assert len(setup.harness.api.calls_to("usergroups.users.list")) == 1


async def test_the_asker_can_resolve(make_harness: MakeHarness, redis_client: Redis) -> None:
    setup = await open_setup(make_harness, redis_client)
    thread_ts = await answered(setup.harness)
    await press_ask_expert(setup.harness, thread_ts)
    escalation = await escalated(setup, thread_ts)
    await press_resolve(setup, escalation, USER)
    await setup.harness.api.wait_for("chat.update")
    stored = await setup.store.get(escalation.escalation_id)
    assert stored is not None and stored.resolution is not None
    assert stored.resolution.role == "asker"
    assert setup.count("advisor_escalations_resolved_total", role="asker") == 1


async def test_anyone_else_is_refused_and_a_second_click_changes_nothing(
    make_harness: MakeHarness, redis_client: Redis
) -> None:
    setup = await open_setup(make_harness, redis_client)
    harness = setup.harness
    thread_ts = await answered(harness)
    await press_ask_expert(harness, thread_ts)
    escalation = await escalated(setup, thread_ts)

    await press_resolve(setup, escalation, OTHER)
    [refusal] = await harness.api.wait_for("chat.postEphemeral")
    assert refusal.params["user"] == OTHER
    assert "Only the experts or the person who asked" in refusal.params["text"]
    assert await setup.store.is_open("T0001", CHANNEL, thread_ts)
    assert harness.api.calls_to("chat.update") == []

    await asyncio.gather(
        press_resolve(setup, escalation, EXPERT), press_resolve(setup, escalation, EXPERT)
    )
    await harness.api.wait_for("chat.postEphemeral", count=2)
    await harness.api.settle()
    assert len(harness.api.calls_to("chat.update")) == 1
    assert setup.count("advisor_escalations_resolved_total", role="expert") == 1


async def test_user_text_in_the_summary_cannot_ping_anyone(
    make_harness: MakeHarness, redis_client: Redis
) -> None:
    hostile = (
        "<!channel> <!here|here> @everyone <@U0VICTIM> <!subteam^S0ALL|@all> "
        "<https://evil.example|click> should we fine-tune?"
    )
    responder = ScriptedResponder(answer="Ping <!everyone> and <@U0VICTIM> now [1].")
    setup = await open_setup(make_harness, redis_client, responder=responder)
    thread_ts = await answered(setup.harness, hostile)
    await press_ask_expert(setup.harness, thread_ts)
    await escalated(setup, thread_ts)
    [post] = setup.escalation_posts()
    # Only the bot's own mentions are live: the experts, and the asker by id.
    assert live_tokens(post) == {f"<@{EXPERT}>", f"<!subteam^{GROUP}>", f"<@{USER}>"}
    shown = json.dumps(post.params, ensure_ascii=False)
    assert "should we fine-tune?" in shown and "U0VICTIM" in shown  # shown, as inert text
    assert "@everyone" not in shown  # the plain broadcast word is broken with a joiner


async def test_escalations_are_listed_in_the_experts_channel(
    make_harness: MakeHarness, redis_client: Redis
) -> None:
    setup = await open_setup(make_harness, redis_client, listing=LISTING)
    harness = setup.harness
    thread_ts = await answered(harness)
    await press_ask_expert(harness, thread_ts)
    escalation = await escalated(setup, thread_ts)
    [listed] = [
        c for c in harness.api.calls_to("chat.postMessage") if c.params["channel"] == LISTING
    ]
    assert "archives/" in json.dumps(listed.params["blocks"])  # the permalink to the thread
    assert not {t for t in live_tokens(listed) if t.startswith(("<@U0EXPERT", "<!subteam"))}
    assert escalation.listing_ts == listed.response["ts"]

    await press_resolve(setup, escalation, EXPERT)
    await harness.api.wait_for("chat.update", count=2)
    edited = {c.params["channel"] for c in harness.api.calls_to("chat.update")}
    assert edited == {CHANNEL, LISTING}


async def test_no_experts_no_button_and_the_help_says_how_to_add_them(
    harness: SlackHarness,
) -> None:
    thread_ts = await answered(harness)
    assert ESCALATE_ACTION not in [a["action_id"] for a in footer_actions(harness)]
    await harness.post_event(mention("expert", thread_ts=thread_ts))
    [note] = await harness.api.wait_for("chat.postEphemeral")
    assert note.params["text"] == NO_EXPERTS
    assert "ADVISOR_EXPERT_USER_IDS" in NO_EXPERTS and "ADVISOR_EXPERT_GROUP_ID" in NO_EXPERTS
    status, body = await harness.post_command(command_fields("/finetune-check", "help"))
    assert status == 200 and "ADVISOR_EXPERT_USER_IDS" in body
    assert harness.responder_questions() == ["Should we fine-tune?"]


async def test_with_experts_the_help_names_the_button(
    make_harness: MakeHarness, redis_client: Redis
) -> None:
    setup = await open_setup(make_harness, redis_client)
    status, body = await setup.harness.post_command(command_fields("/finetune-check", "help"))
    assert status == 200 and "Ask an expert" in body and "ADVISOR_EXPERT_USER_IDS" not in body


async def test_a_dm_is_not_escalated(make_harness: MakeHarness, redis_client: Redis) -> None:
    setup = await open_setup(make_harness, redis_client)
    harness = setup.harness
    dm = message_event("Should we fine-tune?", channel="D0DM", channel_type="im")
    await harness.post_event(dm)
    await harness.api.wait_for("chat.stopStream")
    assert ESCALATE_ACTION not in [a["action_id"] for a in footer_actions(harness)]
    ask = message_event(
        f"<@{BOT_USER_ID}> expert", channel="D0DM", channel_type="im", thread_ts=dm["ts"]
    )
    await harness.post_event(ask)
    [note] = await harness.api.wait_for("chat.postEphemeral")
    assert note.params["text"] == NOT_IN_DM
    assert setup.escalation_posts() == []
    assert await setup.store.recent() == []
