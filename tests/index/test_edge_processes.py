"""What only the embedded adapter has to get right: one process owns a live shard, builds are
written beside it by other processes, the serving process swaps between queries, and cleanup
never removes a build that another process is writing."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.retrieval import sparse
from bot.retrieval.index.edge import EdgeIndex
from tests.index.conftest import CHUNKS, DIM, sparse_for, vector_for, write_build

ROOT = Path(__file__).resolve().parents[2]
QUERY = [1.0, 0.0, 0.0, 0.0]


def helper(script: str) -> subprocess.Popen[str]:
    """A second Python process running `script` with the index helpers imported."""
    prelude = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from bot.retrieval.index.edge import EdgeIndex\n"
        "from tests.index.conftest import CHUNKS, DIM, sparse_for, vector_for, write_build\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", prelude + textwrap.dedent(script)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def wait_ready(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if line != "ready":
        _, stderr = process.communicate(timeout=30)
        pytest.fail(f"helper failed: {line} {stderr}")


async def test_a_second_process_opening_the_live_build_gets_a_clear_error(tmp_path: Path) -> None:
    serving = EdgeIndex(tmp_path / "index")
    build = await write_build(serving, "20260101-000000-000001", CHUNKS)
    await serving.search(QUERY, ([], []), 3)  # this process now owns the live shard
    other = helper(f"""
        async def main():
            index = EdgeIndex(Path({str(tmp_path / "index")!r}))
            try:
                await index.search([1.0, 0.0, 0.0, 0.0], ([], []), 3)
            except Exception as exc:
                print(type(exc).__name__, getattr(exc, "message", exc))
            # Reading what the build is needs no shard: status works next to a server.
            print("live", (await index.live()).build)
            await index.close()
        asyncio.run(main())
    """)
    stdout, stderr = other.communicate(timeout=120)
    await serving.close()
    assert other.returncode == 0, stderr
    assert "IndexLockedError" in stdout and "in use by another advisor process" in stdout
    assert f"live {build}" in stdout


async def test_the_serving_index_swaps_to_a_new_build_between_queries(tmp_path: Path) -> None:
    serving = EdgeIndex(tmp_path / "index")
    first = await write_build(serving, "20260101-000000-000002", CHUNKS)
    assert (await serving.search(QUERY, ([], []), 3)).info.build == first
    builder = helper(f"""
        async def main():
            index = EdgeIndex(Path({str(tmp_path / "index")!r}))
            live = await index.live()
            # Everything a new build needs from the live one is readable next to a server.
            reused = await index.vectors_by_hash(live.build, [c.content_hash for c in CHUNKS])
            assert len(reused) == len(CHUNKS), reused
            await write_build(index, "20260101-000000-000003", CHUNKS[:2])
            await index.close()
            print("ready", flush=True)
        asyncio.run(main())
    """)
    wait_ready(builder)
    builder.communicate(timeout=60)
    assert builder.returncode == 0
    hits = await serving.search(QUERY, sparse.query_vector("adapters"), 5)
    assert hits.info.build == "20260101-000000-000003"
    assert {p.chunk.source for p in hits.passages} == {"lora.md"}
    # The old build was closed on the swap: another process can open it now.
    reader = EdgeIndex(tmp_path / "index")
    try:
        old = await reader.search(QUERY, ([], []), 5, build=first)
        assert old.info.build == first
    finally:
        await reader.close()
        await serving.close()


async def test_cleanup_never_removes_a_build_being_written(tmp_path: Path) -> None:
    root = tmp_path / "index"
    index = EdgeIndex(root)
    first = await write_build(index, "20260101-000000-000004", CHUNKS)
    writer = helper(f"""
        async def main():
            index = EdgeIndex(Path({str(root)!r}))
            build = await index.create_build("20260101-000000-000005", DIM, "test-embedder", "w")
            await index.upsert(build, CHUNKS, [vector_for(c) for c in CHUNKS], sparse_for(CHUNKS))
            print("ready", flush=True)
            sys.stdin.read()  # hold the build open until killed
        asyncio.run(main())
    """)
    try:
        wait_ready(writer)
        second = await write_build(index, "20260101-000000-000006", CHUNKS[:3])
        third = await write_build(index, "20260101-000000-000007", CHUNKS[:2])
        # first is older than previous: dropped; the build in progress is left alone.
        assert await index.cleanup() == [first]
        versions = [b.build for b in (await index.summary()).builds]
        assert "20260101-000000-000005" in versions
        assert versions == sorted([second, third, "20260101-000000-000005"])
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.communicate(timeout=30)
    # The OS released the dead writer's lock: now it is an abandoned build, and goes.
    assert await index.cleanup() == ["20260101-000000-000005"]
    assert not (root / "builds" / "20260101-000000-000005").exists()
    await index.close()


async def test_a_build_cannot_be_published_or_cleaned_while_unfinished(tmp_path: Path) -> None:
    index = EdgeIndex(tmp_path / "index")
    live = await write_build(index, "20260101-000000-000008", CHUNKS)
    build = await index.create_build("20260101-000000-000009", DIM, "test-embedder", "tests")
    await index.upsert(build, CHUNKS[:1], [vector_for(CHUNKS[0])], sparse_for(CHUNKS[:1]))
    assert await index.cleanup() == []  # this process is writing it
    assert (await index.live()) is not None and (await index.live()).build == live  # type: ignore[union-attr]
    await index.close()
