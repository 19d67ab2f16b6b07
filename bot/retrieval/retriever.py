"""Query side of retrieval: embed the question, run one hybrid query, check the index fits, and
let the reranker (when one is configured) reorder the fused top."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Literal

from bot.models import Frozen, Passage
from bot.retrieval import sparse
from bot.retrieval.embed import Embedder
from bot.retrieval.index.port import (
    IndexInfo,
    IndexPort,
    SearchMode,
    check_embedder,
    require_live,
)
from bot.retrieval.index.shaping import cap_per_source
from bot.retrieval.represent import embedding_text
from bot.retrieval.rerank import Reranker, RerankError

__all__ = ["RerankOutcome", "Retrieval", "Retriever", "SearchMode"]

log = logging.getLogger(__name__)

RerankOutcome = Literal["reranked", "failed"]


class Retrieval(Frozen):
    passages: tuple[Passage, ...]
    index_version: str

    @property
    def best_similarity(self) -> float:
        return max((p.similarity for p in self.passages), default=0.0)


class Retriever:
    # The live index's embedder is checked at most this often (a server lookup is two calls).
    # The version reported with each answer comes from the query itself, so a newly published
    # build is named from its first answer.
    INFO_TTL_SECONDS = 5.0

    def __init__(
        self,
        index: IndexPort,
        embedder: Embedder,
        top_k: int,
        *,
        reranker: Reranker | None = None,
        rerank_candidates: int = 20,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.top_k = top_k
        self.reranker = reranker
        self.rerank_candidates = rerank_candidates
        self._info: IndexInfo | None = None
        self._info_at = 0.0
        self._info_lock = asyncio.Lock()

    async def live_info(self) -> IndexInfo:
        async with self._info_lock:
            if self._info is None or time.monotonic() - self._info_at > self.INFO_TTL_SECONDS:
                self._info = await require_live(self.index, self.embedder.name)
                self._info_at = time.monotonic()
            return self._info

    def forget_info(self) -> None:
        self._info = None

    async def retrieve(
        self, text: str, limit: int | None = None, mode: SearchMode = "hybrid"
    ) -> Retrieval:
        """The top passages for `text`. Hybrid queries (what answers use) go through the
        reranker when there is one; dense and sparse stay raw, for `advisor eval`."""
        limit = limit or self.top_k
        _, dense = await asyncio.gather(self.live_info(), self.embedder.embed_query(text))
        if self.reranker is None or mode != "hybrid":
            hits = await self.index.search(dense, sparse.query_vector(text), limit, mode=mode)
            check_embedder(hits.info, self.embedder.name)
            return Retrieval(passages=hits.passages, index_version=hits.info.version)
        # The reranker sees the fused top uncapped; the per-document cap applies to its order.
        candidates = max(limit, self.rerank_candidates)
        hits = await self.index.search(
            dense, sparse.query_vector(text), candidates, mode=mode, max_per_source=candidates
        )
        check_embedder(hits.info, self.embedder.name)
        ordered = await self._rerank(self.reranker, text, hits.passages)
        return Retrieval(
            passages=tuple(cap_per_source(ordered, limit)), index_version=hits.info.version
        )

    async def _rerank(
        self, reranker: Reranker, text: str, passages: tuple[Passage, ...]
    ) -> list[Passage]:
        # Title and heading path go with the text: they often name what a passage is about.
        documents = [embedding_text(p.chunk, heading_weight=1) for p in passages]
        try:
            order = await reranker.order(text, documents)
        except RerankError as exc:
            log.warning("Reranker %s failed (%s); the fused order is used", reranker.name, exc)
            self.on_rerank("failed")
            return list(passages)
        self.on_rerank("reranked")
        return [passages[i] for i in order]

    def on_rerank(self, outcome: RerankOutcome) -> None:
        """Called after every rerank attempt; the metered retriever counts them."""

    async def aclose(self) -> None:
        if self.reranker is not None:
            await self.reranker.aclose()
