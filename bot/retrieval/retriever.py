"""Query side of retrieval: embed the question, run one hybrid query, check the index fits."""

from __future__ import annotations

import asyncio
import time

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

__all__ = ["Retrieval", "Retriever", "SearchMode"]


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

    def __init__(self, index: IndexPort, embedder: Embedder, top_k: int) -> None:
        self.index = index
        self.embedder = embedder
        self.top_k = top_k
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
        _, dense = await asyncio.gather(self.live_info(), self.embedder.embed_query(text))
        hits = await self.index.search(
            dense, sparse.query_vector(text), limit or self.top_k, mode=mode
        )
        check_embedder(hits.info, self.embedder.name)
        return Retrieval(passages=hits.passages, index_version=hits.info.version)
