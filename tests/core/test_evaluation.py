from pathlib import Path

import pytest

from bot.errors import UserFacingError
from bot.retrieval.evaluation import (
    EvalQuestion,
    QuestionSet,
    first_hit_rank,
    load_questions,
    score,
)


@pytest.mark.parametrize(
    ("sources", "expected", "rank"),
    [
        (["a.md", "b.md", "c.md"], ["a.md"], 1),
        (["a.md", "b.md", "c.md"], ["c.md", "x.md"], 3),
        (["a.md", "a.md", "b.md"], ["b.md"], 3),
        (["a.md"], ["z.md"], None),
        ([], ["a.md"], None),
    ],
)
def test_first_hit_rank(sources: list[str], expected: list[str], rank: int | None) -> None:
    assert first_hit_rank(sources, expected) == rank


def test_score_counts_hits_within_k_and_reciprocal_ranks() -> None:
    questions = QuestionSet(
        questions=(
            EvalQuestion(question="q one", expected=("a.md",)),
            EvalQuestion(question="q two", expected=("b.md",)),
            EvalQuestion(question="q three", expected=("c.md",)),
            EvalQuestion(question="q four", expected=("d.md",)),
        )
    )
    ranked = [
        ["a.md", "x.md"],  # rank 1
        ["x.md", "b.md"],  # rank 2
        ["x.md", "y.md", "z.md", "c.md"],  # rank 4: outside k=3, still in MRR
        ["x.md"],  # miss
    ]
    result = score(ranked, questions, k=3)
    assert result.hit_at_k == pytest.approx(0.5)
    assert result.mrr == pytest.approx((1 + 0.5 + 0.25 + 0) / 4)
    assert result.misses == ("q three", "q four")


def test_bad_question_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "questions.yaml"
    path.write_text("questions:\n  - question: hi\n    expected: []\n")
    with pytest.raises(UserFacingError, match="question set"):
        load_questions(path)
