"""Reindexing through real parts: embedded Qdrant, and the openai embedder talking to the loopback
OpenAI-compatible server (a real HTTP path, fast and deterministic)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.deps import Deps, aclose, build_deps
from bot.errors import EmbedderMismatchError, IndexMissingError, UserFacingError
from bot.retrieval.indexer import ReindexReport, reindex
from tests.conftest import make_settings
from tests.support.openai_server import OpenAIServer


def write(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body).strip() + "\n", encoding="utf-8")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    knowledge = tmp_path / "knowledge"
    write(
        knowledge,
        "lora.md",
        """
        ---
        title: LoRA adapters
        tags: [peft]
        ---
        # LoRA adapters
        ## What they change
        LoRA trains small low-rank adapter matrices instead of every weight of the model.
        ## Cost
        Adapters make fine-tuning cheaper because far fewer parameters are trained.
        """,
    )
    write(
        knowledge,
        "rag.md",
        """
        # Retrieval
        Retrieval-augmented generation puts fresh documents into the prompt at question time.
        """,
    )
    write(knowledge, "nested/json.md", "# Strict JSON\nUse a schema and examples in the prompt.\n")
    return knowledge


def embedder_settings(server: OpenAIServer) -> dict[str, dict[str, object]]:
    return {
        "llm": {"api_key": "sk-test", "base_url": server.url},
        "embedding": {"provider": "openai", "openai_model": "test-embed"},
    }


@pytest_asyncio.fixture
async def deps(tmp_path: Path, openai_server: OpenAIServer) -> AsyncIterator[Deps]:
    settings = make_settings(tmp_path / "data", **embedder_settings(openai_server))
    # Answers are not under test here: no chat client, only the embedder uses the server.
    built = await build_deps(settings, with_memory=False)
    yield built
    await aclose(built)


async def run(
    deps: Deps, folder: Path, *, full: bool = False, dry_run: bool = False
) -> ReindexReport:
    return await reindex(
        deps.store,
        deps.embedder,
        folder,
        chunk_chars=800,
        max_file_bytes=100_000,
        full=full,
        dry_run=dry_run,
    )


async def test_first_build_then_noop_then_incremental_changes(deps: Deps, folder: Path) -> None:
    first = await run(deps, folder)
    assert first.full and first.added == first.chunks == first.embedded
    assert first.documents == 3

    again = await run(deps, folder)
    assert (again.added, again.changed, again.removed, again.embedded) == (0, 0, 0, 0)
    assert again.unchanged == first.chunks and not again.full

    (folder / "rag.md").write_text("# Retrieval\nRAG keeps answers current with new policies.\n")
    (folder / "nested" / "json.md").unlink()
    write(folder, "eval.md", "# Evaluation\nBuild an evaluation set before fine-tuning.\n")
    changed = await run(deps, folder)
    assert (changed.added, changed.changed, changed.removed, changed.embedded) == (1, 1, 1, 2)
    assert not changed.full

    sources = {p.source for p in await deps.store.stored_points(deps.store.alias)}
    assert sources == {"lora.md", "rag.md", "eval.md"}
    result = await deps.retriever.retrieve("new policies current")
    assert result.passages[0].chunk.source == "rag.md"
    assert "new policies" in result.passages[0].chunk.text


async def test_dry_run_reports_without_touching_the_index(deps: Deps, folder: Path) -> None:
    await run(deps, folder)
    before = await deps.store.info()
    write(folder, "extra.md", "# Extra\nA brand new document about latency budgets.\n")
    report = await run(deps, folder, dry_run=True)
    assert report.dry_run and report.added == 1 and report.embedded == 0
    after = await deps.store.info()
    assert after == before


async def test_full_rebuild_publishes_a_new_collection_and_reuses_vectors(
    deps: Deps, folder: Path, openai_server: OpenAIServer
) -> None:
    await run(deps, folder)
    old = await deps.store.live_collection()
    calls = len(openai_server.requests_to("embeddings"))
    rebuilt = await run(deps, folder, full=True)
    assert rebuilt.full and rebuilt.embedded == 0  # unchanged content: vectors copied over
    assert len(openai_server.requests_to("embeddings")) == calls
    new = await deps.store.live_collection()
    assert new != old
    # The previous collection is kept for rollback; older ones are cleaned up.
    await run(deps, folder, full=True)
    versions = await deps.store.versions()
    assert old not in versions and new in versions and len(versions) == 2


async def test_failed_rebuild_leaves_the_previous_index_answering(
    deps: Deps, folder: Path, openai_server: OpenAIServer
) -> None:
    await run(deps, folder)
    live = await deps.store.live_collection()
    write(folder, "new.md", "# New\nSomething that must be embedded during the rebuild.\n")
    for _ in range(5):  # more failures than the client retries
        openai_server.queue_failure(status=500, endpoint="embeddings")
    with pytest.raises(UserFacingError, match="embedding service failed"):
        await run(deps, folder, full=True)
    assert await deps.store.live_collection() == live
    assert await deps.store.versions() == [live]  # the half-built collection was dropped
    result = await deps.retriever.retrieve("LoRA adapters")
    assert result.passages and result.passages[0].chunk.source == "lora.md"


async def test_a_folder_with_nothing_readable_keeps_the_index(
    deps: Deps, folder: Path, tmp_path: Path
) -> None:
    await run(deps, folder)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blank.md").write_text("   \n")
    with pytest.raises(UserFacingError, match="No readable documents"):
        await run(deps, empty)
    assert (await deps.store.info()) is not None
    assert len(await deps.store.stored_points(deps.store.alias)) > 0


async def test_querying_without_an_index_is_a_clear_error(deps: Deps) -> None:
    with pytest.raises(IndexMissingError, match="advisor reindex"):
        await deps.retriever.retrieve("anything")


async def test_index_built_by_another_embedder_asks_for_a_reindex(
    tmp_path: Path, folder: Path, openai_server: OpenAIServer
) -> None:
    data = tmp_path / "data"
    built_with_a = make_settings(data, **embedder_settings(openai_server))
    deps = await build_deps(built_with_a, with_memory=False)
    try:
        await run(deps, folder)
    finally:
        await aclose(deps)
    other = embedder_settings(openai_server)
    other["embedding"]["openai_model"] = "other-embed"
    deps = await build_deps(make_settings(data, **other), with_memory=False)
    try:
        with pytest.raises(EmbedderMismatchError, match="reindex --full"):
            await deps.retriever.retrieve("LoRA")
        # An incremental reindex with the new embedder rebuilds instead of mixing vectors.
        report = await run(deps, folder)
        assert report.full and report.embedded == report.chunks
        assert (await deps.retriever.retrieve("LoRA")).passages
    finally:
        await aclose(deps)


def test_a_second_process_gets_a_clear_error_for_the_embedded_index(tmp_path: Path) -> None:
    data = tmp_path / "data"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from qdrant_client import QdrantClient;"
            f"c = QdrantClient(path={str(data / 'qdrant')!r}); print('ready', flush=True);"
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = subprocess.run(
            [sys.executable, "-m", "bot", "status"],
            env={"ADVISOR_DATA_DIR": str(data), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        holder.communicate("", timeout=30)
    assert result.returncode == 2, result.stderr
    assert "in use by another advisor process" in result.stderr
    assert "Traceback" not in result.stderr


async def test_before_publish_can_refuse_and_rollback_returns(deps: Deps, folder: Path) -> None:
    await run(deps, folder)
    first = await deps.store.live_collection()
    await run(deps, folder, full=True)
    second = await deps.store.live_collection()

    async def refuse(collection: str) -> None:
        assert collection not in (first, second)
        raise UserFacingError("quality gate: hit@3 fell")

    with pytest.raises(UserFacingError, match="quality gate"):
        await reindex(
            deps.store, deps.embedder, folder, chunk_chars=800, max_file_bytes=100_000,
            full=True, before_publish=refuse,
        )  # fmt: skip
    assert await deps.store.live_collection() == second
    assert await deps.store.rollback() == first
    assert await deps.store.live_collection() == first
    with pytest.raises(UserFacingError, match="no previous index"):
        await deps.store.rollback()


async def test_an_unfinished_build_is_never_a_rollback_target_and_is_cleaned_up(
    deps: Deps, folder: Path
) -> None:
    await run(deps, folder)
    first = await deps.store.live_collection()
    # What a build killed mid-way leaves behind: a filled-in but never published collection.
    orphan = await deps.store.create_collection("29990101-000000-000000", 64, "x", "killed")
    assert await deps.store.previous_collection() is None
    with pytest.raises(UserFacingError, match="no previous index"):
        await deps.store.rollback()
    await run(deps, folder, full=True)
    versions = await deps.store.versions()
    assert orphan not in versions
    assert await deps.store.previous_collection() == first
