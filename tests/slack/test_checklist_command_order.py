"""/finetune-check never announces a checklist before its state is saved (issue 14, item 6):
the root message is a neutral placeholder until the session is written and the first question
is in the thread; when Redis is down the placeholder is removed and only the apology remains."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from bot.checklist.history import DecisionHistory
from bot.checklist.loader import load_from_knowledge_dir
from bot.checklist.state import ChecklistStore
from bot.memory.embedded_redis import EmbeddedRedis
from bot.memory.threads import ThreadMarks
from bot.slack.checklist_services import ChecklistServices
from bot.slack.listeners.commands import CHECK_COMMAND
from tests.support.redis_fixtures import redis_stopped
from tests.support.slack_api import TEAM_ID
from tests.support.slack_fixtures import MakeHarness
from tests.support.slack_harness import SlackHarness
from tests.support.slack_requests import CHANNEL, USER, command_fields

DEFINITION = load_from_knowledge_dir(Path(__file__).resolve().parents[2] / "knowledge")


async def checklist_app(make_harness: MakeHarness, redis: Redis) -> SlackHarness:
    async def index_version() -> str | None:
        return None

    checklist = ChecklistServices(
        definition=DEFINITION,
        store=ChecklistStore(redis),
        history=DecisionHistory(redis),
        memory=None,
        threads=ThreadMarks(redis, 3600),
        index_version=index_version,
    )
    return await make_harness(checklist=checklist)


async def run_command(harness: SlackHarness) -> None:
    fields = command_fields(CHECK_COMMAND, "", response_url=f"{harness.api.url}response")
    status, _ = await harness.post_command(fields)
    assert status == 200


def said(harness: SlackHarness) -> list[str]:
    """Every text the bot put in the channel or a thread: posts and edits."""
    methods = ("chat.postMessage", "chat.update")
    return [str(c.params.get("text")) for c in harness.api.calls if c.method in methods]


async def test_started_is_said_only_after_the_first_question_is_posted(
    make_harness: MakeHarness, redis_client: Redis
) -> None:
    harness = await checklist_app(make_harness, redis_client)
    await run_command(harness)
    [update] = await harness.api.wait_for("chat.update")
    root, question = harness.api.calls_to("chat.postMessage")
    root_ts = str(root.response["ts"])
    assert "started" not in str(root.params["text"])
    assert question.params["thread_ts"] == root_ts
    # The session the thread needs exists, then the root says so.
    assert await ChecklistStore(redis_client).load(TEAM_ID, CHANNEL, root_ts) is not None
    calls = harness.api.calls
    assert calls.index(question) < calls.index(update)
    assert update.params["ts"] == root_ts
    assert str(update.params["text"]).startswith(f"<@{USER}> started the decision checklist")
    assert harness.api.messages[root_ts].text == update.params["text"]


async def test_with_redis_down_nothing_says_started(
    make_harness: MakeHarness, redis_client: Redis, redis_server: EmbeddedRedis
) -> None:
    harness = await checklist_app(make_harness, redis_client)
    with redis_stopped(redis_server):
        await run_command(harness)
        [reply] = await harness.api.wait_for("response", within=15)
        await harness.api.settle()
    assert "try again in a minute" in str(reply.params["text"])
    assert reply.params["response_type"] == "ephemeral"
    assert not [text for text in said(harness) if "started" in text]
    # The placeholder was taken down again: the channel is left with nothing half-started.
    [root] = harness.api.calls_to("chat.postMessage")
    [delete] = harness.api.calls_to("chat.delete")
    assert delete.params["ts"] == root.response["ts"]
    assert str(root.response["ts"]) not in harness.api.messages
    assert harness.api.calls_to("chat.update") == []
