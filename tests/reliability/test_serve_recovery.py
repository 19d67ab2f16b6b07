"""`advisor serve` as a process, through faults an operator meets: its embedded redis-server is
killed with SIGKILL (the process restarts it from its data file, readiness comes back, Slack
retries are still answered once), and its port is already taken (a clear error, exit code 2)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.support.serve_process import ROOT, advisor_env, build_index, free_port, write_knowledge
from tests.support.serve_process import SIGNING_SECRET as SECRET
from tests.support.slack_api import BOT_USER_ID, MockSlackApi
from tests.support.slack_requests import envelope, message_event, sign


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A knowledge folder indexed by a real `advisor reindex`, ready for `advisor serve`."""
    env = advisor_env(tmp_path / "data", write_knowledge(tmp_path))
    build_index(env)
    return env


pytestmark = pytest.mark.slow
# Restart takes a poll interval plus redis-server's start (well under a second here); the
# bound leaves room for a loaded machine.
READY_AGAIN_WITHIN = 20.0


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    http: aiohttp.ClientSession
    log: Path

    async def status(self, path: str) -> int:
        async with self.http.get(f"http://127.0.0.1:{self.port}{path}") as response:
            return response.status

    async def post_event(self, body: str, retry_num: int | None = None) -> int:
        headers = {"Content-Type": "application/json", **sign(body, secret=SECRET)}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        url = f"http://127.0.0.1:{self.port}/slack/events"
        async with self.http.post(url, data=body, headers=headers) as response:
            return response.status


def serve_env(env: dict[str, str], api: MockSlackApi, port: int) -> dict[str, str]:
    return {
        **env,
        "SLACK_BOT_TOKEN": "xoxb-process-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api.url,
        "ADVISOR_HOST": "127.0.0.1",
        "ADVISOR_PORT": str(port),
    }


@asynccontextmanager
async def advisor_serve(env: dict[str, str], api: MockSlackApi, log: Path) -> AsyncIterator[Served]:
    """A real `advisor serve` in HTTP mode, ready (/readyz 200) when the block starts, stopped
    with Ctrl-C (SIGINT) when it ends; its log goes to `log`. Whatever redis-server it leaves
    behind is killed, so a failing test leaks nothing."""
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: ASYNC220 - started once, waited on in a thread
            [sys.executable, "-m", "bot", "serve"],
            env=serve_env(env, api, port),
            cwd=ROOT,
            stderr=sink,
        )
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            served = Served(process, port, http, log)
            await wait_until_ready(served, within=120)
            yield served
    finally:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(process.wait, timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
        leftover = redis_pid(Path(env["ADVISOR_DATA_DIR"]))
        if leftover is not None and alive(leftover):
            os.kill(leftover, signal.SIGKILL)


async def wait_until_ready(served: Served, within: float) -> float:
    """Poll /readyz until 200; return how long it took."""
    started = time.monotonic()
    while True:
        try:
            if await served.status("/readyz") == 200:
                return time.monotonic() - started
        except aiohttp.ClientError:
            pass  # not listening yet
        assert served.process.poll() is None, served.log.read_text(errors="replace")
        assert time.monotonic() - started < within, "advisor serve did not become ready"
        await asyncio.sleep(0.1)


def redis_pid(data_dir: Path) -> int | None:
    """The pid in the embedded redis-server's pid file (removed when it shuts down cleanly)."""
    try:
        return int((data_dir / "redis" / "redis.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def redis_child(served: Served, data_dir: Path) -> int:
    """The pid of the serve process's embedded redis-server (checked to be its child)."""
    pid = redis_pid(data_dir)
    assert pid is not None and parent_of(pid) == served.process.pid
    return pid


def parent_of(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return None
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:"))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still "exists" until its parent reaps it.
    return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()


def mention_body(text: str, event_id: str) -> str:
    event = message_event(f"<@{BOT_USER_ID}> {text}", kind="app_mention")
    return json.dumps(envelope(event, event_id))


async def test_a_killed_redis_is_restarted_and_retries_are_still_answered_once(
    env: dict[str, str], tmp_path: Path
) -> None:
    data_dir = Path(env["ADVISOR_DATA_DIR"])
    before = mention_body("our policies change monthly, should we fine-tune?", "EvBeforeCrash")
    after = mention_body("how many labelled examples do we need?", "EvAfterCrash")
    async with MockSlackApi() as api, advisor_serve(env, api, tmp_path / "serve.log") as served:
        assert await served.post_event(before) == 200
        await api.wait_for("chat.stopStream", count=1, within=90)
        killed = redis_child(served, data_dir)

        os.kill(killed, signal.SIGKILL)
        took = await wait_until_ready(served, within=READY_AGAIN_WITHIN)
        restarted = redis_child(served, data_dir)
        assert restarted != killed and not alive(killed)

        # Slack retries the event answered before the crash: its dedupe key came back with
        # the data file, so it is not answered again...
        assert await served.post_event(before, retry_num=1) == 200
        # ...and an event first seen after the restart is answered once, however often retried.
        assert await served.post_event(after) == 200
        await api.wait_for("chat.stopStream", count=2, within=90)
        for retry in (1, 2):
            assert await served.post_event(after, retry_num=retry) == 200
        await api.settle(quiet=1.0, within=30)
        assert len(api.calls_to("chat.stopStream")) == 2
    log = served.log.read_text(errors="replace")
    assert f"pid {killed}" in log and "restarted" in log  # the restart is logged
    # Stopped with Ctrl-C, the process shut down the server it restarted (not the supervisor
    # restarting it again), and the shutdown saved cleanly (the pid file is removed).
    assert served.process.returncode == 0, log  # SIGINT is a clean shutdown
    assert not alive(restarted) and redis_pid(data_dir) is None
    print(f"readiness back {took:.2f}s after SIGKILL of redis-server")


async def test_serve_on_a_port_in_use_names_the_setting_and_exits_2(env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with MockSlackApi() as api:
            result = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "bot", "serve"],
                env=serve_env(env, api, port),
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=180,
            )
    assert result.returncode == 2, result.stderr
    assert f"127.0.0.1:{port}" in result.stderr
    assert "already in use" in result.stderr
    assert "ADVISOR_PORT" in result.stderr and "ADVISOR_HOST" in result.stderr
    assert "Traceback" not in result.stderr and "error id" not in result.stderr
    assert redis_pid(Path(env["ADVISOR_DATA_DIR"])) is None  # its Redis was stopped
