"""One behaviour suite, run on both adapters (`kind` is edge or server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import IndexMissingError, UserFacingError
from bot.retrieval import sparse
from bot.retrieval.index.port import IndexPort, Quality, SearchMode, require_live
from tests.index.conftest import (
    CHUNKS,
    DIM,
    chunk,
    open_adapter,
    sparse_for,
    vector_for,
    write_build,
)

LORA_QUERY = [1.0, 0.0, 0.0, 0.0]


async def search_sources(
    index: IndexPort, query: list[float], text: str, **options: object
) -> list[str]:
    hits = await index.search(query, sparse.query_vector(text), 5, **options)  # type: ignore[arg-type]
    return [p.chunk.source for p in hits.passages]


async def test_build_publish_and_query_in_three_modes(index: IndexPort) -> None:
    assert await index.live() is None
    with pytest.raises(IndexMissingError, match="advisor reindex"):
        await require_live(index, "test-embedder")
    build = await write_build(index, "20260101-000000-000001", CHUNKS)
    live = await require_live(index, "test-embedder")
    assert live.build == build and live.chunks == 4 and live.documents == 3
    assert live.state == "published" and live.dimension == DIM

    hits = await index.search(LORA_QUERY, sparse.query_vector("adapter matrices"), 5)
    assert hits.info.version == "20260101-000000-000001"
    assert [p.chunk.source for p in hits.passages][:2] == ["lora.md", "lora.md"]
    assert hits.passages[0].similarity == pytest.approx(0.995, abs=0.01)  # cosine, not RRF
    dense = await search_sources(index, LORA_QUERY, "", mode="dense")
    assert dense[:2] == ["lora.md", "lora.md"] and sorted(dense[2:]) == ["json.md", "rag.md"]
    assert (await search_sources(index, LORA_QUERY, "JSON schema", mode="sparse"))[0] == "json.md"
    # A payload filter keeps one document; at most two passages per document otherwise.
    assert await search_sources(index, LORA_QUERY, "adapters", source="rag.md") == ["rag.md"]
    assert await index.count() == 4
    assert await index.count(source="lora.md") == 2


async def test_incremental_update_and_delete_inside_a_build(index: IndexPort) -> None:
    build = await index.create_build("20260101-000000-000002", DIM, "test-embedder", "tests")
    await index.upsert(build, CHUNKS, [vector_for(c) for c in CHUNKS], sparse_for(CHUNKS))
    changed = chunk("rag.md", 0, "Retrieval keeps answers current with new policies.")
    await index.upsert(build, [changed], [vector_for(changed)], sparse_for([changed]))
    await index.delete(build, [CHUNKS[3].point_id])
    info = await index.finish_build(build, 2)
    assert info.chunks == 3 and info.state == "ready"
    stored = {p.point_id: p.content_hash for p in await index.stored_points(build)}
    assert stored[changed.point_id] == changed.content_hash
    assert CHUNKS[3].point_id not in stored
    reused = await index.vectors_by_hash(build, {changed.content_hash, "unknown"})
    assert list(reused) == [changed.content_hash]
    assert reused[changed.content_hash] == pytest.approx(
        [x / sum(v * v for v in vector_for(changed)) ** 0.5 for x in vector_for(changed)], abs=1e-5
    )  # stored normalised: cosine collections keep unit vectors
    assert await index.live() is None  # written, not published


async def test_publish_rollback_and_cleanup(index: IndexPort) -> None:
    first = await write_build(index, "20260101-000000-000003", CHUNKS)
    second = await write_build(index, "20260101-000000-000004", CHUNKS[:2])
    summary = await index.summary()
    assert summary.live is not None and summary.live.build == second
    assert summary.previous is not None and summary.previous.build == first
    third = await write_build(index, "20260101-000000-000005", CHUNKS[:3])
    assert await index.cleanup() == [first]  # live and previous stay
    assert (await index.rollback()).build == second
    assert (await index.search(LORA_QUERY, ([], []), 5)).info.build == second
    with pytest.raises(UserFacingError, match="no previous index"):
        await index.rollback()
    assert await index.cleanup() == [third]  # a rolled-back build is not a target any more
    with pytest.raises(UserFacingError, match="is live"):
        await index.drop(second)


async def test_crash_half_way_leaves_the_previous_build_serving(kind: str, tmp_path: Path) -> None:
    index = open_adapter(kind, tmp_path, stale_after=0.0)
    live = await write_build(index, "20260101-000000-000006", CHUNKS)
    half = await index.create_build("20260101-000000-000007", DIM, "test-embedder", "killed")
    await index.upsert(
        half, CHUNKS[:2], [vector_for(c) for c in CHUNKS[:2]], sparse_for(CHUNKS[:2])
    )
    await index.close()  # the writer is gone without finishing or publishing

    reopened = open_adapter(kind, tmp_path, stale_after=0.0)
    try:
        assert (await reopened.search(LORA_QUERY, ([], []), 5)).info.build == live
        with pytest.raises(UserFacingError, match="not complete"):
            await reopened.publish(half)
        with pytest.raises(UserFacingError, match="no previous index"):
            await reopened.rollback()  # a half build is never a rollback target
        assert await reopened.cleanup() == [half]
        assert [b.build for b in (await reopened.summary()).builds] == [live]
    finally:
        await reopened.close()


async def test_reopen_after_restart_serves_the_same_build(kind: str, tmp_path: Path) -> None:
    index = open_adapter(kind, tmp_path)
    build = await write_build(index, "20260101-000000-000008", CHUNKS)
    quality = Quality(k=3, hit_at_k=0.9, mrr=0.8, questions_digest="abc")
    await index.record_quality(build, quality)
    before = await index.search(LORA_QUERY, sparse.query_vector("adapters"), 5)
    await index.close()
    reopened = open_adapter(kind, tmp_path)
    try:
        after = await reopened.search(LORA_QUERY, sparse.query_vector("adapters"), 5)
        assert after.info.build == build
        assert [p.chunk for p in after.passages] == [p.chunk for p in before.passages]
        assert [p.similarity for p in after.passages] == pytest.approx(
            [p.similarity for p in before.passages], abs=1e-6
        )
        live = await reopened.live()
        assert live is not None and live.quality == quality
    finally:
        await reopened.close()


async def test_equal_scores_come_back_in_a_stable_order(index: IndexPort) -> None:
    twins = [chunk(f"twin-{n}.md", 0, "identical text about adapters") for n in range(6)]
    build = await index.create_build("20260101-000000-000009", DIM, "test-embedder", "tests")
    await index.upsert(build, twins, [[1.0, 0.0, 0.0, 0.0]] * 6, sparse_for(twins))
    await index.finish_build(build, 6)
    await index.publish(build)
    modes: tuple[SearchMode, ...] = ("dense", "hybrid")
    for mode in modes:
        orders = set()
        for _ in range(5):
            hits = await index.search(LORA_QUERY, sparse.query_vector("adapters"), 6, mode=mode)
            orders.add(tuple(p.chunk.point_id for p in hits.passages))
        assert len(orders) == 1, mode
    dense = await index.search(LORA_QUERY, ([], []), 6, mode="dense")
    ids = [p.chunk.point_id for p in dense.passages]
    assert ids == sorted(ids)  # equal scores: the point id decides
