"""Qdrant unreachable (server mode, a closed loopback port) or no index yet: Slack gets a clear
message in the thread with an error id, the app keeps serving, and `advisor status` says why."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest
from qdrant_client import AsyncQdrantClient

from bot.deps import Deps
from bot.retrieval.index.availability import UNREACHABLE
from bot.retrieval.index.edge import EdgeIndex
from bot.retrieval.index.port import IndexPort
from bot.retrieval.index.server import ServerIndex
from bot.retrieval.retriever import Retriever
from bot.slack.services import SlackServices
from tests.support.slack_api import BOT_USER_ID
from tests.support.slack_harness import (
    SlackHarness,
    deps_redis,
    engine_services,
    open_harness,
    statuses,
)
from tests.support.slack_requests import message_event

pytestmark = pytest.mark.filterwarnings("ignore:Failed to obtain server version")
NO_INDEX = "There is no knowledge index yet"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def services_on(deps: Deps, index: IndexPort) -> SlackServices:
    """The real engine, except that the index is `index` (the embedder is shared)."""
    return engine_services(deps, Retriever(index, deps.embedder, deps.settings.retrieval.top_k))


@pytest.fixture
async def unreachable_rig(knowledge_deps: Deps) -> AsyncIterator[SlackHarness]:
    qdrant = AsyncQdrantClient(url=f"http://127.0.0.1:{closed_port()}", timeout=2)
    index = ServerIndex(qdrant, knowledge_deps.settings.retrieval.collection)
    try:
        async with open_harness(
            services_on(knowledge_deps, index), deps_redis(knowledge_deps)
        ) as rig:
            yield rig
    finally:
        await index.close()


@pytest.fixture
async def empty_index_rig(knowledge_deps: Deps, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    index = EdgeIndex(tmp_path / "index")
    try:
        async with open_harness(
            services_on(knowledge_deps, index), deps_redis(knowledge_deps)
        ) as rig:
            yield rig
    finally:
        await index.close()


async def ask_twice(rig: SlackHarness) -> list[str]:
    """Two questions in a row: both acked, both told in their own thread."""
    for n in range(2):
        event = message_event(f"<@{BOT_USER_ID}> Should we fine-tune? ({n})", kind="app_mention")
        assert await rig.post_event(event) == 200
        posts = await rig.api.wait_for("chat.postMessage", count=n + 1, within=20)
        assert posts[n].params["thread_ts"] == event["ts"]
    await rig.api.settle()
    return [str(call.params["text"]) for call in rig.api.calls_to("chat.postMessage")]


@pytest.mark.slow
async def test_unreachable_qdrant_is_explained_in_the_thread(unreachable_rig: SlackHarness) -> None:
    texts = await ask_twice(unreachable_rig)
    for text in texts:
        assert UNREACHABLE in text
        assert "error id `" in text
    assert "Traceback" not in unreachable_rig.sent()
    # The status line is always cleared again.
    cleared = [s for s in statuses(unreachable_rig.api) if s == ""]
    assert len(cleared) == 2


@pytest.mark.slow
async def test_missing_index_says_no_index_yet(empty_index_rig: SlackHarness) -> None:
    texts = await ask_twice(empty_index_rig)
    assert all(NO_INDEX in text and "advisor reindex" in text for text in texts)


def status(env: dict[str, str]) -> dict[str, object]:
    run = subprocess.run(
        [sys.executable, "-m", "bot", "status", "--json"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    return cast(dict[str, object], json.loads(run.stdout))


@pytest.mark.slow
def test_advisor_status_names_the_problem(tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ADVISOR_", "QDRANT_"))}
    env = {**base, "ADVISOR_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}
    assert status(env)["problem"] == (
        "There is no knowledge index yet. Run `advisor reindex` to build it."
    )
    unreachable = status({**env, "QDRANT_URL": f"http://127.0.0.1:{closed_port()}"})
    assert unreachable["problem"] == UNREACHABLE
    assert unreachable["index"] is None
