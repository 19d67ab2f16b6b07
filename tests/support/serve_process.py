"""`advisor serve` as an operator runs it: a real child process in HTTP mode on a loopback port,
pointed at a mock Slack Web API through SLACK_API_URL, with its own data dir.

    env = advisor_env(data_dir, knowledge_dir)
    build_index(env)                                   # `advisor reindex`, once
    async with ServeProcess(env, slack_api_url=api.url) as serve:
        status = await serve.post(body, headers)
        serve.terminate()                              # SIGTERM, as Kubernetes sends it
        code = await serve.wait(timeout=15)
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
SIGNING_SECRET = "process-signing-secret"
BOT_TOKEN = "xoxb-process-test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def advisor_env(data_dir: Path, knowledge_dir: Path, **extra: str) -> dict[str, str]:
    """The process environment: this one without any advisor, Slack or OpenAI setting."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ADVISOR_", "SLACK_", "OPENAI_", "QDRANT_", "REDIS_"))
    }
    return {
        **base,
        "ADVISOR_KNOWLEDGE_DIR": str(knowledge_dir),
        "ADVISOR_DATA_DIR": str(data_dir),
        "HF_HUB_OFFLINE": "1",
        **extra,
    }


def write_knowledge(tmp_path: Path) -> Path:
    """A one-document knowledge folder: enough for `advisor serve` to answer from."""
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "rag.md").write_text(
        "# When to use RAG\n## Changing facts\nUse retrieval-augmented generation when policies "
        "change every month: fine-tuning does not add facts reliably.\n"
    )
    return folder


def build_index(env: dict[str, str], timeout: float = 300) -> None:
    """`advisor reindex` in its own process (it must exit before serve opens the index)."""
    built = subprocess.run(
        [sys.executable, "-m", "bot", "reindex"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if built.returncode != 0:
        raise RuntimeError(f"advisor reindex failed: {built.stderr[-2000:]}")


def child_pids(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Linux /proc), e.g. the embedded redis-server."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 is the parent pid; the command name (field 2) may contain spaces.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent has not reaped it yet


class ServeProcess:
    def __init__(
        self,
        env: dict[str, str],
        *,
        slack_api_url: str,
        secret: str = SIGNING_SECRET,
        start_timeout: float = 120,
        argv: list[str] | None = None,
        **settings: str,
    ) -> None:
        self._argv = argv or [sys.executable, "-m", "bot", "serve"]
        self.port = free_port()
        self.secret = secret
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = {
            **env,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": secret,
            "SLACK_API_URL": slack_api_url,
            "ADVISOR_HOST": "127.0.0.1",
            "ADVISOR_PORT": str(self.port),
            **settings,
        }
        self._start_timeout = start_timeout
        # A file, not a pipe: a chatty process never blocks on a full pipe nobody reads.
        self.log_path = Path(env["ADVISOR_DATA_DIR"]) / "serve-stderr.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ServeProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: ASYNC220 - started once; waited on in a thread
                self._argv,
                env=self._env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        self.session = aiohttp.ClientSession()
        try:
            await self._wait_until_healthy()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.session is not None:
            await self.session.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                await self.wait(timeout=30)
            except TimeoutError:
                self.process.kill()
                await self.wait(timeout=10)
        elif self.process is not None:
            await self.wait(timeout=10)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def children(self) -> list[int]:
        return child_pids(self.pid)

    async def _wait_until_healthy(self) -> None:
        assert self.session is not None and self.process is not None
        deadline = time.monotonic() + self._start_timeout
        while True:
            try:
                async with self.session.get(f"{self.url}/healthz") as health:
                    if health.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            if self.process.poll() is not None:
                await self.wait(timeout=5)
                raise RuntimeError(f"advisor serve exited at start: {self.stderr[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError("advisor serve did not come up")
            await asyncio.sleep(0.2)

    async def post(self, body: str, headers: dict[str, str]) -> int:
        assert self.session is not None
        async with self.session.post(
            f"{self.url}/slack/events", data=body.encode(), headers=headers
        ) as response:
            await response.read()
            return response.status

    def signal(self, signum: int = signal.SIGTERM) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def terminate(self) -> None:
        self.signal(signal.SIGTERM)

    @property
    def stderr(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    async def wait(self, timeout: float) -> int:  # noqa: ASYNC109 - a process wait, in a thread
        """Wait for the process to exit and return its exit code."""
        assert self.process is not None
        try:
            return await asyncio.to_thread(self.process.wait, timeout)
        except subprocess.TimeoutExpired as exc:
            raise TimeoutError(f"advisor serve still running after {timeout:g}s") from exc


class MockSlackProcess:
    """The mock Slack Web API in a process of its own (`python -m tests.support.slack_api`), so
    a benchmark's load generator never shares an event loop with it."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    async def __aenter__(self) -> MockSlackProcess:
        self.process = subprocess.Popen(  # noqa: ASYNC220 - started once
            [sys.executable, "-m", "tests.support.slack_api"],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = (await asyncio.to_thread(self.process.stdout.readline)).strip()
        if not self.url.startswith("http://"):
            raise RuntimeError("the mock Slack API did not start")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            await asyncio.to_thread(self.process.wait, 10)

    async def summary(self) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(self.url.replace("/api/", "/_mock/summary")) as response,
        ):
            body: dict[str, Any] = await response.json()
            return body
