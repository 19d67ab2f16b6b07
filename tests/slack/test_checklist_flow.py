"""The decision checklist through the real Bolt app: slash command, signed button clicks, a bot
restart, two people in one thread, tampered values, share, export and history."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.checklist.definition import ChecklistError
from bot.checklist.engine import Session
from bot.checklist.history import DecisionHistory
from bot.checklist.loader import load_from_knowledge_dir
from bot.checklist.state import ChecklistStore
from bot.memory.conversation import ConversationMemory, conversation_key
from bot.memory.threads import ThreadMarks
from bot.slack import checklist_blocks as ui
from bot.slack import checklist_flow as flow
from bot.slack.checklist_services import ChecklistServices
from tests.support.slack_api import TEAM_ID, MockSlackApi
from tests.support.slack_fixtures import MakeHarness
from tests.support.slack_harness import SlackHarness, scripted_services
from tests.support.slack_requests import CHANNEL, USER, message_event

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
DEFINITION = load_from_knowledge_dir(KNOWLEDGE)  # once: parsing it is the slow part of a setup
OTHER = "U0OTHER"
# A knowledge problem with facts that change monthly: Prompting + RAG (see tests/checklist).
RAG_ANSWERS = {
    "failure_type": "knowledge",
    "knowledge_change": "monthly",
    "reasoning_gap": "no",
    "task_stability": "stable",
    "examples": "none",
    "prompting_tried": "not_measured",
    "rag_tried": "not_tried",
    "eval_set": "none",
    "output_structure": "free_text",
    "volume_pressure": "low",
    "stakes": "moderate",
    "team_capacity": "managed",
}


@dataclass
class Checklist:
    """One running app plus what the tests read: the thread and the checklist message in it."""

    harness: SlackHarness
    memory: ConversationMemory
    thread_ts: str = ""
    message_ts: str = ""

    @property
    def api(self) -> MockSlackApi:
        return self.harness.api

    async def command(self, text: str = "", user: str = USER) -> tuple[int, str]:
        return await self.harness.post_command(
            {
                "command": "/finetune-check",
                "text": text,
                "team_id": TEAM_ID,
                "channel_id": CHANNEL,
                "channel_name": "general",
                "user_id": user,
                "trigger_id": "t",
                "response_url": "http://127.0.0.1:9/unused",
            }
        )

    async def start(self) -> None:
        status, _ = await self.command()
        assert status == 200
        root, posted = await self.api.wait_for("chat.postMessage", 2)
        assert "thread_ts" not in root.params
        self.thread_ts = str(root.response["ts"])
        assert posted.params["thread_ts"] == self.thread_ts
        self.message_ts = str(posted.response["ts"])

    def blocks(self) -> list[dict[str, Any]]:
        """The checklist message as Slack shows it now: its last post or update."""
        shown = [
            c
            for c in self.api.ok_calls()
            if (c.method == "chat.update" and c.params.get("ts") == self.message_ts)
            or (c.method == "chat.postMessage" and c.response.get("ts") == self.message_ts)
        ]
        return list(shown[-1].params["blocks"])

    def text(self) -> str:
        return json.dumps(self.blocks(), ensure_ascii=False)

    def button(self, action_id: str) -> dict[str, Any]:
        elements = [e for b in self.blocks() if b["type"] == "actions" for e in b["elements"]]
        return next(e for e in elements if e["action_id"] == action_id)

    def option(self, option_id: str | None = None) -> dict[str, Any]:
        """The button for `option_id` in the current question (the answer set's choice if None)."""
        elements = [e for b in self.blocks() if b["type"] == "actions" for e in b["elements"]]
        options = [e for e in elements if e["action_id"].startswith(ui.ANSWER_PREFIX)]
        question = json.loads(options[0]["value"])["q"]
        wanted = option_id or RAG_ANSWERS.get(question)
        return next((e for e in options if json.loads(e["value"])["o"] == wanted), options[0])

    async def click(
        self,
        element: dict[str, Any],
        user: str = USER,
        value: str | None = None,
        until: str = "chat.update",
    ) -> None:
        """Click (optionally with a forged value) and wait for the call that ends its handling."""
        done = len(self.api.calls_to(until))
        raw = element["value"] if value is None else value
        action = {"action_id": element["action_id"], "value": raw, "type": "button"}
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM_ID},
            "user": {"id": user},
            "api_app_id": "A0APP",
            "trigger_id": "trig",
            "channel": {"id": CHANNEL},
            "container": {"type": "message", "channel_id": CHANNEL, "message_ts": self.message_ts},
            "message": {"ts": self.message_ts, "thread_ts": self.thread_ts},
            "actions": [{**action, "block_id": "b", "action_ts": "1"}],
        }
        assert await self.harness.post_interaction(payload) == 200
        await self.api.wait_for(until, done + 1)

    async def answer_all(self, user: str = USER) -> None:
        while "Recommendation:" not in self.text():
            await self.click(self.option(), user)
        await self.api.settle(quiet=0.05)  # memory and history are written after the update

    def ephemerals(self) -> list[str]:
        return [str(c.params["text"]) for c in self.api.calls_to("chat.postEphemeral")]

    async def session(self) -> Session | None:
        return await self.store.load(TEAM_ID, CHANNEL, self.thread_ts)

    @property
    def store(self) -> ChecklistStore:
        return ChecklistStore(self.harness.redis)


MakeChecklist = Callable[..., Awaitable[Checklist]]


@pytest.fixture
async def make_checklist(redis_client: Redis, make_harness: MakeHarness) -> MakeChecklist:
    """A fresh app (and mock Slack) on the shared Redis; call twice to simulate a bot restart."""

    async def index_version() -> str | None:
        return "idx-test"

    async def make() -> Checklist:
        memory = ConversationMemory(redis_client, ttl_seconds=3600, max_turns=12, max_tokens=3000)
        checklist = ChecklistServices(
            definition=DEFINITION,
            store=ChecklistStore(redis_client),
            history=DecisionHistory(redis_client),
            memory=memory,
            threads=ThreadMarks(redis_client, 3600),
            index_version=index_version,
        )
        return Checklist(await make_harness(checklist=checklist), memory)

    return make


@pytest.fixture
async def checklist(make_checklist: MakeChecklist) -> Checklist:
    started = await make_checklist()
    await started.start()
    return started


async def test_services_are_built_from_the_knowledge_folder(
    redis_client: Redis, tmp_path: Path
) -> None:
    async def no_version() -> str | None:
        return None

    threads = ThreadMarks(redis_client, 3600)
    built = flow.build_checklist_services(redis_client, KNOWLEDGE, 3, None, threads, no_version)
    assert built.definition == DEFINITION
    services = scripted_services(redis_client, checklist=built)
    assert services.start_checklist is not None  # so answers offer the checklist button
    with pytest.raises(ChecklistError, match="cannot read checklist"):
        flow.build_checklist_services(redis_client, tmp_path, 3, None, threads, no_version)


async def test_slash_command_runs_the_checklist_to_a_result(checklist: Checklist) -> None:
    assert "Question 1 of" in checklist.text()
    assert "Why we ask:" in checklist.text()
    await checklist.answer_all()
    shown = checklist.text()
    assert "Recommendation: Prompting + RAG" in shown
    for part in ("*Why*", "*Next steps*", "*What would change it*", ".md`"):
        assert part in shown
    assert {ui.SHARE, ui.EXPORT} <= {
        checklist.button(a)["action_id"] for a in (ui.SHARE, ui.EXPORT)
    }
    # Everything happened in one message, updated in place.
    assert len(checklist.api.calls_to("chat.postMessage")) == 2
    marks = ThreadMarks(checklist.harness.redis, 3600)
    assert await marks.is_marked(TEAM_ID, CHANNEL, checklist.thread_ts)
    # Follow-ups in the thread see the result in memory.
    key = conversation_key(TEAM_ID, CHANNEL, checklist.thread_ts)
    [turn] = (await checklist.memory.load(key)).turns
    assert turn.role == "assistant"
    assert turn.content.startswith("Decision checklist result: Prompting + RAG.")
    follow_up = message_event("Why not fine-tune?", thread_ts=checklist.thread_ts)
    await checklist.harness.post_event(follow_up)
    await checklist.api.wait_for("chat.stopStream")
    assert checklist.harness.responder.questions[-1].conversation_key == key
    [decision] = await DecisionHistory(checklist.harness.redis).recent(TEAM_ID, CHANNEL)
    assert (decision.label, decision.user_ids) == ("Prompting + RAG", (USER,))
    assert decision.permalink == (
        f"https://example.slack.com/archives/{CHANNEL}/p{checklist.message_ts.replace('.', '')}"
    )


async def test_two_people_answer_and_a_double_click_applies_once(checklist: Checklist) -> None:
    first = checklist.option("knowledge")
    await checklist.click(first, USER)
    await checklist.click(checklist.option("monthly"), OTHER)
    # OTHER clicks the first question's (now stale) button too.
    await checklist.click(checklist.option("both") | {"value": first["value"]}, OTHER)
    shown = checklist.text()
    assert f"*Knowledge: missing, wrong or outdated facts* — <@{USER}>" in shown
    assert f"*Monthly or quarterly* — <@{OTHER}>" in shown
    assert "Question 3 of" in shown
    assert checklist.ephemerals() == [flow.STALE]
    session = await checklist.session()
    assert session is not None
    assert [(a.option_id, a.user_id) for a in session.answers] == [
        ("knowledge", USER),
        ("monthly", OTHER),
    ]


async def test_a_restarted_bot_continues_where_it_stopped(
    make_checklist: MakeChecklist, checklist: Checklist
) -> None:
    await checklist.click(checklist.option())
    await checklist.click(checklist.option())
    # A second app instance on the same Redis: the old message's buttons keep working.
    restarted = await make_checklist()
    restarted.thread_ts, restarted.message_ts = checklist.thread_ts, checklist.message_ts
    await restarted.click(checklist.option())
    update = restarted.api.calls_to("chat.update")[-1].params
    assert update["ts"] == checklist.message_ts
    assert "Question 4 of" in json.dumps(update["blocks"])
    session = await restarted.session()
    assert session is not None and len(session.answers) == 3


async def test_start_again_in_the_thread_resumes_an_unfinished_checklist(
    checklist: Checklist,
) -> None:
    await checklist.click(checklist.option())
    start = {"action_id": "checklist_start", "value": "a1b2c3"}
    await checklist.click(start, until="chat.postMessage")
    resumed = checklist.api.calls_to("chat.postMessage")[-1].params
    assert resumed["thread_ts"] == checklist.thread_ts
    assert resumed["text"].startswith(flow.RESUMED)
    assert "Question 2 of" in json.dumps(resumed["blocks"])


async def test_the_dm_prompt_starts_the_checklist_in_its_thread(
    make_checklist: MakeChecklist,
) -> None:
    dm = await make_checklist()
    prompt = message_event("Start the decision checklist", channel="D0DM", channel_type="im")
    await dm.harness.post_event(prompt)
    [posted] = await dm.api.wait_for("chat.postMessage")
    assert (posted.params["channel"], posted.params["thread_ts"]) == ("D0DM", prompt["ts"])
    assert "Question 1 of" in json.dumps(posted.params["blocks"])
    assert dm.harness.responder.questions == []


@pytest.mark.parametrize(
    ("value", "notice"),
    [
        ("{not json", flow.UNREADABLE),
        ('{"r": 0, "q": "failure_type", "o": "knowledge", "thread_ts": "9.9"}', flow.UNREADABLE),
        ('{"r": 0, "q": "stakes", "o": "low"}', "is not the current one"),
        ('{"r": 0, "q": "failure_type", "o": "telepathy"}', "unknown option id 'telepathy'"),
        ('{"r": 0, "q": "no_such_question", "o": "x"}', "unknown question id"),
        ('{"r": 0}', "does not name an answer"),
        ('{"r": 41, "q": "failure_type", "o": "knowledge"}', flow.STALE),
    ],
)
async def test_tampered_values_get_a_clear_note_and_change_nothing(
    checklist: Checklist, value: str, notice: str
) -> None:
    await checklist.click(checklist.option(), value=value)
    [said] = checklist.ephemerals()
    assert notice in said
    assert "Question 1 of" in checklist.text()  # the message was re-rendered, not broken
    session = await checklist.session()
    assert session is not None and (session.revision, session.answers) == (0, ())
    assert not [
        c for c in checklist.api.calls_to("chat.postMessage") if "error id" in str(c.params)
    ]


async def test_back_and_restart(checklist: Checklist) -> None:
    await checklist.click(checklist.option())
    await checklist.click(checklist.option())
    stale_back = checklist.button(ui.BACK)
    await checklist.click(stale_back)
    assert "Question 2 of" in checklist.text()
    await checklist.click(stale_back)  # the same Back again: stale, so only one answer undone
    assert checklist.ephemerals() == [flow.STALE]
    await checklist.click(checklist.button(ui.RESTART))
    assert "Question 1 of" in checklist.text()
    assert "Answered so far" not in checklist.text()
    session = await checklist.session()
    assert session is not None and session.answers == () and session.revision == 4


async def test_share_posts_a_summary_to_the_channel(checklist: Checklist) -> None:
    await checklist.answer_all()
    await checklist.click(checklist.button(ui.SHARE), OTHER, until="chat.postMessage")
    shared = checklist.api.calls_to("chat.postMessage")[-1].params
    assert "thread_ts" not in shared
    assert shared["text"].startswith("Decision checklist result: Prompting + RAG")
    text = json.dumps(shared["blocks"], ensure_ascii=False)
    assert f"Shared by <@{OTHER}>" in text
    assert "|See the full result>" in text


async def test_export_uploads_an_adr_file_in_the_thread(checklist: Checklist) -> None:
    await checklist.answer_all()
    await checklist.click(checklist.button(ui.EXPORT), until="files.completeUploadExternal")
    [complete] = checklist.api.calls_to("files.completeUploadExternal")
    assert (complete.params["channel_id"], complete.params["thread_ts"]) == (
        CHANNEL,
        checklist.thread_ts,
    )
    [record] = checklist.api.uploads.values()
    markdown = record.decode()
    assert markdown.startswith("# ADR: Prompting, RAG or fine-tuning - Prompting + RAG")
    for part in ("## Context", "## Answers", "## Decision", "## Consequences"):
        assert part in markdown
    assert "- Knowledge index version: idx-test" in markdown


async def test_export_falls_back_to_a_code_block_without_upload_rights(
    checklist: Checklist,
) -> None:
    await checklist.answer_all()
    checklist.api.fail("files.getUploadURLExternal", "missing_scope")
    await checklist.click(checklist.button(ui.EXPORT), until="chat.postMessage")
    posted = checklist.api.calls_to("chat.postMessage")[-1].params
    assert posted["thread_ts"] == checklist.thread_ts
    assert "```# ADR: Prompting, RAG or fine-tuning" in json.dumps(posted["blocks"])


async def test_result_buttons_after_a_restart_are_out_of_date(checklist: Checklist) -> None:
    await checklist.answer_all()
    share = checklist.button(ui.SHARE)
    await checklist.click(checklist.button(ui.RESTART))
    await checklist.click(share)
    assert checklist.ephemerals() == [flow.OUTDATED]
    assert "Question 1 of" in checklist.text()
    assert len(checklist.api.calls_to("chat.postMessage")) == 2  # nothing shared


async def test_a_click_on_an_expired_checklist_says_so(checklist: Checklist) -> None:
    await checklist.store.delete(TEAM_ID, CHANNEL, checklist.thread_ts)
    await checklist.click(checklist.option(), until="chat.postEphemeral")
    assert checklist.ephemerals() == [flow.EXPIRED]


async def test_history_help_and_questions(checklist: Checklist) -> None:
    status, body = await checklist.command("history")
    assert status == 200 and "No decisions recorded" in body
    await checklist.answer_all()
    _, body = await checklist.command("history")
    shown = json.dumps(json.loads(body)["blocks"], ensure_ascii=False)
    assert f"*Prompting + RAG* · by <@{USER}> · <https://example.slack.com/archives/" in shown
    _, usage = await checklist.command("help")
    assert "/finetune-check history" in usage
    await checklist.command("Should we fine-tune for tone?")
    await checklist.api.wait_for("chat.stopStream")
    assert checklist.harness.responder.questions[-1].text == "Should we fine-tune for tone?"


async def test_a_session_from_an_older_checklist_asks_for_a_restart(checklist: Checklist) -> None:
    old = Session(checklist_version="2019.1", revision=3)
    assert await checklist.store.save(
        TEAM_ID, CHANNEL, checklist.thread_ts, old, expected_revision=0
    )
    await checklist.click(checklist.option(), value=ui.encode_value(3, "failure_type", "knowledge"))
    [said] = checklist.ephemerals()
    assert "version '2019.1'" in said and "restart" in said
    await checklist.click(checklist.button(ui.RESTART))
    assert "Question 1 of" in checklist.text()
