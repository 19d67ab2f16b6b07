"""`advisor serve` as an operator runs it: a real process in HTTP mode on a loopback port,
pointed at the mock Slack Web API through SLACK_API_URL, answering a signed mention."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.support.slack_api import BOT_USER_ID, MockSlackApi
from tests.support.slack_requests import envelope, message_event, sign

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SECRET = "process-signing-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "rag.md").write_text(
        "# When to use RAG\n## Changing facts\nUse retrieval-augmented generation when policies "
        "change every month: fine-tuning does not add facts reliably.\n"
    )
    return folder


@pytest.fixture
def env(tmp_path: Path, knowledge: Path) -> dict[str, str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("ADVISOR_", "SLACK_", "OPENAI_"))
    }
    env = {
        **base,
        "ADVISOR_KNOWLEDGE_DIR": str(knowledge),
        "ADVISOR_DATA_DIR": str(tmp_path / "data"),
        "HF_HUB_OFFLINE": "1",
    }
    built = subprocess.run(
        [sys.executable, "-m", "bot", "reindex"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert built.returncode == 0, built.stderr
    return env


async def test_advisor_serve_answers_a_signed_mention_over_http(env: dict[str, str]) -> None:
    port = free_port()
    async with MockSlackApi() as api:
        serve_env = {
            **env,
            "SLACK_BOT_TOKEN": "xoxb-process-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api.url,
            "ADVISOR_HOST": "127.0.0.1",
            "ADVISOR_PORT": str(port),
        }
        server = subprocess.Popen(  # noqa: ASYNC220 - started once, waited on in a thread
            [sys.executable, "-m", "bot", "serve"],
            env=serve_env,
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            async with aiohttp.ClientSession() as session:
                deadline = time.monotonic() + 120
                while True:
                    try:
                        async with session.get(f"http://127.0.0.1:{port}/healthz") as health:
                            if health.status == 200:
                                break
                    except aiohttp.ClientConnectionError:
                        pass
                    assert server.poll() is None, server.stderr.read() if server.stderr else ""
                    assert time.monotonic() < deadline, "advisor serve did not come up"
                    await asyncio.sleep(0.2)
                mention = message_event(
                    f"<@{BOT_USER_ID}> our policies change monthly, should we fine-tune?",
                    kind="app_mention",
                )
                body = json.dumps(envelope(mention))
                url = f"http://127.0.0.1:{port}/slack/events"
                headers = {"Content-Type": "application/json"}
                async with session.post(
                    url, data=body, headers={**headers, **sign(body, secret="wrong")}
                ) as bad:
                    assert bad.status == 401
                async with session.post(
                    url, data=body, headers={**headers, **sign(body, secret=SECRET)}
                ) as ok:
                    assert ok.status == 200
            await api.wait_for("chat.stopStream", within=90)
        finally:
            server.terminate()
            _, stderr = await asyncio.to_thread(server.communicate, timeout=30)
    start = api.calls_to("chat.startStream")[0]
    assert start.params["thread_ts"] == mention["ts"]
    streamed = json.dumps([c.params for c in api.calls if "Stream" in c.method])
    assert "retrieval" in streamed.lower()
    assert "xoxb-process-test" not in stderr  # the token never reaches the log
