"""/finetune-admin through the real Bolt app (signed requests) against the mock Slack Web API,
with the real engine behind it: embedded Qdrant, real Redis, the openai embedder on loopback."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
import pytest_asyncio

from bot.admin.lock import LOCK_KEY
from bot.admin.messages import REFUSED
from bot.slack.server import EVENTS_PATH
from bot.slack.wiring import assemble_services
from tests.ops.admin_harness import ADMIN, DOCS, OTHER_ADMIN, UNRELATED, AdminEnv, write_docs
from tests.ops.admin_harness import admin_env as admin_env  # fixture
from tests.support.slack_api import TEAM_ID, MockSlackApi
from tests.support.slack_harness import HttpClient, open_harness
from tests.support.slack_requests import CHANNEL, sign

REQUEST_TIMEOUT = 15.0


@dataclass
class AdminSlack:
    env: AdminEnv
    api: MockSlackApi
    http: HttpClient

    async def command(self, text: str, user: str = ADMIN) -> tuple[int, str]:
        fields = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "channel_id": CHANNEL,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/finetune-admin",
            "text": text,
            "api_app_id": "A0APP",
            "response_url": f"{self.api.url}response",
            "trigger_id": "1.2.3",
        }
        body = urlencode(fields)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        # Bounded: a request that is never answered fails this test in seconds instead of
        # holding the run for the client's 300 s default.
        response = await asyncio.wait_for(
            self.http.post(EVENTS_PATH, data=body, headers=headers), REQUEST_TIMEOUT
        )
        return response.status, await asyncio.wait_for(response.text(), REQUEST_TIMEOUT)

    def texts(self, method: str) -> list[str]:
        return [str(call.params.get("text", "")) for call in self.api.calls_to(method)]

    def channel_texts(self) -> list[str]:
        """Channel message texts, posts and edits, in the order Slack received them."""
        return [
            str(call.params.get("text", ""))
            for call in self.api.ok_calls()
            if call.method in ("chat.postMessage", "chat.update")
        ]

    async def until(self, found: Callable[[], bool], within: float = 15.0) -> None:
        deadline = time.monotonic() + within
        while not found():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out; Slack calls: {[c.method for c in self.api.calls]}")
            await asyncio.sleep(0.02)

    async def reindex_and_wait(self, text: str = "reindex", marker: str = "") -> str:
        before = len(self.channel_texts())
        assert (await self.command(text))[0] == 200
        await self.until(lambda: any(marker in t for t in self.channel_texts()[before:]))
        return next(t for t in reversed(self.channel_texts()) if marker in t)

    async def metrics(self) -> str:
        response = await self.http.get("/metrics")
        return await response.text()


@pytest_asyncio.fixture
async def slack(admin_env: AdminEnv) -> AsyncIterator[AdminSlack]:
    deps = admin_env.deps
    assert deps.redis is not None and deps.feedback is not None
    services = assemble_services(
        responder=deps.advisor,
        redis=deps.redis,
        feedback=deps.feedback,
        admin=admin_env.admin,
    )
    async with open_harness(services, deps.redis) as harness:
        yield AdminSlack(admin_env, harness.api, harness.http)


DONE = "is live"
FAILED = "failed:"


async def test_non_admins_are_refused_and_every_attempt_is_logged(
    slack: AdminSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack.listeners.admin")
    for text in ("reindex", "status", "rollback", "help"):
        status, body = await slack.command(text, user="UINTRUDER")
        assert status == 200
        assert REFUSED in body
    await slack.api.settle(quiet=0.1)
    assert slack.channel_texts() == []
    assert await slack.env.live_version() is None  # nothing was built
    refused = [r for r in caplog.records if "UINTRUDER" in r.getMessage()]
    assert len(refused) == 4
    assert all("refused" in r.getMessage() for r in refused)
    assert all(getattr(r, "user_id", None) == "UINTRUDER" for r in refused)


@pytest.mark.parametrize("argument", ["../../etc", "/etc/passwd", "--dir=/tmp", "knowledge/../.."])
async def test_reindex_refuses_path_like_arguments(slack: AdminSlack, argument: str) -> None:
    status, body = await slack.command(f"reindex {argument}")
    assert status == 200
    assert "is not an option of reindex" in body
    await slack.api.settle(quiet=0.1)
    assert slack.channel_texts() == []
    assert await slack.env.live_version() is None  # nothing was read or built


async def test_help_for_admins_lists_every_subcommand(slack: AdminSlack) -> None:
    _, body = await slack.command("help")
    for word in ("reindex", "--dry-run", "rollback", "status"):
        assert word in body


async def test_reindex_reports_progress_then_summary_in_one_message(slack: AdminSlack) -> None:
    summary = await slack.reindex_and_wait(marker=DONE)
    version = await slack.env.live_version()
    assert version is not None and version in summary
    assert f"<@{ADMIN}>" in summary
    assert "added" in summary and "unchanged" in summary and "quality gate" in summary
    posts = slack.api.calls_to("chat.postMessage")
    assert len(posts) == 1  # the progress message; everything after edits it in place
    assert all(c.params["ts"] == posts[0].response["ts"] for c in slack.api.calls_to("chat.update"))
    assert 'advisor_reindex_runs_total{outcome="published"} 1.0' in await slack.metrics()
    # Status shows the new index and who built it.
    await slack.command("status")
    await slack.until(lambda: any("Advisor status" in t for t in slack.texts("response")))
    status = next(t for t in slack.texts("response") if "Advisor status" in t)
    assert version in status and f"<@{ADMIN}>" in status and "redis: reachable" in status


async def test_dry_run_reports_changes_without_touching_the_index(slack: AdminSlack) -> None:
    await slack.reindex_and_wait(marker=DONE)
    live = await slack.env.live_version()
    write_docs(slack.env.folder, {"new.md": "# Brand new\nA new page about adapters."})
    summary = await slack.reindex_and_wait("reindex --dry-run", marker="Dry run")
    assert "added 1" in summary and "Nothing was touched" in summary
    assert await slack.env.live_version() == live
    assert len((await slack.env.deps.index.summary()).builds) == 1


async def test_two_concurrent_requests_run_one_reindex(slack: AdminSlack) -> None:
    # The first embedding call hangs a moment, so whichever request wins holds the lock while
    # the other one arrives.
    slack.env.openai.queue_hang(1.0, endpoint="embeddings")
    results = await asyncio.gather(
        slack.command("reindex", user=ADMIN), slack.command("reindex", user=OTHER_ADMIN)
    )
    assert [status for status, _ in results] == [200, 200]
    await slack.until(lambda: any("already running" in t for t in slack.texts("response")))
    busy = next(t for t in slack.texts("response") if "already running" in t)
    await slack.until(lambda: any(DONE in t for t in slack.channel_texts()))
    await slack.api.settle(quiet=0.2)
    winner = ADMIN if f"started by <@{ADMIN}>" in busy else OTHER_ADMIN
    assert f"already running, started by <@{winner}> at " in busy
    assert sum(DONE in t for t in slack.channel_texts()) == 1
    assert len((await slack.env.deps.index.summary()).builds) == 1
    assert await slack.env.deps.redis.get(LOCK_KEY) is None  # type: ignore[union-attr]
    assert 'advisor_reindex_runs_total{outcome="busy"} 1.0' in await slack.metrics()


async def test_failure_half_way_leaves_the_previous_index_answering(slack: AdminSlack) -> None:
    await slack.reindex_and_wait(marker=DONE)
    live = await slack.env.live_version()
    # A changed document must be embedded again, and the embedding service fails.
    write_docs(slack.env.folder, {"rag.md": DOCS["rag.md"] + "\nIt also cites its sources."})
    slack.env.openai.queue_failure(500, endpoint="embeddings")
    summary = await slack.reindex_and_wait(marker=FAILED)
    assert "embedding service failed" in summary
    assert "previous index is still answering" in summary
    assert await slack.env.live_version() == live
    assert (
        len((await slack.env.deps.index.summary()).builds) == 1
    )  # the half-built collection is gone
    retrieval = await slack.env.deps.retriever.retrieve("How does RAG keep answers fresh?")
    assert retrieval.index_version == live and retrieval.passages
    assert await slack.env.deps.redis.get(LOCK_KEY) is None  # type: ignore[union-attr]


async def test_quality_gate_blocks_a_regression_and_rollback_restores(slack: AdminSlack) -> None:
    await slack.reindex_and_wait(marker=DONE)
    first = await slack.env.live_version()
    write_docs(slack.env.folder, {"lora.md": DOCS["lora.md"] + "\nQLoRA quantises the base."})
    await slack.reindex_and_wait(marker=DONE)
    second = await slack.env.live_version()
    assert second != first

    write_docs(slack.env.folder, UNRELATED, replace=True)  # questions.yaml still expects the old
    summary = await slack.reindex_and_wait(marker=FAILED)
    assert "was not published" in summary and "hit@3 0.00" in summary
    assert await slack.env.live_version() == second
    assert 'advisor_reindex_runs_total{outcome="gate_failed"} 1.0' in await slack.metrics()

    await slack.command("rollback")
    await slack.until(lambda: any("rolled back" in t for t in slack.texts("response")))
    assert await slack.env.live_version() == first
    retrieval = await slack.env.deps.retriever.retrieve("What are LoRA adapters?")
    assert retrieval.index_version == first
