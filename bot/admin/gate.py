"""The quality gate: a new build goes live only if it finds the expected documents about as well
as the live one does, measured with hit@k on the folder's `questions.yaml`.

The unpublished build is queried directly, so the check runs before the pointer moves and nobody
is ever answered from a worse index. Each build's score is recorded with it (and which question
set it was measured on), so the next gate compares against the live build's recorded score; that
also works when another process (`advisor serve`) owns the live build and this one cannot open it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import IndexLockedError, UserFacingError
from bot.models import Frozen
from bot.retrieval.index.port import IndexInfo, IndexPort, Quality

if TYPE_CHECKING:
    from bot.retrieval.embed import Embedder
    from bot.retrieval.evaluation import QuestionSet

log = logging.getLogger(__name__)

GATE_K = 3
Scorer = Callable[[str], Awaitable[Quality]]
_SEARCH_LIMIT = 10  # deeper than k so the reciprocal rank means something


@dataclass(frozen=True)
class GateQuestions:
    questions: QuestionSet
    digest: str  # sha256 of questions.yaml: scores are comparable only on the same set


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


def load_gate_questions(knowledge_dir: Path) -> GateQuestions | None:
    from bot.retrieval.evaluation import QUESTIONS_FILE, load_questions

    path = knowledge_dir / QUESTIONS_FILE
    if not path.is_file():
        return None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return GateQuestions(questions=load_questions(path), digest=digest)


class QualityGate:
    def __init__(self, index: IndexPort, embedder: Embedder, margin: float) -> None:
        self._index = index
        self._embedder = embedder
        self.margin = margin

    async def check(self, candidate: str, gate: GateQuestions) -> GateResult:
        """Score `candidate` against the live build; raise QualityGateError on a regression."""
        from bot.retrieval import sparse
        from bot.retrieval.evaluation import evaluate

        vectors: dict[str, list[float]] = {}

        async def score(build: str) -> Quality:
            async def search(text: str) -> list[str]:
                if text not in vectors:  # each question is embedded once for both builds
                    vectors[text] = await self._embedder.embed_query(text)
                hits = await self._index.search(
                    vectors[text], sparse.query_vector(text), _SEARCH_LIMIT, build=build
                )
                return [passage.chunk.source for passage in hits.passages]

            result = await evaluate(search, gate.questions, k=GATE_K)
            quality = Quality(k=GATE_K, hit_at_k=result.hit_at_k, mrr=result.mrr,
                              questions_digest=gate.digest)  # fmt: skip
            await self._index.record_quality(build, quality)
            misses[build] = result.misses
            return quality

        misses: dict[str, tuple[str, ...]] = {}
        candidate_quality = await score(candidate)
        live = await self._index.live()
        live_hit = await self._live_hit(live, candidate, gate, score)
        result = GateResult(
            questions=len(gate.questions.questions),
            k=GATE_K,
            margin=self.margin,
            candidate_hit=candidate_quality.hit_at_k,
            live_hit=live_hit,
            misses=misses[candidate],
        )
        log.info(
            "quality gate: candidate hit@%d %.3f, live %s, passed=%s",
            GATE_K, result.candidate_hit,
            "n/a" if live_hit is None else f"{live_hit:.3f}", result.passed,
        )  # fmt: skip
        if not result.passed:
            raise QualityGateError(result)
        return result

    async def _live_hit(
        self, live: IndexInfo | None, candidate: str, gate: GateQuestions, score: Scorer
    ) -> float | None:
        if live is None or live.build == candidate:
            return None
        if live.embedder != self._embedder.name:
            log.info("quality gate: live index uses %s, not compared", live.embedder)
            return None
        recorded = live.quality
        if (
            recorded is not None
            and recorded.k == GATE_K
            and recorded.questions_digest == gate.digest
        ):
            return recorded.hit_at_k
        try:
            measured = await score(live.build)
        except IndexLockedError:
            raise UserFacingError(
                "The live index has no recorded score for this questions.yaml, and it is in use "
                "by another advisor process, so the new index cannot be compared with it. "
                "Run the reindex through that process (`/finetune-admin reindex`) or stop it."
            ) from None
        return measured.hit_at_k
