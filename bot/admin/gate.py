"""The quality gate: a new collection goes live only if it finds the expected documents about as
well as the live one does, measured with hit@k on the folder's `questions.yaml`.

The unpublished collection is queried directly (a `KnowledgeStore` whose alias is the collection
name), so the check runs before the alias moves and nobody is ever answered from a worse index.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.errors import UserFacingError
from bot.models import Frozen
from bot.retrieval import sparse
from bot.retrieval.embed import Embedder
from bot.retrieval.evaluation import QUESTIONS_FILE, QuestionSet, evaluate, load_questions
from bot.retrieval.store import KnowledgeStore

log = logging.getLogger(__name__)

GATE_K = 3
_SEARCH_LIMIT = 10  # deeper than k so the reciprocal rank means something


class GateResult(Frozen):
    questions: int
    k: int
    margin: float
    candidate_hit: float
    live_hit: float | None  # None: nothing comparable is live (first build, other embedder)
    misses: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.live_hit is None or self.candidate_hit >= self.live_hit - self.margin


class QualityGateError(UserFacingError):
    def __init__(self, result: GateResult) -> None:
        self.result = result
        super().__init__(
            f"The new index scored hit@{result.k} {result.candidate_hit:.2f} against "
            f"{result.live_hit or 0.0:.2f} for the live one (allowed drop {result.margin:.2f}), "
            "so it was not published. The previous index is still answering."
        )


def load_gate_questions(knowledge_dir: Path) -> QuestionSet | None:
    path = knowledge_dir / QUESTIONS_FILE
    return load_questions(path) if path.is_file() else None


class QualityGate:
    def __init__(self, store: KnowledgeStore, embedder: Embedder, margin: float) -> None:
        self._store = store
        self._embedder = embedder
        self.margin = margin

    async def check(self, candidate: str, questions: QuestionSet) -> GateResult:
        """Score `candidate` and the live index; raise QualityGateError on a regression."""
        vectors: dict[str, list[float]] = {}

        async def query_vector(text: str) -> list[float]:
            # Each question is embedded once and reused for both collections.
            if text not in vectors:
                vectors[text] = await self._embedder.embed_query(text)
            return vectors[text]

        async def score(collection: str) -> tuple[float, tuple[str, ...]]:
            target = KnowledgeStore(self._store.client, collection)

            async def search(text: str) -> list[str]:
                passages = await target.search(
                    await query_vector(text), sparse.query_vector(text), _SEARCH_LIMIT
                )
                return [passage.chunk.source for passage in passages]

            result = await evaluate(search, questions, k=GATE_K)
            return result.hit_at_k, result.misses

        candidate_hit, misses = await score(candidate)
        live_hit = None
        live = await self._store.info()
        if live is not None and live.collection != candidate:
            if live.embedder == self._embedder.name:
                live_hit, _ = await score(live.collection)
            else:
                log.info("quality gate: live index uses %s, not compared", live.embedder)
        result = GateResult(
            questions=len(questions.questions),
            k=GATE_K,
            margin=self.margin,
            candidate_hit=candidate_hit,
            live_hit=live_hit,
            misses=misses,
        )
        log.info(
            "quality gate: candidate hit@%d %.3f, live %s, passed=%s",
            GATE_K,
            candidate_hit,
            "n/a" if live_hit is None else f"{live_hit:.3f}",
            result.passed,
        )
        if not result.passed:
            raise QualityGateError(result)
        return result
