"""The Qdrant side: collection schema, the live alias, stored hashes and the hybrid query.

Each full build writes a fresh collection named `{alias}-{version}`; the alias moves to it in one
atomic call only after it is complete, so a failed build never touches what is answering. The
collection's metadata records the embedder, so a query with another embedder fails clearly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import numpy as np
from qdrant_client import AsyncQdrantClient
from qdrant_client import models as qm

from bot.errors import EmbedderMismatchError, IndexMissingError, UserFacingError
from bot.models import Chunk, Frozen, Passage
from bot.retrieval.availability import qdrant_reachable

DENSE = "dense"
SPARSE = "bm25"
KEEP_PREVIOUS = 1  # collections kept besides the live one, for rollback
_PAGE = 512


class IndexInfo(Frozen):
    collection: str
    version: str
    embedder: str
    dimension: int
    built_at: str
    built_by: str
    documents: int
    chunks: int


class StoredPoint(Frozen):
    point_id: str
    source: str
    content_hash: str


def new_version() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")


def _payload(chunk: Chunk) -> dict[str, object]:
    return chunk.model_dump(mode="json")


class KnowledgeStore:
    def __init__(self, client: AsyncQdrantClient, alias: str) -> None:
        self.client = client
        self.alias = alias

    # -- the live index ------------------------------------------------------------------
    async def live_collection(self) -> str | None:
        with qdrant_reachable():
            aliases = await self.client.get_aliases()
        for alias in aliases.aliases:
            if alias.alias_name == self.alias:
                return alias.collection_name
        return None

    async def info(self, collection: str | None = None) -> IndexInfo | None:
        name = collection or await self.live_collection()
        with qdrant_reachable():
            if name is None or not await self.client.collection_exists(name):
                return None
            described = await self.client.get_collection(name)
        meta = described.config.metadata or {}
        chunks = described.points_count or 0
        return IndexInfo(
            collection=name,
            version=str(meta.get("version", name.removeprefix(f"{self.alias}-"))),
            embedder=str(meta.get("embedder", "unknown")),
            dimension=int(str(meta.get("dimension", 0))),
            built_at=str(meta.get("built_at", "")),
            built_by=str(meta.get("built_by", "")),
            documents=int(str(meta.get("documents", 0))),
            chunks=chunks,
        )

    async def require_live(self, embedder_name: str) -> IndexInfo:
        info = await self.info()
        if info is None:
            raise IndexMissingError(
                "There is no knowledge index yet. Run `advisor reindex` to build it."
            )
        if info.embedder != embedder_name:
            raise EmbedderMismatchError(
                f"The live index was built with the {info.embedder} embedder, but the advisor is "
                f"configured for {embedder_name}. An admin needs to rebuild it: "
                "`advisor reindex --full`."
            )
        return info

    # -- building ------------------------------------------------------------------------
    async def create_collection(
        self, version: str, dimension: int, embedder_name: str, built_by: str
    ) -> str:
        name = f"{self.alias}-{version}"
        await self.client.create_collection(
            name,
            vectors_config={DENSE: qm.VectorParams(size=dimension, distance=qm.Distance.COSINE)},
            sparse_vectors_config={SPARSE: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
            metadata={
                "version": version,
                "embedder": embedder_name,
                "dimension": dimension,
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "built_by": built_by,
                "documents": 0,
            },
        )
        return name

    async def record_build(self, collection: str, documents: int, built_by: str) -> None:
        await self.client.update_collection(
            collection,
            metadata={
                "documents": documents,
                "built_by": built_by,
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )

    async def stored_points(self, collection: str) -> list[StoredPoint]:
        points: list[StoredPoint] = []
        offset: qm.ExtendedPointId | None = None
        while True:
            records, offset = await self.client.scroll(
                collection,
                limit=_PAGE,
                offset=offset,
                with_payload=["source", "content_hash"],
                with_vectors=False,
            )
            for record in records:
                payload = record.payload or {}
                points.append(
                    StoredPoint(
                        point_id=str(record.id),
                        source=str(payload.get("source", "")),
                        content_hash=str(payload.get("content_hash", "")),
                    )
                )
            if offset is None:
                return points

    async def vectors_by_hash(
        self, collection: str, hashes: Iterable[str]
    ) -> dict[str, list[float]]:
        """Dense vectors already computed for these contents, so a rebuild need not re-embed."""
        wanted = set(hashes)
        found: dict[str, list[float]] = {}
        offset: qm.ExtendedPointId | None = None
        while wanted - found.keys():
            records, offset = await self.client.scroll(
                collection,
                limit=_PAGE,
                offset=offset,
                with_payload=["content_hash"],
                with_vectors=[DENSE],
            )
            for record in records:
                content_hash = str((record.payload or {}).get("content_hash", ""))
                vector = record.vector.get(DENSE) if isinstance(record.vector, dict) else None
                if content_hash in wanted and isinstance(vector, list):
                    found[content_hash] = [float(x) for x in vector]  # type: ignore[arg-type]
            if offset is None:
                break
        return found

    async def upsert(
        self,
        collection: str,
        chunks: Sequence[Chunk],
        dense: Sequence[Sequence[float]],
        sparse: Sequence[tuple[list[int], list[float]]],
    ) -> None:
        points = [
            qm.PointStruct(
                id=chunk.point_id,
                vector={
                    DENSE: list(vector),
                    SPARSE: qm.SparseVector(indices=indices, values=values),
                },
                payload=_payload(chunk),
            )
            for chunk, vector, (indices, values) in zip(chunks, dense, sparse, strict=True)
        ]
        for start in range(0, len(points), 256):
            await self.client.upsert(collection, points[start : start + 256], wait=True)

    async def delete_points(self, collection: str, point_ids: Sequence[str]) -> None:
        if point_ids:
            await self.client.delete(collection, qm.PointIdsList(points=list(point_ids)), wait=True)

    async def publish(self, collection: str) -> None:
        """Point the alias at `collection` in one atomic operation.

        The collection is marked as published first: only marked collections are rollback
        targets, so a build killed half-way (which never gets the mark) is never served.
        """
        await self.client.update_collection(collection, metadata={"published": True})
        operations: list[qm.AliasOperations] = []
        if await self.live_collection() is not None:
            operations.append(
                qm.DeleteAliasOperation(delete_alias=qm.DeleteAlias(alias_name=self.alias))
            )
        operations.append(
            qm.CreateAliasOperation(
                create_alias=qm.CreateAlias(collection_name=collection, alias_name=self.alias)
            )
        )
        await self.client.update_collection_aliases(change_aliases_operations=operations)

    async def previous_collection(self) -> str | None:
        """The newest published collection older than the live one: what `rollback` returns to."""
        live = await self.live_collection()
        if live is None:
            return None
        older = [name for name in await self.published_versions() if name < live]
        return older[-1] if older else None

    async def rollback(self) -> str:
        """Point the alias back at the previous collection; returns its name."""
        previous = await self.previous_collection()
        if previous is None:
            raise UserFacingError("There is no previous index to roll back to.")
        await self.publish(previous)
        return previous

    async def versions(self) -> list[str]:
        """Our collections, oldest first (names sort by their timestamp version)."""
        listed = await self.client.get_collections()
        prefix = f"{self.alias}-"
        return sorted(c.name for c in listed.collections if c.name.startswith(prefix))

    async def published_versions(self) -> list[str]:
        published = []
        for name in await self.versions():
            described = await self.client.get_collection(name)
            if (described.config.metadata or {}).get("published"):
                published.append(name)
        return published

    async def cleanup(self, keep_previous: int = KEEP_PREVIOUS) -> list[str]:
        """Keep the live collection and its `keep_previous` published predecessors; drop the
        rest: older builds, builds a rollback left behind, and builds that never finished.
        """
        live = await self.live_collection()
        names = await self.versions()
        if live is None or live not in names:
            return []
        older = [name for name in await self.published_versions() if name < live]
        keep = {live, *older[len(older) - keep_previous :]} if keep_previous else {live}
        dropped = [name for name in names if name not in keep]
        for name in dropped:
            await self.client.delete_collection(name)
        return dropped

    async def drop(self, collection: str) -> None:
        if await self.client.collection_exists(collection):
            await self.client.delete_collection(collection)

    # -- querying ------------------------------------------------------------------------
    async def search(
        self,
        dense: Sequence[float],
        sparse: tuple[list[int], list[float]],
        limit: int,
        mode: str = "hybrid",
        max_per_source: int = 2,
    ) -> list[Passage]:
        """Hybrid by default: dense and sparse prefetch fused with reciprocal rank fusion.

        `mode` "dense" or "sparse" runs one side only (benchmarks compare the three).
        Each passage also carries its dense cosine similarity for the relevance threshold.
        At most `max_per_source` passages come from one document, so the citations a user sees
        span several documents instead of repeating one.
        """
        fetch = limit * 3
        sparse_query = qm.SparseVector(indices=sparse[0], values=sparse[1])
        prefetch_limit = max(limit * 4, 20)
        with qdrant_reachable():
            if mode == "dense":
                response = await self.client.query_points(
                    self.alias, query=list(dense), using=DENSE, limit=fetch,
                    with_payload=True, with_vectors=[DENSE],
                )  # fmt: skip
            elif mode == "sparse":
                response = await self.client.query_points(
                    self.alias, query=sparse_query, using=SPARSE, limit=fetch,
                    with_payload=True, with_vectors=[DENSE],
                )  # fmt: skip
            else:
                prefetch = [qm.Prefetch(query=list(dense), using=DENSE, limit=prefetch_limit)]
                if sparse[0]:
                    prefetch.append(
                        qm.Prefetch(query=sparse_query, using=SPARSE, limit=prefetch_limit)
                    )
                response = await self.client.query_points(
                    self.alias,
                    prefetch=prefetch,
                    query=qm.FusionQuery(fusion=qm.Fusion.RRF),
                    limit=fetch,
                    with_payload=True,
                    with_vectors=[DENSE],
                )
        query = np.asarray(dense, dtype=np.float32)
        query_norm = float(np.linalg.norm(query)) or 1.0
        passages: list[Passage] = []
        per_source: dict[str, int] = {}
        for point in response.points:
            source = str((point.payload or {}).get("source", ""))
            if per_source.get(source, 0) >= max_per_source:
                continue
            per_source[source] = per_source.get(source, 0) + 1
            vector = point.vector.get(DENSE) if isinstance(point.vector, dict) else None
            similarity = 0.0
            if isinstance(vector, list):
                stored = np.asarray(vector, dtype=np.float32)
                similarity = float(stored @ query) / (
                    (float(np.linalg.norm(stored)) or 1.0) * query_norm
                )
            passages.append(
                Passage(
                    chunk=Chunk.model_validate(point.payload or {}),
                    score=float(point.score),
                    similarity=similarity,
                )
            )
            if len(passages) == limit:
                break
        return passages
