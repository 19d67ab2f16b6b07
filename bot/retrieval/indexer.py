"""Reindex the knowledge folder: scan, chunk, diff by content hash, embed what changed, publish.

Planning reads the folder and the live build's stored hashes only (no model, no engine call that
writes), so a run with nothing to do ends there. A run that changes anything writes a complete
new build, reusing the live build's vectors for unchanged content, and publishes it only when it
is complete and `before_publish` (the quality gate) accepts it; on any failure the new build is
dropped and the live one keeps answering. `full` embeds every chunk again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import UserFacingError
from bot.models import Chunk, Frozen
from bot.retrieval.fingerprint import folder_fingerprint
from bot.retrieval.index.port import IndexInfo, IndexPort, Skipped, StoredPoint, new_version

if TYPE_CHECKING:
    from bot.retrieval.embed import Embedder
    from bot.retrieval.ingest import ScanResult

# Parsing, chunking and BM25 (pypdf, ftfy, the stemmer) are imported when a run has something to
# read: a run with nothing to do ends on the fingerprint, well under a second from a terminal.

log = logging.getLogger(__name__)

# (stage, done, total). Stages: "scan", "embed", "write", "gate", "publish". Every front end
# (terminal bar, Slack message, JSON lines) renders these same events.
ProgressFn = Callable[[str, int, int], None]
# Called with the finished, unpublished build; raising stops the publish (the quality gate).
BeforePublish = Callable[[str], Awaitable[None]]
# Texts per embedding call. Texts are sorted by length first, so each call pads little: close
# to what one call with every text would cost, with progress after each group.
EMBED_GROUP = 256
_WRITE_BATCH = 512


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
    skipped: tuple[Skipped, ...]
    duration_seconds: float
    published: bool = False  # a new build went live (False: dry run or nothing to do)


class ChunkDiff(Frozen):
    added: tuple[Chunk, ...]
    changed: tuple[Chunk, ...]
    unchanged: tuple[Chunk, ...]
    removed: tuple[str, ...]  # point ids

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


class ReindexPlan(Frozen):
    folder: Path
    documents: int
    chunks: tuple[Chunk, ...]  # empty when the fingerprint showed nothing changed
    chunk_count: int
    skipped: tuple[Skipped, ...]
    diff: ChunkDiff | None  # None: unchanged by fingerprint, nothing was parsed
    live: IndexInfo | None
    rebuild: bool  # every chunk is embedded again (asked for, or the live build is unusable)
    source_digest: str
    started: float

    @property
    def noop(self) -> bool:
        return self.live is not None and not self.rebuild and (self.diff is None or self.diff.empty)

    def report(self, *, embedded: int = 0, version: str | None = None, dry_run: bool = False,
               published: bool = False) -> ReindexReport:  # fmt: skip
        diff = self.diff
        return ReindexReport(
            version=version or (self.live.version if self.live else ""),
            full=self.rebuild,
            dry_run=dry_run,
            documents=self.documents,
            chunks=self.chunk_count,
            added=len(diff.added) if diff else 0,
            changed=len(diff.changed) if diff else 0,
            removed=len(diff.removed) if diff else 0,
            unchanged=len(diff.unchanged) if diff else self.chunk_count,
            embedded=embedded,
            skipped=self.skipped,
            duration_seconds=round(time.perf_counter() - self.started, 3),
            published=published,
        )


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
    from bot.retrieval.chunking import chunk_document

    return [chunk for doc in scan.documents for chunk in chunk_document(doc, chunk_chars)]


async def plan_reindex(
    index: IndexPort,
    embedder_name: str,
    folder: Path,
    *,
    chunk_chars: int,
    max_file_bytes: int,
    full: bool = False,
) -> ReindexPlan:
    """What a reindex would do; reads only (no model load, nothing written)."""
    started = time.perf_counter()
    digest = await asyncio.to_thread(
        folder_fingerprint, folder,
        chunk_chars=chunk_chars, max_file_bytes=max_file_bytes, embedder=embedder_name,
    )  # fmt: skip
    live = await index.live()
    compatible = live is not None and live.embedder == embedder_name
    if live is not None and compatible and not full and live.source_digest == digest:
        return ReindexPlan(
            folder=folder, documents=live.documents, chunks=(), chunk_count=live.chunks,
            skipped=live.skipped, diff=None, live=live, rebuild=False, source_digest=digest,
            started=started,
        )  # fmt: skip
    from bot.retrieval.ingest import scan_folder

    scan = await asyncio.to_thread(scan_folder, folder, max_file_bytes)
    chunks = chunk_all(scan, chunk_chars)
    if not chunks:
        raise UserFacingError(
            f"No readable documents in {folder} ({len(scan.skipped)} skipped); "
            "the live index was left as it is."
        )
    stored = await index.stored_points(live.build) if live is not None else []
    diff = diff_chunks(chunks, stored)
    if live is not None and compatible and not full and diff.empty:
        await index.record_source(live.build, digest)
    return ReindexPlan(
        folder=folder,
        documents=len(scan.documents),
        chunks=tuple(chunks),
        chunk_count=len(chunks),
        skipped=tuple(Skipped(source=s.source, reason=s.reason) for s in scan.skipped),
        diff=diff,
        live=live,
        rebuild=full or not compatible,
        source_digest=digest,
        started=started,
    )


async def build_and_publish(
    index: IndexPort,
    embedder: Embedder,
    plan: ReindexPlan,
    *,
    built_by: str,
    progress: ProgressFn | None = None,
    before_publish: BeforePublish | None = None,
) -> ReindexReport:
    report = progress or (lambda stage, done, total: None)
    report("scan", plan.documents, plan.documents)
    dimension = await embedder.dimension()
    reusable: dict[str, list[float]] = {}
    if plan.live is not None and not plan.rebuild:
        reusable = await index.vectors_by_hash(
            plan.live.build, {chunk.content_hash for chunk in plan.chunks}
        )
    version = new_version()
    build = await index.create_build(version, dimension, embedder.name, built_by)
    try:
        embedded = await _fill(index, embedder, build, plan.chunks, reusable, report)
        await index.finish_build(
            build, plan.documents, source_digest=plan.source_digest, skipped=plan.skipped
        )
        if before_publish is not None:
            report("gate", 0, 1)
            await before_publish(build)
            report("gate", 1, 1)
        report("publish", 0, 1)
        await index.publish(build)
        report("publish", 1, 1)
    except BaseException:
        log.exception("reindex failed; dropping build %s, the live index is unchanged", build)
        await asyncio.shield(index.drop(build))
        raise
    dropped = await index.cleanup()
    if dropped:
        log.info("dropped old index builds: %s", ", ".join(dropped))
    return plan.report(embedded=embedded, version=version, published=True)


async def _fill(
    index: IndexPort,
    embedder: Embedder,
    build: str,
    chunks: Sequence[Chunk],
    reusable: dict[str, list[float]],
    progress: ProgressFn,
) -> int:
    """Write every chunk into `build`; embedding and writing overlap (the engine writes on its
    own thread while the model encodes the next group)."""
    from bot.retrieval.represent import embedding_text, sparse_vector

    reused = [chunk for chunk in chunks if chunk.content_hash in reusable]
    missing = sorted(
        (chunk for chunk in chunks if chunk.content_hash not in reusable),
        key=lambda chunk: len(embedding_text(chunk)),
    )
    total = len(chunks)
    written = 0
    pending: asyncio.Task[None] | None = None

    async def write(group: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        nonlocal pending, written
        sparse = [sparse_vector(chunk) for chunk in group]
        if pending is not None:
            await pending
        written += len(group)
        pending = asyncio.ensure_future(index.upsert(build, group, vectors, sparse))

    progress("write", 0, total)
    for start in range(0, len(reused), _WRITE_BATCH):
        group = reused[start : start + _WRITE_BATCH]
        await write(group, [reusable[chunk.content_hash] for chunk in group])
        progress("write", written, total)
    progress("embed", 0, len(missing))
    try:
        for start in range(0, len(missing), EMBED_GROUP):
            group = missing[start : start + EMBED_GROUP]
            vectors = await embedder.embed_documents([embedding_text(c) for c in group])
            await write(group, vectors)
            progress("embed", start + len(group), len(missing))
            progress("write", written, total)
        if pending is not None:
            await pending
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
    progress("write", total, total)
    return len(missing)


async def reindex(
    index: IndexPort,
    embedder: Embedder,
    folder: Path,
    *,
    chunk_chars: int,
    max_file_bytes: int,
    full: bool = False,
    dry_run: bool = False,
    built_by: str = "cli",
    progress: ProgressFn | None = None,
    before_publish: BeforePublish | None = None,
) -> ReindexReport:
    """Plan, then build and publish when there is something to do. No lock and no gate of its
    own: the lifecycle service (bot/admin/service.py) adds both; tests and benchmarks call this
    directly."""
    plan = await plan_reindex(
        index, embedder.name, folder,
        chunk_chars=chunk_chars, max_file_bytes=max_file_bytes, full=full,
    )  # fmt: skip
    if dry_run or plan.noop:
        return plan.report(dry_run=dry_run)
    return await build_and_publish(
        index, embedder, plan, built_by=built_by, progress=progress, before_publish=before_publish
    )
