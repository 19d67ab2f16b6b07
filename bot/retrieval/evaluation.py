"""Retrieval quality on a question set: hit@k and mean reciprocal rank.

The knowledge folder may hold `questions.yaml` (questions with the documents that answer them).
Tests assert on it, the benchmark compares search modes with it, and a reindex can use it as a
quality gate.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import yaml
from pydantic import Field, ValidationError

from bot.errors import UserFacingError
from bot.models import Frozen

QUESTIONS_FILE = "questions.yaml"


class EvalQuestion(Frozen):
    question: str = Field(min_length=3)
    expected: tuple[str, ...] = Field(min_length=1)
    paraphrased: bool = False


class QuestionSet(Frozen):
    questions: tuple[EvalQuestion, ...] = Field(min_length=1)


class EvalResult(Frozen):
    questions: int
    hit_at_k: float
    mrr: float
    k: int
    misses: tuple[str, ...]  # questions with no expected document in the top k


def load_questions(path: Path) -> QuestionSet:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return QuestionSet.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise UserFacingError(f"Cannot read the question set {path}: {exc}") from None


def first_hit_rank(sources: Sequence[str], expected: Sequence[str]) -> int | None:
    """1-based rank of the first source that is one of the expected documents."""
    for rank, source in enumerate(sources, start=1):
        if source in expected:
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


async def evaluate(
    search: Callable[[str], Awaitable[Sequence[str]]], questions: QuestionSet, k: int = 3
) -> EvalResult:
    """`search` returns the ranked source paths for one question (any depth; MRR uses all)."""
    ranked = [await search(item.question) for item in questions.questions]
    return score(ranked, questions, k)
