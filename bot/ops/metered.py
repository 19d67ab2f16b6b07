"""Engine parts that also record metrics, built in the composition root instead of the plain ones.

Subclasses rather than calls sprinkled through the engine: the retriever sees every query's best
similarity (including questions that end as no_match) and the feedback store sees every vote.
"""

from __future__ import annotations

from redis.asyncio import Redis

from bot.memory.feedback import AnswerRecord, FeedbackRecord, FeedbackStore, OnFeedback, Rating
from bot.ops.metrics import Metrics
from bot.retrieval.embed import Embedder
from bot.retrieval.index.port import IndexPort
from bot.retrieval.rerank import Reranker
from bot.retrieval.retriever import RerankOutcome, Retrieval, Retriever, SearchMode


class MeteredRetriever(Retriever):
    def __init__(
        self,
        index: IndexPort,
        embedder: Embedder,
        top_k: int,
        *,
        metrics: Metrics,
        reranker: Reranker | None = None,
        rerank_candidates: int = 20,
    ) -> None:
        super().__init__(
            index, embedder, top_k, reranker=reranker, rerank_candidates=rerank_candidates
        )
        self.metrics = metrics

    async def retrieve(
        self, text: str, limit: int | None = None, mode: SearchMode = "hybrid"
    ) -> Retrieval:
        retrieval = await super().retrieve(text, limit, mode)
        self.metrics.observe_similarity(retrieval.best_similarity)
        return retrieval

    def on_rerank(self, outcome: RerankOutcome) -> None:
        self.metrics.count_rerank(outcome)


class MeteredFeedbackStore(FeedbackStore):
    def __init__(
        self,
        redis: Redis,
        *,
        metrics: Metrics,
        on_record: OnFeedback | None = None,
        **options: int,
    ) -> None:
        super().__init__(redis, on_record=on_record, **options)
        self.metrics = metrics

    async def record(
        self, answer: AnswerRecord, *, user_id: str, rating: Rating, reason: str | None = None
    ) -> FeedbackRecord:
        recorded = await super().record(answer, user_id=user_id, rating=rating, reason=reason)
        self.metrics.count_feedback(rating)
        return recorded
