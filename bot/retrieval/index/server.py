"""The server adapter: qdrant-client against a Qdrant server, one collection per build.

Each build is a collection `{alias}-{version}`; the alias moves to it in one atomic call. A
collection's metadata records the build (embedder, counts, state, quality) and a heartbeat the
writer refreshes with every batch: cleanup leaves alone an unpublished collection whose heartbeat
is recent, because some process (on any machine) is still writing it.

Tests run this adapter against qdrant-client's local mode (`ThreadedLocalQdrant`), which speaks
the same client API; no Qdrant server runs on a developer's machine.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any, cast

from qdrant_client import AsyncQdrantClient
from qdrant_client import models as qm

from bot.errors import IndexMissingError, UserFacingError
from bot.models import Chunk
from bot.retrieval.index.availability import qdrant_reachable
from bot.retrieval.index.port import (
    KEEP_PREVIOUS,
    NO_INDEX,
    BuildState,
    BuildSummary,
    Hits,
    IndexInfo,
    Quality,
    SearchMode,
    Skipped,
    SparseVector,
    StoredPoint,
    now_iso,
)
from bot.retrieval.index.shaping import (
    DENSE,
    MAX_PER_SOURCE,
    RRF_K,
    SPARSE,
    RawHit,
    fetch_limits,
    payload,
)
from bot.retrieval.index.shaping import to_passages as shape

_PAGE = 512
_BATCH = 256
# An unpublished collection whose writer has not written for this long is abandoned.
STALE_BUILD_SECONDS = 600.0


class ServerIndex:
    backend = "server"
    missing_message = NO_INDEX

    def __init__(
        self, client: AsyncQdrantClient, alias: str, *, stale_after: float = STALE_BUILD_SECONDS
    ) -> None:
        self.client = client
        self.alias = alias
        self.stale_after = stale_after

    # -- reading -------------------------------------------------------------------------
    async def _live_name(self) -> str | None:
        with qdrant_reachable():
            aliases = await self.client.get_aliases()
        for alias in aliases.aliases:
            if alias.alias_name == self.alias:
                return alias.collection_name
        return None

    async def live(self) -> IndexInfo | None:
        name = await self._live_name()
        return await self.info(name) if name else None

    async def info(self, build: str) -> IndexInfo | None:
        with qdrant_reachable():
            if not await self.client.collection_exists(build):
                return None
            described = await self.client.get_collection(build)
        return _info(build, described.config.metadata or {}, described.points_count or 0)

    async def _names(self) -> list[str]:
        with qdrant_reachable():
            listed = await self.client.get_collections()
        prefix = f"{self.alias}-"
        return sorted(c.name for c in listed.collections if c.name.startswith(prefix))

    async def summary(self) -> BuildSummary:
        infos = [info for name in await self._names() if (info := await self.info(name))]
        live = await self._live_name()
        by_name = {info.build: info for info in infos}
        previous = _previous(infos, live)
        return BuildSummary(
            live=by_name.get(live or ""),
            previous=by_name.get(previous or ""),
            builds=tuple(infos),
        )

    async def stored_points(self, build: str) -> list[StoredPoint]:
        points: list[StoredPoint] = []
        async for record in self._scroll(build, ["source", "content_hash"], vectors=False):
            body = record.payload or {}
            points.append(
                StoredPoint(
                    point_id=str(record.id),
                    source=str(body.get("source", "")),
                    content_hash=str(body.get("content_hash", "")),
                )
            )
        return points

    async def vectors_by_hash(self, build: str, hashes: Iterable[str]) -> dict[str, list[float]]:
        wanted = set(hashes)
        found: dict[str, list[float]] = {}
        if not wanted:
            return found
        async for record in self._scroll(build, ["content_hash"], vectors=True):
            content_hash = str((record.payload or {}).get("content_hash", ""))
            vector = record.vector.get(DENSE) if isinstance(record.vector, dict) else None
            if content_hash in wanted and isinstance(vector, list):
                found[content_hash] = [float(x) for x in vector]  # type: ignore[arg-type]
        return found

    async def _scroll(
        self, build: str, fields: list[str], *, vectors: bool
    ) -> AsyncIterator[qm.Record]:
        offset: qm.ExtendedPointId | None = None
        while True:
            with qdrant_reachable():
                records, offset = await self.client.scroll(
                    build, limit=_PAGE, offset=offset, with_payload=fields,
                    with_vectors=[DENSE] if vectors else False,
                )  # fmt: skip
            for record in records:
                yield record
            if offset is None:
                return

    async def count(self, build: str | None = None, source: str | None = None) -> int:
        with qdrant_reachable():
            result = await self.client.count(
                build or self.alias, count_filter=_source_filter(source), exact=True
            )
        return int(result.count)

    # -- writing a build -----------------------------------------------------------------
    async def create_build(self, version: str, dimension: int, embedder: str, built_by: str) -> str:
        name = f"{self.alias}-{version}"
        with qdrant_reachable():
            await self.client.create_collection(
                name,
                vectors_config={
                    DENSE: qm.VectorParams(size=dimension, distance=qm.Distance.COSINE)
                },
                sparse_vectors_config={SPARSE: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
                metadata={
                    "version": version, "embedder": embedder, "dimension": dimension,
                    "built_at": now_iso(), "built_by": built_by, "documents": 0,
                    "state": "building", "heartbeat": time.time(),
                },
            )  # fmt: skip
        return name

    async def _set(self, build: str, **metadata: Any) -> None:
        with qdrant_reachable():
            await self.client.update_collection(build, metadata=metadata)

    async def upsert(
        self,
        build: str,
        chunks: Sequence[Chunk],
        dense: Sequence[Sequence[float]],
        sparse: Sequence[SparseVector],
    ) -> None:
        points = [
            qm.PointStruct(
                id=chunk.point_id,
                vector={DENSE: list(vector), SPARSE: qm.SparseVector(indices=i, values=v)},
                payload=payload(chunk),
            )
            for chunk, vector, (i, v) in zip(chunks, dense, sparse, strict=True)
        ]
        for start in range(0, len(points), _BATCH):
            with qdrant_reachable():
                await self.client.upsert(build, points[start : start + _BATCH], wait=True)
        await self._set(build, heartbeat=time.time())

    async def delete(self, build: str, point_ids: Sequence[str]) -> None:
        if point_ids:
            with qdrant_reachable():
                await self.client.delete(build, qm.PointIdsList(points=list(point_ids)), wait=True)

    async def finish_build(
        self,
        build: str,
        documents: int,
        *,
        source_digest: str | None = None,
        skipped: tuple[Skipped, ...] = (),
    ) -> IndexInfo:
        await self._set(
            build, documents=documents, state="ready", built_at=now_iso(),
            source_digest=source_digest or "",
            skipped=json.dumps([item.model_dump() for item in skipped]),
        )  # fmt: skip
        info = await self.info(build)
        assert info is not None
        return info

    async def record_quality(self, build: str, quality: Quality) -> None:
        await self._set(build, quality=quality.model_dump_json())

    async def record_source(self, build: str, source_digest: str) -> None:
        await self._set(build, source_digest=source_digest)

    async def drop(self, build: str) -> None:
        if build == await self._live_name():
            raise UserFacingError(f"Index build {build} is live; it cannot be dropped.")
        with qdrant_reachable():
            if await self.client.collection_exists(build):
                await self.client.delete_collection(build)

    # -- the live alias ------------------------------------------------------------------
    async def publish(self, build: str) -> None:
        info = await self.info(build)
        if info is None or info.state == "building":
            raise UserFacingError(f"Index build {build} is not complete; not published.")
        # Marked first: only published collections are rollback targets.
        await self._set(build, state="published")
        operations: list[qm.AliasOperations] = []
        if await self._live_name() is not None:
            operations.append(
                qm.DeleteAliasOperation(delete_alias=qm.DeleteAlias(alias_name=self.alias))
            )
        operations.append(
            qm.CreateAliasOperation(
                create_alias=qm.CreateAlias(collection_name=build, alias_name=self.alias)
            )
        )
        with qdrant_reachable():
            await self.client.update_collection_aliases(change_aliases_operations=operations)

    async def rollback(self) -> IndexInfo:
        summary = await self.summary()
        if summary.previous is None:
            raise UserFacingError("There is no previous index to roll back to.")
        await self.publish(summary.previous.build)
        return summary.previous

    async def cleanup(self, keep_previous: int = KEEP_PREVIOUS) -> list[str]:
        live = await self._live_name()
        if live is None:
            return []
        infos = [info for name in await self._names() if (info := await self.info(name))]
        older = [i.build for i in infos if i.state == "published" and i.build < live]
        keep = {live, *(older[len(older) - keep_previous :] if keep_previous else [])}
        dropped = []
        for info in infos:
            if info.build in keep or (
                info.state != "published" and await self._being_written(info)
            ):
                continue
            with qdrant_reachable():
                await self.client.delete_collection(info.build)
            dropped.append(info.build)
        return dropped

    async def _being_written(self, info: IndexInfo) -> bool:
        """An unfinished build is being written while its heartbeat is recent."""
        with qdrant_reachable():
            described = await self.client.get_collection(info.build)
        heartbeat = (described.config.metadata or {}).get("heartbeat", 0)
        try:
            return time.time() - float(str(heartbeat)) < self.stale_after
        except ValueError:
            return False

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
        target = build or await self._live_name()
        if target is None:
            raise IndexMissingError(NO_INDEX)
        info = await self.info(target)
        if info is None:
            raise IndexMissingError(NO_INDEX)
        fetch, depth = fetch_limits(limit)
        where = _source_filter(source)
        sparse_query = qm.SparseVector(indices=sparse[0], values=sparse[1])
        common: dict[str, Any] = {
            "limit": fetch, "with_payload": True, "with_vectors": [DENSE], "query_filter": where
        }  # fmt: skip
        with qdrant_reachable():
            if mode == "dense":
                response = await self.client.query_points(
                    target, query=list(dense), using=DENSE, **common
                )
            elif mode == "sparse":
                response = await self.client.query_points(
                    target, query=sparse_query, using=SPARSE, **common
                )
            else:
                prefetch = [qm.Prefetch(query=list(dense), using=DENSE, limit=depth, filter=where)]
                if sparse[0]:
                    prefetch.append(
                        qm.Prefetch(query=sparse_query, using=SPARSE, limit=depth, filter=where)
                    )
                response = await self.client.query_points(
                    target, prefetch=prefetch, query=qm.RrfQuery(rrf=qm.Rrf(k=RRF_K)), **common
                )
        hits = [
            RawHit(
                str(uuid.UUID(str(point.id))),
                float(point.score),
                point.payload or {},
                _dense_of(point.vector),
            )
            for point in response.points
        ]
        return Hits(passages=tuple(shape(hits, dense, limit, max_per_source)), info=info)

    async def ping(self) -> None:
        with qdrant_reachable():
            await self.client.get_collections()

    async def close(self) -> None:
        await self.client.close()


def _info(name: str, meta: dict[str, Any], points: int) -> IndexInfo:
    quality = meta.get("quality")
    state = str(meta.get("state", "published" if meta.get("published") else "building"))
    return IndexInfo(
        build=name,
        version=str(meta.get("version", name)),
        embedder=str(meta.get("embedder", "unknown")),
        dimension=int(str(meta.get("dimension", 0))),
        built_at=str(meta.get("built_at", "")),
        built_by=str(meta.get("built_by", "")),
        documents=int(str(meta.get("documents", 0))),
        chunks=points,
        state=cast(
            BuildState, state if state in ("building", "ready", "published") else "building"
        ),
        quality=Quality.model_validate_json(quality) if isinstance(quality, str) else None,
        source_digest=str(meta.get("source_digest") or "") or None,
        skipped=tuple(
            Skipped.model_validate(item) for item in json.loads(str(meta.get("skipped") or "[]"))
        ),
    )


def _previous(infos: Sequence[IndexInfo], live: str | None) -> str | None:
    if live is None:
        return None
    older = [i.build for i in infos if i.state == "published" and i.build < live]
    return older[-1] if older else None


def _dense_of(vector: Any) -> list[float] | None:
    if isinstance(vector, dict):
        found = vector.get(DENSE)
        return [float(x) for x in found] if isinstance(found, list) else None
    return None


def _source_filter(source: str | None) -> qm.Filter | None:
    if source is None:
        return None
    return qm.Filter(must=[qm.FieldCondition(key="source", match=qm.MatchValue(value=source))])
