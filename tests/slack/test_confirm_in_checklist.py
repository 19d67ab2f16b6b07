""" "Confirm in the checklist" under an answer with a verdict, through the real Bolt app: the
button is offered only with a verdict; a click starts the checklist in the answer's thread with
the answers read from the thread's messages filled in and marked; they come from conversation
memory, never from the button's value; expired facts give a blank checklist that says so; the
decision record names the answers that were read rather than clicked."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.answer import Advisor
from bot.checklist.assessment import Fact, assess
from bot.checklist.history import DecisionHistory
from bot.checklist.loader import load_from_knowledge_dir
from bot.checklist.state import ChecklistStore
from bot.deps import Deps
from bot.memory.conversation import ConversationMemory, conversation_key
from bot.memory.threads import ThreadMarks
from bot.slack import checklist_blocks as ui
from bot.slack import checklist_flow as flow
from bot.slack.blocks import CHECKLIST_CONFIRM, CHECKLIST_START
from bot.slack.checklist_services import ChecklistServices
from bot.slack.wiring import assemble_services
from tests.support.scripted import ScriptedResponder
from tests.support.slack_api import BOT_USER_ID, TEAM_ID, Call
from tests.support.slack_fixtures import MakeHarness
from tests.support.slack_harness import SlackHarness, streamed_text
from tests.support.slack_requests import CHANNEL, USER, click_payload, message_event

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
DEFINITION = load_from_knowledge_dir(KNOWLEDGE)
DM = "D0DM"
# What the reader takes from "Marketing wants every answer in our brand voice. We have about 50
# example posts." (tests/checklist covers the reading itself).
READ = (
    Fact(question_id="failure_type", option_id="behaviour", evidence="in our brand voice"),
    Fact(question_id="examples", option_id="tens", evidence="about 50 example posts"),
)
VERDICT = assess(DEFINITION, READ)
Blocks = list[dict[str, Any]]


def memory_for(redis: Redis) -> ConversationMemory:
    return ConversationMemory(redis, ttl_seconds=3600, max_turns=12, max_tokens=3000)


def checklist_for(redis: Redis, memory: ConversationMemory | None) -> ChecklistServices:
    async def index_version() -> str | None:
        return "idx-test"

    return ChecklistServices(
        definition=DEFINITION,
        store=ChecklistStore(redis),
        history=DecisionHistory(redis),
        memory=memory,
        threads=ThreadMarks(redis, 3600),
        index_version=index_version,
    )


def buttons(blocks: Blocks) -> Blocks:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def button(blocks: Blocks, action_id: str) -> dict[str, Any]:
    return next(e for e in buttons(blocks) if e["action_id"] == action_id)


def option(blocks: Blocks, option_id: str | None = None) -> dict[str, Any]:
    """The button for `option_id` in the current question (its first option if None)."""
    options = [e for e in buttons(blocks) if e["action_id"].startswith(ui.ANSWER_PREFIX)]
    return next((e for e in options if json.loads(e["value"])["o"] == option_id), options[0])


def current_question(blocks: Blocks) -> str:
    return str(json.loads(option(blocks)["value"])["q"])


def shown(blocks: Blocks) -> str:
    return json.dumps(blocks, ensure_ascii=False)


@dataclass
class Rig:
    harness: SlackHarness
    memory: ConversationMemory

    async def answer(self, channel: str = CHANNEL) -> tuple[str, Blocks]:
        """A question answered in its own thread: the thread, and the answer's blocks."""
        if channel == CHANNEL:
            event = message_event(f"<@{BOT_USER_ID}> brand voice?", kind="app_mention")
        else:
            event = message_event("brand voice?", channel=channel, channel_type="im")
        done = len(self.harness.api.calls_to("chat.stopStream"))
        assert await self.harness.post_event(event) == 200
        calls = await self.harness.api.wait_for("chat.stopStream", done + 1)
        assert calls[-1].params["channel"] == channel
        return str(event["ts"]), list(calls[-1].params["blocks"])

    async def remember(
        self, thread_ts: str, facts: tuple[Fact, ...], channel: str = CHANNEL
    ) -> None:
        """What the answer use case stores beside the thread's turns (bot/answer.py)."""
        key = conversation_key(TEAM_ID, channel, thread_ts)
        assert await self.memory.append(key, facts=facts)

    async def confirm(self, value: str, thread_ts: str, channel: str = CHANNEL) -> Call:
        """Press "Confirm in the checklist" (with `value`) under the last answer; the checklist
        message it posts."""
        api = self.harness.api
        done = len(api.calls_to("chat.postMessage"))
        message_ts = str(api.calls_to("chat.startStream")[-1].response["ts"])
        payload = click_payload(
            CHECKLIST_CONFIRM, value, message_ts=message_ts, thread_ts=thread_ts, channel=channel
        )
        assert await self.harness.post_interaction(payload) == 200
        return (await api.wait_for("chat.postMessage", done + 1))[-1]

    async def press(
        self, posted: Call, element: dict[str, Any], thread_ts: str, channel: str = CHANNEL
    ) -> Blocks:
        """Press a button on the checklist message `posted`; the message's blocks afterwards."""
        api = self.harness.api
        done = len(api.calls_to("chat.update"))
        message_ts = str(posted.response["ts"])
        payload = click_payload(
            element["action_id"],
            element["value"],
            message_ts=message_ts,
            thread_ts=thread_ts,
            channel=channel,
        )
        assert await self.harness.post_interaction(payload) == 200
        update = (await api.wait_for("chat.update", done + 1))[-1]
        assert update.params["ts"] == message_ts
        return list(update.params["blocks"])

    async def answers(self, thread_ts: str, channel: str = CHANNEL) -> list[tuple[Any, ...]]:
        session = await ChecklistStore(self.harness.redis).load(TEAM_ID, channel, thread_ts)
        assert session is not None
        return [(a.question_id, a.option_id, a.inferred_from) for a in session.answers]


async def make_rig(
    make_harness: MakeHarness,
    redis: Redis,
    responder: ScriptedResponder,
    *,
    checklist: bool = True,
) -> Rig:
    memory = memory_for(redis)
    services = checklist_for(redis, memory) if checklist else None
    harness = await make_harness(responder, memory=memory, checklist=services)
    return Rig(harness, memory)


@pytest.fixture
async def rig(redis_client: Redis, make_harness: MakeHarness) -> Rig:
    """The real checklist on the test's Redis; answers carry the brand-voice verdict."""
    return await make_rig(make_harness, redis_client, ScriptedResponder(assessment=VERDICT))


async def test_only_an_answer_with_a_verdict_offers_confirm(
    rig: Rig, redis_client: Redis, make_harness: MakeHarness
) -> None:
    _, actions = await rig.answer()
    confirm = button(actions, CHECKLIST_CONFIRM)
    assert confirm["text"]["text"] == "Confirm in the checklist"
    assert CHECKLIST_START not in [a["action_id"] for a in buttons(actions)]
    # No verdict (the question described no situation): the plain checklist button only.
    plain = await make_rig(make_harness, redis_client, ScriptedResponder())
    _, actions = await plain.answer()
    ids = [a["action_id"] for a in buttons(actions)]
    assert CHECKLIST_START in ids and CHECKLIST_CONFIRM not in ids
    # A verdict, but no checklist in this workspace: no checklist button at all.
    off = await make_rig(
        make_harness, redis_client, ScriptedResponder(assessment=VERDICT), checklist=False
    )
    _, actions = await off.answer()
    assert [a["action_id"] for a in buttons(actions)] == [
        "feedback_helpful",
        "feedback_not_helpful",
    ]


async def test_confirm_starts_the_checklist_with_the_read_answers_marked(rig: Rig) -> None:
    thread, actions = await rig.answer()
    await rig.remember(thread, READ)
    posted = await rig.confirm(button(actions, CHECKLIST_CONFIRM)["value"], thread)
    assert (posted.params["channel"], posted.params["thread_ts"]) == (CHANNEL, thread)
    blocks = posted.params["blocks"]
    # failure_type was read; reasoning_gap was not said, so it is the question shown.
    assert current_question(blocks) == "reasoning_gap"
    assert "Question 2 of" in shown(blocks)
    assert "— _read from the message_ (“in our brand voice”)" in shown(blocks)
    assert ui.READ_NOTE in shown(blocks)
    assert flow.FACTS_GONE not in shown(blocks)
    assert await rig.answers(thread) == [("failure_type", "behaviour", "in our brand voice")]
    # Answering the next two reaches `examples`, which was read too, so it is not asked.
    blocks = await rig.press(posted, option(blocks, "no"), thread)
    blocks = await rig.press(posted, option(blocks, "stable"), thread)
    assert current_question(blocks) == "label_quality"
    assert "*Tens* — _read from the message_ (“about 50 example posts”)" in shown(blocks)
    # A read answer can be changed: Back until it is asked, then answer it differently.
    blocks = await rig.press(posted, button(blocks, ui.BACK), thread)
    assert current_question(blocks) == "examples"
    blocks = await rig.press(posted, option(blocks, "hundreds"), thread)
    answers = await rig.answers(thread)
    assert answers[0] == ("failure_type", "behaviour", "in our brand voice")
    assert answers[-1] == ("examples", "hundreds", None)
    assert "about 50 example posts" not in shown(blocks)


@pytest.mark.parametrize(
    "forged",
    [
        json.dumps([{"question_id": "failure_type", "option_id": "knowledge", "evidence": "x"}]),
        '{"facts": [{"question_id": "stakes", "option_id": "regulated"}], "thread_ts": "1.1"}',
        "",
    ],
)
async def test_a_forged_value_adds_no_facts(rig: Rig, forged: str) -> None:
    thread, _ = await rig.answer()
    await rig.remember(thread, READ)
    posted = await rig.confirm(forged, thread)
    # The facts are those this thread's messages gave, whatever the button said.
    assert await rig.answers(thread) == [("failure_type", "behaviour", "in our brand voice")]
    assert "regulated" not in shown(posted.params["blocks"]).casefold()
    # A thread with no facts stays blank, forged value or not.
    other, _ = await rig.answer()
    posted = await rig.confirm(forged, other)
    assert await rig.answers(other) == []
    assert posted.params["thread_ts"] == other


async def test_expired_facts_start_a_blank_checklist_that_says_so(rig: Rig) -> None:
    thread, actions = await rig.answer()
    await rig.remember(thread, READ)
    await rig.memory.clear(conversation_key(TEAM_ID, CHANNEL, thread))  # what the TTL does
    posted = await rig.confirm(button(actions, CHECKLIST_CONFIRM)["value"], thread)
    blocks = posted.params["blocks"]
    assert flow.FACTS_GONE in shown(blocks)
    assert posted.params["text"].startswith(flow.FACTS_GONE)
    assert current_question(blocks) == "failure_type"
    assert "Question 1 of" in shown(blocks)
    assert await rig.answers(thread) == []


async def test_confirm_works_in_a_dm(rig: Rig) -> None:
    thread, actions = await rig.answer(DM)
    await rig.remember(thread, READ, channel=DM)
    posted = await rig.confirm(button(actions, CHECKLIST_CONFIRM)["value"], thread, channel=DM)
    assert (posted.params["channel"], posted.params["thread_ts"]) == (DM, thread)
    assert current_question(posted.params["blocks"]) == "reasoning_gap"
    assert await rig.answers(thread, channel=DM) == [
        ("failure_type", "behaviour", "in our brand voice")
    ]


async def test_confirm_on_an_unfinished_checklist_fills_in_newer_facts(rig: Rig) -> None:
    thread, actions = await rig.answer()
    await rig.remember(thread, READ[:1])
    value = button(actions, CHECKLIST_CONFIRM)["value"]
    posted = await rig.confirm(value, thread)
    blocks = await rig.press(posted, option(posted.params["blocks"], "no"), thread)
    # A follow-up said how many examples there are; the same button again picks that up.
    await rig.remember(thread, READ)
    again = await rig.confirm(value, thread)
    assert again.params["text"].startswith(flow.RESUMED)
    assert await rig.answers(thread) == [
        ("failure_type", "behaviour", "in our brand voice"),
        ("reasoning_gap", "no", None),
    ]
    blocks = await rig.press(again, option(again.params["blocks"], "stable"), thread)
    assert current_question(blocks) == "label_quality"  # `examples` came from the follow-up


async def test_the_decision_record_names_the_answers_read_from_the_message(rig: Rig) -> None:
    thread, actions = await rig.answer()
    await rig.remember(thread, READ)
    posted = await rig.confirm(button(actions, CHECKLIST_CONFIRM)["value"], thread)
    blocks = posted.params["blocks"]
    while "Recommendation:" not in shown(blocks):
        blocks = await rig.press(posted, option(blocks), thread)
    assert "— _read from the message_ (“about 50 example posts”)" in shown(blocks)
    api = rig.harness.api
    payload = click_payload(
        ui.EXPORT,
        button(blocks, ui.EXPORT)["value"],
        message_ts=str(posted.response["ts"]),
        thread_ts=thread,
    )
    assert await rig.harness.post_interaction(payload) == 200
    await api.wait_for("files.completeUploadExternal")
    [record] = [content.decode() for content in api.uploads.values()]
    assert "| *read from the message*: “in our brand voice” |" in record
    assert "| *read from the message*: “about 50 example posts” |" in record
    # The people who answered are named for the rest; nobody is credited with a read answer.
    await api.settle(quiet=0.05)
    [decision] = await DecisionHistory(rig.harness.redis).recent(TEAM_ID, CHANNEL)
    assert decision.user_ids == (USER,)


@pytest.mark.slow
async def test_a_described_situation_gets_a_verdict_then_a_prefilled_checklist(
    knowledge_deps: Deps, make_harness: MakeHarness
) -> None:
    """The whole path on the real engine: the mention is read, the verdict leads the answer,
    the facts go to the thread's memory, and the button fills them in."""
    deps = knowledge_deps
    assert deps.redis is not None and deps.feedback is not None and deps.memory is not None
    advisor = Advisor(
        deps.retriever, None, deps.memory, deps.verdicts, min_score=0.0, max_question_chars=2000
    )
    services = assemble_services(
        responder=advisor,
        redis=deps.redis,
        feedback=deps.feedback,
        memory=deps.memory,
        checklist=checklist_for(deps.redis, deps.memory),
    )
    rig = Rig(await make_harness(services=services), deps.memory)
    situation = "Marketing wants every answer in our brand voice. We have about 50 example posts."
    event = message_event(f"<@{BOT_USER_ID}> {situation}", kind="app_mention")
    assert await rig.harness.post_event(event) == 200
    [stop] = await rig.harness.api.wait_for("chat.stopStream", within=60)
    thread = str(event["ts"])
    text = streamed_text(rig.harness.api)
    assert text.startswith("**Recommendation: ")
    confirm = button(stop.params["blocks"], CHECKLIST_CONFIRM)
    read = (await deps.memory.load(conversation_key(TEAM_ID, CHANNEL, thread))).facts
    assert {(f.question_id, f.option_id) for f in read} >= {
        ("failure_type", "behaviour"),
        ("examples", "tens"),
    }
    posted = await rig.confirm(confirm["value"], thread)
    assert posted.params["thread_ts"] == thread
    answers = await rig.answers(thread)
    assert answers and all(evidence for _, _, evidence in answers)
    assert answers[0][:2] == ("failure_type", "behaviour")
    for _, _, evidence in answers:
        assert f"_read from the message_ (“{evidence}”)" in shown(posted.params["blocks"])
        assert evidence in situation
