"""What the application needs from a vector index, whichever engine holds it.

A *build* is one complete copy of the knowledge folder's vectors, written once and then published
(made live) or dropped. Builds are never modified after they are published: a reindex, full or
incremental, always writes a new build (unchanged vectors are copied by content hash), so a
serving process never sees half an update and the previous build stays a rollback target.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal, Protocol

from bot.errors import EmbedderMismatchError, IndexMissingError
from bot.models import Chunk, Frozen, Passage
from bot.retrieval.index.shaping import MAX_PER_SOURCE

SearchMode = Literal["hybrid", "dense", "sparse"]
BuildState = Literal["building", "ready", "published"]
SparseVector = tuple[list[int], list[float]]
KEEP_PREVIOUS = 1  # published builds kept besides the live one, for rollback
NO_INDEX = "There is no knowledge index yet. Run `advisor reindex` to build it."


class Quality(Frozen):
    """A build's score on the folder's question set, recorded when the gate measured it."""

    k: int
    hit_at_k: float
    mrr: float
    questions_digest: str  # which question set (sha256 of questions.yaml)


class Skipped(Frozen):
    source: str
    reason: str


class IndexInfo(Frozen):
    build: str  # the adapter's name for the build (shard directory or collection)
    version: str
    embedder: str
    dimension: int
    built_at: str
    built_by: str
    documents: int
    chunks: int
    state: BuildState = "published"
    quality: Quality | None = None
    # What the build was made from (bot/retrieval/fingerprint.py): equal means nothing to do.
    source_digest: str | None = None
    skipped: tuple[Skipped, ...] = ()


class StoredPoint(Frozen):
    point_id: str
    source: str
    content_hash: str


class Hits(Frozen):
    """Passages of one query, and the build that answered it (a swap can happen between
    two queries, so the version comes with the answer, not from a separate call)."""

    passages: tuple[Passage, ...]
    info: IndexInfo


class BuildSummary(Frozen):
    live: IndexInfo | None
    previous: IndexInfo | None
    builds: tuple[IndexInfo, ...]  # every build on record, oldest first


def new_version() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class IndexPort(Protocol):
    """Every method may raise `IndexUnavailableError` (server down) or `IndexLockedError`
    (an embedded build held by another process); messages are safe to show."""

    backend: str  # "edge" or "server"

    # -- reading what exists -------------------------------------------------------------
    async def live(self) -> IndexInfo | None: ...
    async def summary(self) -> BuildSummary: ...
    async def info(self, build: str) -> IndexInfo | None: ...
    async def stored_points(self, build: str) -> list[StoredPoint]: ...
    async def vectors_by_hash(self, build: str, hashes: Iterable[str]) -> dict[str, list[float]]:
        """Dense vectors already computed for these contents, so a new build need not
        embed them again."""
        ...

    async def count(self, build: str | None = None, source: str | None = None) -> int: ...

    # -- writing a build -----------------------------------------------------------------
    async def create_build(
        self, version: str, dimension: int, embedder: str, built_by: str
    ) -> str: ...
    async def upsert(
        self,
        build: str,
        chunks: Sequence[Chunk],
        dense: Sequence[Sequence[float]],
        sparse: Sequence[SparseVector],
    ) -> None: ...
    async def delete(self, build: str, point_ids: Sequence[str]) -> None: ...
    async def finish_build(
        self,
        build: str,
        documents: int,
        *,
        source_digest: str | None = None,
        skipped: tuple[Skipped, ...] = (),
    ) -> IndexInfo:
        """Everything is written: record counts and origin, mark the build ready to publish."""
        ...

    async def record_quality(self, build: str, quality: Quality) -> None: ...
    async def record_source(self, build: str, source_digest: str) -> None:
        """A full plan found the build up to date: remember the digest, so the next run with
        nothing to do can stop at the fingerprint."""
        ...

    async def drop(self, build: str) -> None: ...

    # -- the live pointer ----------------------------------------------------------------
    async def publish(self, build: str) -> None:
        """Make a ready build live in one atomic step; the old live one becomes previous."""
        ...

    async def rollback(self) -> IndexInfo:
        """Make the previous build live again; raises UserFacingError when there is none."""
        ...

    async def cleanup(self, keep_previous: int = KEEP_PREVIOUS) -> list[str]:
        """Drop builds that are neither live, previous, nor being written; return their names."""
        ...

    # -- querying ------------------------------------------------------------------------
    async def search(
        self,
        dense: Sequence[float],
        sparse: SparseVector,
        limit: int,
        *,
        mode: SearchMode = "hybrid",
        build: str | None = None,
        source: str | None = None,
        max_per_source: int = MAX_PER_SOURCE,
    ) -> Hits:
        """`build` None: the live build. `source`: only passages of that document.
        Ties are broken by score, then point id, so results are stable."""
        ...

    async def ping(self) -> None:
        """Raise when the engine cannot be reached (used by readiness)."""
        ...

    async def close(self) -> None: ...


def check_embedder(info: IndexInfo, embedder_name: str) -> IndexInfo:
    if info.embedder != embedder_name:
        raise EmbedderMismatchError(
            f"The live index was built with the {info.embedder} embedder, but the advisor is "
            f"configured for {embedder_name}. An admin needs to rebuild it: "
            "`advisor reindex --full`."
        )
    return info


async def require_live(index: IndexPort, embedder_name: str) -> IndexInfo:
    info = await index.live()
    if info is None:
        raise IndexMissingError(getattr(index, "missing_message", NO_INDEX))
    return check_embedder(info, embedder_name)
