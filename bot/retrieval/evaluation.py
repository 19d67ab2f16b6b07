"""Retrieval quality on a question set: hit@k, MRR, fact-hit@3 and the no-match rate.

A question set names, for each question, the documents that answer it and optionally phrases
the answering passage must contain. `advisor eval`, `make bench`, the tests and the reindex
quality gate all score with the functions here; the metric logic is pure (ranked hits in,
figures out) so any index behind a `retrieve` function can be measured.

File formats (both UTF-8):
- YAML: `questions:` a list of {question, expected: [source, ...], phrases: [...],
  paraphrased: bool}; optional `off_topic:` a list of questions the guidance must not answer.
- JSON Lines (`.jsonl`): one object per line with the same keys; a line
  `{"question": ..., "off_topic": true}` is an off-topic question.
`expected` holds source paths relative to the folder (as citations show them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError

from bot.errors import UserFacingError
from bot.models import Frozen
from bot.retrieval.retriever import Retrieval, SearchMode

QUESTIONS_FILE = "questions.yaml"
KS = (1, 3, 5)
FACT_K = 3


class EvalQuestion(Frozen):
    question: str = Field(min_length=3)
    expected: tuple[str, ...] = Field(min_length=1)
    phrases: tuple[str, ...] = ()  # any one of them in a top-3 passage of an expected source
    paraphrased: bool = False


class QuestionSet(Frozen):
    questions: tuple[EvalQuestion, ...] = Field(min_length=1)
    off_topic: tuple[str, ...] = ()


class EvalResult(Frozen):
    questions: int
    hit_at_k: float
    mrr: float
    k: int
    misses: tuple[str, ...]  # questions with no expected document in the top k


class Hit(Frozen):
    """One ranked passage as the metrics see it."""

    source: str
    text: str


class ModeReport(Frozen):
    mode: str
    questions: int
    hit_at: dict[int, float]
    mrr: float
    fact_questions: int  # questions that name phrases
    fact_hit_at_3: float | None
    misses: tuple[str, ...]  # no expected document in the top 3
    fact_misses: tuple[str, ...]  # no top-3 passage of an expected document has a phrase


class EvalReport(Frozen):
    questions: int
    paraphrased: int
    modes: tuple[ModeReport, ...]
    refused: tuple[str, ...]  # on-topic questions the answer path would call not covered
    no_match_rate: float
    off_topic: int
    off_topic_answered: tuple[str, ...]
    reranker: str | None = None  # the service that reordered the hybrid results, if any

    def mode(self, name: str) -> ModeReport:
        return next(report for report in self.modes if report.mode == name)


# --- loading -------------------------------------------------------------------------------


def _from_json_lines(text: str, path: Path) -> dict[str, Any]:
    questions: list[object] = []
    off_topic: list[object] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserFacingError(f"{path} line {number} is not JSON: {exc.msg}") from None
        if isinstance(item, dict) and item.get("off_topic") is True:
            off_topic.append(item.get("question"))
        else:
            questions.append(item)
    return {"questions": questions, "off_topic": off_topic}


def load_questions(path: Path) -> QuestionSet:
    try:
        text = path.read_text(encoding="utf-8")
        raw: object = (
            _from_json_lines(text, path) if path.suffix == ".jsonl" else yaml.safe_load(text)
        )
        if isinstance(raw, list):
            raw = {"questions": raw}
        return QuestionSet.model_validate(raw)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValidationError) as exc:
        raise UserFacingError(f"Cannot read the question set {path}: {exc}") from None


# --- pure metrics --------------------------------------------------------------------------

_QUOTES = str.maketrans("‘’“”–—", "''\"\"--")


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip().casefold()


def first_hit_rank(sources: Sequence[str], expected: Sequence[str]) -> int | None:
    """1-based rank of the first source that is one of the expected documents."""
    for rank, source in enumerate(sources, start=1):
        if source in expected:
            return rank
    return None


def fact_rank(hits: Sequence[Hit], question: EvalQuestion) -> int | None:
    """1-based rank of the first passage of an expected document holding an expected phrase."""
    phrases = [_normalise(p) for p in question.phrases]
    for rank, hit in enumerate(hits, start=1):
        if hit.source in question.expected and any(p in _normalise(hit.text) for p in phrases):
            return rank
    return None


def score(ranked_sources: Sequence[Sequence[str]], questions: QuestionSet, k: int) -> EvalResult:
    hits = 0
    reciprocal = 0.0
    misses = []
    for sources, item in zip(ranked_sources, questions.questions, strict=True):
        rank = first_hit_rank(sources, item.expected)
        if rank is not None:
            reciprocal += 1.0 / rank
        if rank is not None and rank <= k:
            hits += 1
        else:
            misses.append(item.question)
    total = len(questions.questions)
    return EvalResult(
        questions=total,
        hit_at_k=hits / total,
        mrr=reciprocal / total,
        k=k,
        misses=tuple(misses),
    )


def score_mode(mode: str, ranked: Sequence[Sequence[Hit]], questions: QuestionSet) -> ModeReport:
    """Every metric for one search mode from the ranked passages of each question."""
    items = questions.questions
    ranks = [
        first_hit_rank([h.source for h in hits], q.expected)
        for hits, q in zip(ranked, items, strict=True)
    ]
    with_phrases = [(hits, q) for hits, q in zip(ranked, items, strict=True) if q.phrases]
    fact_misses = tuple(
        q.question for hits, q in with_phrases if (fact_rank(hits[:FACT_K], q) is None)
    )
    total = len(items)
    return ModeReport(
        mode=mode,
        questions=total,
        hit_at={k: sum(r is not None and r <= k for r in ranks) / total for k in KS},
        mrr=sum(1.0 / r for r in ranks if r is not None) / total,
        fact_questions=len(with_phrases),
        fact_hit_at_3=(1 - len(fact_misses) / len(with_phrases)) if with_phrases else None,
        misses=tuple(q.question for r, q in zip(ranks, items, strict=True) if not r or r > 3),
        fact_misses=fact_misses,
    )


# --- running against an index ---------------------------------------------------------------

Retrieve = Callable[[str, int, SearchMode], Awaitable[Retrieval]]
Covered = Callable[[str, Retrieval], bool]
SEARCH_DEPTH = 10  # deeper than any k so the reciprocal rank means something
MODES: tuple[SearchMode, ...] = ("hybrid", "dense", "sparse")


def hits_of(retrieval: Retrieval) -> list[Hit]:
    return [Hit(source=p.chunk.source, text=p.chunk.text) for p in retrieval.passages]


async def run_eval(
    retrieve: Retrieve, covered: Covered, questions: QuestionSet, answer_limit: int
) -> EvalReport:
    """Score hybrid, dense and sparse search, and the no-match decision of the answer path
    (`covered` on a hybrid retrieval of `answer_limit` passages, as answering does it)."""
    modes = []
    for mode in MODES:
        ranked = [
            hits_of(await retrieve(q.question, SEARCH_DEPTH, mode)) for q in questions.questions
        ]
        modes.append(score_mode(mode, ranked, questions))
    refused = []
    for item in questions.questions:
        if not covered(item.question, await retrieve(item.question, answer_limit, "hybrid")):
            refused.append(item.question)
    answered_off_topic = []
    for text in questions.off_topic:
        if covered(text, await retrieve(text, answer_limit, "hybrid")):
            answered_off_topic.append(text)
    total = len(questions.questions)
    return EvalReport(
        questions=total,
        paraphrased=sum(q.paraphrased for q in questions.questions),
        modes=tuple(modes),
        refused=tuple(refused),
        no_match_rate=len(refused) / total,
        off_topic=len(questions.off_topic),
        off_topic_answered=tuple(answered_off_topic),
    )


async def evaluate(
    search: Callable[[str], Awaitable[Sequence[str]]], questions: QuestionSet, k: int = 3
) -> EvalResult:
    """`search` returns the ranked source paths for one question (any depth; MRR uses all)."""
    ranked = [await search(item.question) for item in questions.questions]
    return score(ranked, questions, k)
