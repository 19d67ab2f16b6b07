"""What both adapters do with raw hits: stable order, a cap per document, and the dense cosine
similarity the relevance threshold needs (fusion scores are ranks, not similarities)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

from bot.models import Chunk, Passage

DENSE = "dense"
SPARSE = "bm25"
RRF_K = 2  # Qdrant's default RRF constant; the quality figures were measured with it
MAX_PER_SOURCE = 2  # passages one document may contribute to an answer's top


class RawHit:
    """One result as an engine returned it. Either `similarity` (the engine's own cosine) or
    the stored `dense` vector to compute it from."""

    __slots__ = ("dense", "payload", "point_id", "score", "similarity")

    def __init__(
        self,
        point_id: str,
        score: float,
        payload: Mapping[str, Any],
        dense: Sequence[float] | None = None,
        similarity: float | None = None,
    ) -> None:
        self.point_id = point_id
        self.score = score
        self.payload = payload
        self.dense = dense
        self.similarity = similarity


def fetch_limits(limit: int) -> tuple[int, int]:
    """(results to fetch before the per-document cap, depth of each prefetch)."""
    return limit * 3, max(limit * 4, 20)


def cosine(stored: Sequence[float], query: np.ndarray[Any, np.dtype[np.float32]]) -> float:
    """`query` is already unit length; stored vectors usually are too (cosine collections
    normalise on write), but dividing by the norm costs nothing and trusts nothing."""
    import numpy as np

    vector = np.asarray(stored, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    return float(vector @ query) / norm if norm else 0.0


def cap_per_source(
    passages: Iterable[Passage], limit: int, max_per_source: int = MAX_PER_SOURCE
) -> list[Passage]:
    """The first `limit` passages, skipping any beyond `max_per_source` from one document, so
    the answer hears from more than one source."""
    kept: list[Passage] = []
    per_source: dict[str, int] = {}
    for passage in passages:
        source = passage.chunk.source
        if per_source.get(source, 0) >= max_per_source:
            continue
        per_source[source] = per_source.get(source, 0) + 1
        kept.append(passage)
        if len(kept) == limit:
            break
    return kept


def to_passages(
    hits: Iterable[RawHit], query: Sequence[float], limit: int, max_per_source: int
) -> list[Passage]:
    # RRF gives equal scores to points with equal ranks, and engines return those in any order:
    # score first, then the point id, so the same question always gets the same passages.
    import numpy as np  # here: a no-op reindex never needs it

    ordered = sorted(hits, key=lambda hit: (-hit.score, hit.point_id))
    unit = np.asarray(query, dtype=np.float32)
    unit = unit / (float(np.linalg.norm(unit)) or 1.0)

    def passage(hit: RawHit) -> Passage:
        similarity = hit.similarity
        if similarity is None:
            similarity = cosine(hit.dense, unit) if hit.dense is not None else 0.0
        return Passage(
            chunk=Chunk.model_validate(dict(hit.payload)), score=hit.score, similarity=similarity
        )

    # A generator: conversion stops as soon as `limit` passages are kept.
    return cap_per_source((passage(hit) for hit in ordered), limit, max_per_source)


def payload(chunk: Chunk) -> dict[str, object]:
    return chunk.model_dump(mode="json")
