"""`advisor reindex` from a terminal goes through the same lifecycle as Slack: the Redis lock and
the quality gate apply, and a no-op run touches neither Redis nor the embedder. Real processes,
the session's real Redis, the openai embedder on the loopback server."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.admin.lock import LOCK_KEY, ReindexLock
from bot.memory.embedded_redis import EmbeddedRedis
from tests.ops.admin_harness import DOCS, QUESTIONS, UNRELATED, write_docs
from tests.support.openai_server import OpenAIServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(
    tmp_path: Path, openai_server: OpenAIServer, redis_server: EmbeddedRedis, redis_client: Redis
) -> dict[str, str]:
    folder = tmp_path / "knowledge"
    write_docs(folder, DOCS)
    (folder / "questions.yaml").write_text(QUESTIONS, encoding="utf-8")
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ADVISOR_", "OPENAI_", "SLACK_", "REDIS_", "QDRANT_"))
    }
    return {
        **base,
        "ADVISOR_KNOWLEDGE_DIR": str(folder),
        "ADVISOR_DATA_DIR": str(tmp_path / "data"),
        "REDIS_URL": redis_server.url,
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": openai_server.url,
        "ADVISOR_EMBEDDER": "openai",
        "ADVISOR_EMBED_MODEL": "test-embed",
        "ADVISOR_LLM_MAX_RETRIES": "0",
        "HF_HUB_OFFLINE": "1",
    }


def advisor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


async def reindex(env: dict[str, str], *args: str) -> tuple[int, list[dict[str, Any]], str]:
    # In a thread: the loopback embeddings server runs on this event loop.
    run = await asyncio.to_thread(advisor, env, "reindex", "--json", *args)
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    return run.returncode, lines, run.stderr


async def test_cli_reindex_holds_the_lock_and_passes_the_gate(
    env: dict[str, str], redis_client: Redis, openai_server: OpenAIServer
) -> None:
    code, lines, stderr = await reindex(env)
    assert code == 0, stderr
    result = lines[-1]
    assert result["event"] == "result" and result["published"] and result["locked"]
    assert result["gate"]["candidate_hit"] == 1.0
    stages = {line["stage"] for line in lines if line["event"] == "progress"}
    assert {"scan", "embed", "write", "gate", "publish"} <= stages
    assert await redis_client.get(LOCK_KEY) is None  # released

    # Nothing changed: no lock, no embedding call, the same version.
    calls = len(openai_server.requests_to("embeddings"))
    holder = await ReindexLock(redis_client).acquire("U0SOMEONE")
    assert holder is not None
    code, lines, stderr = await reindex(env)
    assert code == 0, stderr
    assert not lines[-1]["published"] and lines[-1]["version"] == result["version"]
    assert len(openai_server.requests_to("embeddings")) == calls

    # A change while someone holds the lock: refused, naming who holds it.
    write_docs(Path(env["ADVISOR_KNOWLEDGE_DIR"]), {"new.md": "# New\nAdapters again."})
    code, _, stderr = await reindex(env)
    assert code == 2
    assert "already running, started by <@U0SOMEONE>" in stderr
    assert await ReindexLock(redis_client).release(holder)


async def test_cli_reindex_is_gated(env: dict[str, str]) -> None:
    code, lines, stderr = await reindex(env)
    assert code == 0, stderr
    live = lines[-1]["version"]
    write_docs(Path(env["ADVISOR_KNOWLEDGE_DIR"]), UNRELATED, replace=True)
    code, lines, stderr = await reindex(env)
    assert code == 2
    assert "was not published" in stderr and "hit@3 0.00" in stderr
    status = await asyncio.to_thread(advisor, env, "status", "--json")
    state = json.loads(status.stdout)
    assert state["index"]["version"] == live
    assert [b["version"] for b in state["builds"]] == [live]  # the refused build was dropped
