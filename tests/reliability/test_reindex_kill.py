"""`advisor reindex --full` killed with SIGKILL mid-embedding: the previous index keeps answering,
the killed build's locks (its Edge WAL and its writer lock) die with the process, cleanup removes
the half-written build, and the next reindex works.

Real processes on embedded defaults. The kill lands while the big rebuild is still running (the
test checks the process had not finished), after the time a small build takes to start and load
the model, so it lands in the embedding stage, which on this corpus lasts well over ten seconds.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.memory.embedded_redis import SOCKET_NAME, ping_socket

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
DOCS = ("when-to-fine-tune.md", "when-to-use-rag.md", "structured-output-json-sql-tools.md")
WORDS = [
    "adapter",
    "batch",
    "corpus",
    "dataset",
    "drift",
    "embedding",
    "eval",
    "fine-tune",
    "gradient",
    "holdout",
    "index",
    "label",
    "latency",
    "lora",
    "metric",
    "prompt",
    "quality",
    "rank",
    "recall",
    "retrieval",
    "schema",
    "token",
    "update",
    "vector",
    "weight",
]


def advisor(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)


def write_bulk(folder: Path, documents: int = 120, sections: int = 12) -> None:
    """Distinct filler documents (about 1,400 chunks) so a full rebuild must embed for a while."""
    rng = random.Random(6)
    folder.mkdir()
    for d in range(documents):
        body = [f"# Bulk document {d}"]
        for s in range(sections):
            words = " ".join(rng.choice(WORDS) for _ in range(150))
            body.append(f"## Section {s}\n{words}.")
        (folder / f"bulk-{d:03d}.md").write_text("\n\n".join(body))


def stop_embedded_redis(data_dir: Path) -> None:
    """A killed `advisor reindex` cannot stop the embedded redis-server it started (the server
    runs in its own session so Ctrl-C never kills it unsaved); the test stops what it caused."""
    path = data_dir / "redis" / SOCKET_NAME
    if ping_socket(path):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(path))
            sock.sendall(b"SHUTDOWN NOSAVE\r\n")
            sock.recv(64)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    for name in DOCS:
        shutil.copy(ROOT / "knowledge" / name, knowledge / name)
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ADVISOR_", "OPENAI_", "SLACK_", "REDIS_", "QDRANT_"))
    }
    yield {
        **base,
        "ADVISOR_KNOWLEDGE_DIR": str(knowledge),
        "ADVISOR_DATA_DIR": str(tmp_path / "data"),
        "HF_HUB_OFFLINE": "1",
    }
    stop_embedded_redis(tmp_path / "data")


def version_of(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.splitlines()[-1])  # progress events first, the result last
    assert result["event"] == "result"
    return str(result["version"])


def test_killed_full_reindex_leaves_the_old_index_answering(env: dict[str, str]) -> None:
    started = time.monotonic()
    old = version_of(advisor("reindex", "--json", env=env))
    small_build = time.monotonic() - started
    write_bulk(Path(env["ADVISOR_KNOWLEDGE_DIR"]) / "bulk")

    command = [sys.executable, "-m", "bot", "reindex", "--full", "--json"]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time.sleep(small_build + 3)
        assert process.poll() is None, "the rebuild finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)

    asked = advisor("ask", "--json", "Should we fine-tune for strict JSON output?", env=env)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout.splitlines()[-1])
    assert answer["index_version"] == old
    assert answer["mode"] == "extractive" and answer["citations"]

    shutil.rmtree(Path(env["ADVISOR_KNOWLEDGE_DIR"]) / "bulk")
    # The killed run still holds the reindex lock in Redis; its process is gone, so the next
    # run takes the lock over instead of waiting out the expiry.
    new = version_of(advisor("reindex", "--full", "--json", env=env))
    assert new != old
    status = advisor("status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    state = json.loads(status.stdout)
    assert state["problem"] is None and state["index"]["version"] == new
    # The killed build was removed by the next run's cleanup: live and previous are left.
    assert [b["version"] for b in state["builds"]] == [old, new]
