"""`advisor reindex` from a terminal while a real `advisor serve` process answers questions from
the same data dir: every question is answered (none fails while the new build is written and
published), and the answers after the publish come from the new build."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.reliability.test_reindex_kill import stop_embedded_redis
from tests.support.serve_process import free_port
from tests.support.slack_api import BOT_USER_ID, MockSlackApi
from tests.support.slack_requests import envelope, message_event, sign

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SECRET = "reindex-while-serving"
NEW_FACT = "Zebra-stripe quantisation keeps adapter checkpoints tiny"


def advisor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "rag.md").write_text(
        "# When to use RAG\n## Changing facts\nUse retrieval-augmented generation when policies "
        "change every month: fine-tuning does not add facts reliably.\n"
    )
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ADVISOR_", "SLACK_", "OPENAI_", "REDIS_", "QDRANT_"))
    }
    env = {
        **base,
        "ADVISOR_KNOWLEDGE_DIR": str(folder),
        "ADVISOR_DATA_DIR": str(tmp_path / "data"),
        "ADVISOR_MIN_SCORE": "0.0",
        "HF_HUB_OFFLINE": "1",
    }
    built = advisor(env, "reindex")
    assert built.returncode == 0, built.stderr
    yield env
    stop_embedded_redis(tmp_path / "data")


async def test_terminal_reindex_while_serving(env: dict[str, str]) -> None:
    port = free_port()
    async with MockSlackApi() as api, aiohttp.ClientSession() as session:
        serve_env = {
            **env,
            "SLACK_BOT_TOKEN": "xoxb-serving",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api.url,
            "ADVISOR_HOST": "127.0.0.1",
            "ADVISOR_PORT": str(port),
        }
        server = subprocess.Popen(  # noqa: ASYNC220 - started once, waited on in a thread
            [sys.executable, "-m", "bot", "serve"],
            env=serve_env, cwd=ROOT, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        asked = 0

        async def ask(text: str) -> None:
            nonlocal asked
            event = message_event(f"<@{BOT_USER_ID}> {text} ({asked})", kind="app_mention")
            body = json.dumps(envelope(event))
            headers = {"Content-Type": "application/json", **sign(body, secret=SECRET)}
            url = f"http://127.0.0.1:{port}/slack/events"
            async with session.post(url, data=body, headers=headers) as response:
                assert response.status == 200
            asked += 1
            # Streamed, or posted whole once the stream budget (Tier 2) is spent: either way
            # a finished answer carries its feedback buttons.
            await api.wait_until(lambda: len(api.answered_threads()) >= asked, within=120)

        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/readyz") as ready:
                        if ready.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "advisor serve did not come up"
                await asyncio.sleep(0.3)
            await ask("our policies change monthly, should we fine-tune?")

            folder = Path(env["ADVISOR_KNOWLEDGE_DIR"])
            (folder / "zebra.md").write_text(f"# Zebra stripes\n{NEW_FACT}, the guide says.\n")
            reindexing = asyncio.create_task(asyncio.to_thread(advisor, env, "reindex", "--json"))
            while not reindexing.done():  # questions keep coming while the build runs
                await ask("should we fine-tune when policies change monthly?")
            built = await reindexing
            assert built.returncode == 0, built.stderr
            result = json.loads(built.stdout.splitlines()[-1])
            assert result["published"] and result["added"] == 1 and result["embedded"] == 1

            await ask("what does zebra-stripe quantisation do to adapter checkpoints?")
        finally:
            server.terminate()
            _, stderr = await asyncio.to_thread(server.communicate, timeout=30)
        streamed = [json.dumps(c.params) for c in api.calls if c.method.startswith("chat.")]
    assert len(api.answered_threads()) == asked >= 3
    everything = "\n".join(streamed)
    assert "error id" not in everything and "Traceback" not in stderr
    last_thread = max(api.answered_threads(), key=float)
    last_answer = api.messages_in(last_thread)
    assert "Zebra-stripe" in json.dumps(
        [m.text for m in last_answer] + [m.blocks for m in last_answer]
    )
