"""The bot dies during a checklist: a new instance on the same Redis continues it. Forged clicks
(another thread's button value, a thread without a checklist, a bad signature) change nothing."""

from __future__ import annotations

import json

import pytest

from bot.checklist.state import ChecklistStore
from bot.deps import Deps
from bot.memory.embedded_redis import EmbeddedRedis
from bot.slack.checklist_flow import EXPIRED, STALE
from bot.slack.wiring import build_slack_services
from tests.reliability.checklist_driver import ChecklistThread
from tests.support.redis_fixtures import restart_redis
from tests.support.slack_api import TEAM_ID
from tests.support.slack_harness import deps_redis, open_harness
from tests.support.slack_requests import CHANNEL, click_payload

pytestmark = pytest.mark.slow


async def test_a_new_instance_continues_after_the_bot_and_redis_restart(
    knowledge_deps: Deps, redis_server: EmbeddedRedis
) -> None:
    assert knowledge_deps.redis is not None
    store = ChecklistStore(knowledge_deps.redis)
    async with open_harness(
        build_slack_services(knowledge_deps), deps_redis(knowledge_deps)
    ) as first:
        thread = ChecklistThread(first, thread_ts="1690000100.000001")
        await thread.start()
        await thread.answer(3)
        before = await store.load(TEAM_ID, CHANNEL, thread.thread_ts)
        assert before is not None and len(before.answers) == 3
    # The first instance is gone (its HTTP server and Slack client closed); Redis restarts too.
    restart_redis(redis_server)
    async with open_harness(
        build_slack_services(knowledge_deps), deps_redis(knowledge_deps)
    ) as second:
        thread.rig = second
        for _ in range(40):  # bounded: the checklist has far fewer questions
            if thread.finished:
                break
            await thread.click(thread.options()[0])
        assert "Recommendation" in thread.text()
        await second.api.settle()
        assert not second.api.calls_to("chat.postEphemeral")  # no "stale" or "expired" notes
    after = await store.load(TEAM_ID, CHANNEL, thread.thread_ts)
    assert after is not None
    assert after.answers[:3] == before.answers


async def test_forged_clicks_change_no_checklist(knowledge_deps: Deps) -> None:
    assert knowledge_deps.redis is not None
    store = ChecklistStore(knowledge_deps.redis)
    async with open_harness(
        build_slack_services(knowledge_deps), deps_redis(knowledge_deps)
    ) as rig:
        mine = ChecklistThread(rig, thread_ts="1690000200.000001")
        theirs = ChecklistThread(rig, thread_ts="1690000300.000001")
        await mine.start()
        await theirs.start()
        await theirs.answer(2)
        saved = {
            t.thread_ts: await store.load(TEAM_ID, CHANNEL, t.thread_ts) for t in (mine, theirs)
        }
        # Their current button value (revision 2), clicked on my message: stale here, and
        # nothing can reach their thread, since the thread comes from Slack's payload.
        await mine.click(mine.options()[0], value=theirs.options()[0]["value"])
        # A click naming a thread that has no checklist creates none.
        ghost = click_payload(
            theirs.options()[0]["action_id"],
            theirs.options()[0]["value"],
            message_ts="1690000400.000002",
            thread_ts="1690000400.000001",
        )
        assert await rig.post_interaction(ghost) == 200
        await rig.api.wait_for("chat.postEphemeral", 2)
        # A click with a bad signature is refused before any handler runs.
        rig.secret = "not-the-signing-secret"
        forged = click_payload(
            theirs.options()[0]["action_id"],
            theirs.options()[0]["value"],
            message_ts=theirs.message_ts,
            thread_ts=theirs.thread_ts,
        )
        assert await rig.post_interaction(forged) == 401
        await rig.api.settle()
        notes = [str(c.params["text"]) for c in rig.api.calls_to("chat.postEphemeral")]
        assert notes == [STALE, EXPIRED]
        for t in (mine, theirs):
            assert await store.load(TEAM_ID, CHANNEL, t.thread_ts) == saved[t.thread_ts]
        assert await store.load(TEAM_ID, CHANNEL, "1690000400.000001") is None
        assert "Question 1 of" in json.dumps(mine.blocks)
