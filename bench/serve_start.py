"""Time to first answer after `advisor serve` starts: a real process in HTTP mode on loopback
against the mock Slack Web API, asked one signed mention as soon as it listens. The time runs
from process start to the first streamed text of the answer."""

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

from tests.reliability.test_reindex_kill import stop_embedded_redis
from tests.support.slack_api import BOT_USER_ID, MockSlackApi
from tests.support.slack_requests import envelope, message_event, sign

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-serve-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def time_to_first_answer(data_dir: Path) -> None:
    port = _free_port()
    async with MockSlackApi() as api, aiohttp.ClientSession() as session:
        env = {
            **os.environ,
            "ADVISOR_DATA_DIR": str(data_dir),
            "ADVISOR_KNOWLEDGE_DIR": str(ROOT / "knowledge"),
            "SLACK_BOT_TOKEN": "xoxb-bench-serve",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api.url,
            "ADVISOR_HOST": "127.0.0.1",
            "ADVISOR_PORT": str(port),
        }
        started = time.perf_counter()
        server = subprocess.Popen(  # noqa: ASYNC220 - one process, waited on in a thread
            [sys.executable, "-m", "bot", "serve"], env=env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            listening = None
            while listening is None:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as health:
                        if health.status == 200:
                            listening = time.perf_counter() - started
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            event = message_event(f"<@{BOT_USER_ID}> should we fine-tune?", kind="app_mention")
            body = json.dumps(envelope(event))
            headers = {"Content-Type": "application/json", **sign(body, secret=SECRET)}
            async with session.post(
                f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers
            ) as response:
                assert response.status == 200
            await api.wait_for("chat.startStream", within=120)
            first_text = time.perf_counter() - started
        finally:
            server.terminate()
            await asyncio.to_thread(server.wait, 30)
            # SIGTERM ends `advisor serve` without its shutdown path, so the embedded
            # redis-server it started would outlive it.
            stop_embedded_redis(data_dir)
    print(
        f"\n`advisor serve` start to first answer text: {first_text:.2f} s "
        f"(listening after {listening:.2f} s; the embedding model loads before it listens)"
    )
