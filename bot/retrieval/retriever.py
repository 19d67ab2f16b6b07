"""Query side of retrieval: embed the question, run one hybrid query, check the index fits."""

from __future__ import annotations

import asyncio
import time
from typing import Literal

from bot.models import Frozen, Passage
from bot.retrieval import sparse
from bot.retrieval.embed import Embedder
from bot.retrieval.store import IndexInfo, KnowledgeStore

SearchMode = Literal["hybrid", "dense", "sparse"]


class Retrieval(Frozen):
    passages: tuple[Passage, ...]
    index_version: str

    @property
    def best_similarity(self) -> float:
        return max((p.similarity for p in self.passages), default=0.0)


class Retriever:
    # The live index is checked at most this often: a reindex is picked up within seconds
    # without three extra Qdrant calls on every question.
    INFO_TTL_SECONDS = 5.0

    def __init__(self, store: KnowledgeStore, embedder: Embedder, top_k: int) -> None:
        self.store = store
        self.embedder = embedder
        self.top_k = top_k
        self._info: IndexInfo | None = None
        self._info_at = 0.0
        self._info_lock = asyncio.Lock()

    async def live_info(self) -> IndexInfo:
        async with self._info_lock:
            if self._info is None or time.monotonic() - self._info_at > self.INFO_TTL_SECONDS:
                self._info = await self.store.require_live(self.embedder.name)
                self._info_at = time.monotonic()
            return self._info

    def forget_info(self) -> None:
        self._info = None

    async def retrieve(
        self, text: str, limit: int | None = None, mode: SearchMode = "hybrid"
    ) -> Retrieval:
        info, dense = await asyncio.gather(self.live_info(), self.embedder.embed_query(text))
        passages = await self.store.search(
            dense, sparse.query_vector(text), limit or self.top_k, mode=mode
        )
        return Retrieval(passages=tuple(passages), index_version=info.version)
