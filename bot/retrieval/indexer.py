"""Reindex the knowledge folder: scan, chunk, diff by content hash, embed what changed, publish.

Incremental runs update the live collection in place, writing only after every new vector is
computed (the slow, failure-prone part). Full runs fill a new collection and move the alias only
when it is complete; on any failure the new collection is dropped and the old one keeps answering.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from bot.errors import UserFacingError
from bot.models import Chunk, Frozen
from bot.retrieval.chunking import chunk_document
from bot.retrieval.embed import Embedder
from bot.retrieval.ingest import ScanResult, SkippedFile, scan_folder
from bot.retrieval.represent import embedding_text, sparse_vector
from bot.retrieval.store import KnowledgeStore, StoredPoint, new_version

log = logging.getLogger(__name__)

# (stage, done, total): stages are "scan", "embed", "write".
ProgressFn = Callable[[str, int, int], None]
# Called with the filled, unpublished collection of a full build; raising stops the publish
# (a quality gate). The new collection is then dropped and the live one keeps answering.
BeforePublish = Callable[[str], Awaitable[None]]
_EMBED_BATCH = 32


class ReindexReport(Frozen):
    version: str
    full: bool
    dry_run: bool
    documents: int
    chunks: int
    added: int
    changed: int
    removed: int
    unchanged: int
    embedded: int  # chunks whose vectors had to be computed (the rest were reused)
    skipped: tuple[SkippedFile, ...]
    duration_seconds: float


class ChunkDiff(Frozen):
    added: tuple[Chunk, ...]
    changed: tuple[Chunk, ...]
    unchanged: tuple[Chunk, ...]
    removed: tuple[str, ...]  # point ids


def diff_chunks(chunks: Sequence[Chunk], stored: Sequence[StoredPoint]) -> ChunkDiff:
    by_id = {point.point_id: point for point in stored}
    added, changed, unchanged = [], [], []
    for chunk in chunks:
        previous = by_id.get(chunk.point_id)
        if previous is None:
            added.append(chunk)
        elif previous.content_hash != chunk.content_hash:
            changed.append(chunk)
        else:
            unchanged.append(chunk)
    current = {chunk.point_id for chunk in chunks}
    removed = tuple(sorted(point_id for point_id in by_id if point_id not in current))
    return ChunkDiff(
        added=tuple(added), changed=tuple(changed), unchanged=tuple(unchanged), removed=removed
    )


def chunk_all(scan: ScanResult, chunk_chars: int) -> list[Chunk]:
    return [chunk for doc in scan.documents for chunk in chunk_document(doc, chunk_chars)]


async def reindex(
    store: KnowledgeStore,
    embedder: Embedder,
    knowledge_dir: Path,
    *,
    chunk_chars: int,
    max_file_bytes: int,
    full: bool = False,
    dry_run: bool = False,
    built_by: str = "cli",
    progress: ProgressFn | None = None,
    before_publish: BeforePublish | None = None,
) -> ReindexReport:
    started = time.perf_counter()
    report_progress = progress or (lambda stage, done, total: None)
    scan = await asyncio.to_thread(scan_folder, knowledge_dir, max_file_bytes)
    chunks = chunk_all(scan, chunk_chars)
    report_progress("scan", len(scan.documents), len(scan.documents))
    if not chunks:
        raise UserFacingError(
            f"No readable documents in {knowledge_dir} ({len(scan.skipped)} skipped); "
            "the live index was left as it is."
        )

    live = await store.info()
    dimension = await embedder.dimension()
    compatible = live is not None and live.embedder == embedder.name and live.dimension == dimension
    rebuild = full or not compatible
    stored = await store.stored_points(live.collection) if live is not None else []
    diff = diff_chunks(chunks, stored)
    to_write = list(chunks) if rebuild else [*diff.added, *diff.changed]
    version = new_version() if rebuild else (live.version if live else new_version())

    def summary(embedded: int) -> ReindexReport:
        return ReindexReport(
            version=version,
            full=rebuild,
            dry_run=dry_run,
            documents=len(scan.documents),
            chunks=len(chunks),
            added=len(diff.added),
            changed=len(diff.changed),
            removed=len(diff.removed),
            unchanged=len(diff.unchanged),
            embedded=embedded,
            skipped=scan.skipped,
            duration_seconds=round(time.perf_counter() - started, 3),
        )

    if dry_run:
        return summary(0)

    reusable: dict[str, list[float]] = {}
    if live is not None and compatible and to_write:
        reusable = await store.vectors_by_hash(live.collection, {c.content_hash for c in to_write})
    dense, embedded = await _dense_vectors(embedder, to_write, reusable, report_progress)
    sparse_vectors = [sparse_vector(chunk) for chunk in to_write]

    if not rebuild and live is not None:
        if to_write or diff.removed:
            report_progress("write", 0, len(to_write))
            await store.upsert(live.collection, to_write, dense, sparse_vectors)
            await store.delete_points(live.collection, diff.removed)
            await store.record_build(live.collection, len(scan.documents), built_by)
            report_progress("write", len(to_write), len(to_write))
        return summary(embedded)

    collection = await store.create_collection(version, dimension, embedder.name, built_by)
    try:
        report_progress("write", 0, len(to_write))
        await store.upsert(collection, to_write, dense, sparse_vectors)
        await store.record_build(collection, len(scan.documents), built_by)
        if before_publish is not None:
            await before_publish(collection)
        await store.publish(collection)
        report_progress("write", len(to_write), len(to_write))
    except BaseException:
        log.exception("full rebuild failed; dropping %s, the live index is unchanged", collection)
        await asyncio.shield(store.drop(collection))
        raise
    dropped = await store.cleanup()
    if dropped:
        log.info("dropped old collections: %s", ", ".join(dropped))
    return summary(embedded)


async def _dense_vectors(
    embedder: Embedder,
    chunks: Sequence[Chunk],
    reusable: dict[str, list[float]],
    progress: ProgressFn,
) -> tuple[list[list[float]], int]:
    missing = [chunk for chunk in chunks if chunk.content_hash not in reusable]
    computed: dict[str, list[float]] = {}
    progress("embed", 0, len(missing))
    for start in range(0, len(missing), _EMBED_BATCH):
        batch = missing[start : start + _EMBED_BATCH]
        vectors = await embedder.embed_documents([embedding_text(chunk) for chunk in batch])
        for chunk, vector in zip(batch, vectors, strict=True):
            computed[chunk.content_hash] = vector
        progress("embed", min(start + _EMBED_BATCH, len(missing)), len(missing))
    vectors = [reusable.get(chunk.content_hash) or computed[chunk.content_hash] for chunk in chunks]
    return vectors, len(missing)
