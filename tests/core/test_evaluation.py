from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import UserFacingError
from bot.models import Chunk, Passage
from bot.retrieval.evaluation import (
    SEARCH_DEPTH,
    EvalQuestion,
    Hit,
    QuestionSet,
    fact_rank,
    first_hit_rank,
    load_questions,
    run_eval,
    score,
    score_mode,
)
from bot.retrieval.retriever import Retrieval, SearchMode


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


def _set(*items: EvalQuestion) -> QuestionSet:
    return QuestionSet(questions=items)


def test_score_mode_reports_hits_mrr_and_fact_hits() -> None:
    questions = _set(
        EvalQuestion(question="q one", expected=("a.md",), phrases=("frozen set",)),
        EvalQuestion(question="q two", expected=("b.md",), phrases=("rank 8", "rank eight")),
        EvalQuestion(question="q three", expected=("c.md",)),  # no phrases: not in fact-hit
        EvalQuestion(question="q four", expected=("d.md",), phrases=("adapter",)),
    )
    ranked = [
        # The right document at rank 1 and its phrase (case and spacing ignored) at rank 2.
        [Hit(source="a.md", text="intro"), Hit(source="a.md", text="Keep a FROZEN\n set.")],
        # The phrase is in a passage of another document: not a fact hit.
        [Hit(source="x.md", text="start at rank 8"), Hit(source="b.md", text="other")],
        [
            Hit(source="x.md", text=""),
            Hit(source="y.md", text=""),
            Hit(source="z.md", text=""),
            Hit(source="c.md", text=""),
        ],
        # The phrase-bearing passage is at rank 4: outside the top 3.
        [
            Hit(source="d.md", text="no"),
            Hit(source="d.md", text="no"),
            Hit(source="x.md", text=""),
            Hit(source="d.md", text="the adapter"),
        ],
    ]
    report = score_mode("hybrid", ranked, questions)
    assert report.hit_at == {1: 0.5, 3: 0.75, 5: 1.0}
    assert report.mrr == pytest.approx((1 + 0.5 + 0.25 + 1) / 4)
    assert report.fact_questions == 3
    assert report.fact_hit_at_3 == pytest.approx(1 / 3)
    assert report.misses == ("q three",)
    assert report.fact_misses == ("q two", "q four")


def test_fact_rank_normalises_quotes_and_dashes() -> None:
    question = EvalQuestion(question="q one", expected=("a.md",), phrases=('the "advanced" one',))
    assert fact_rank([Hit(source="a.md", text="It is the “advanced” one.")], question) == 1


def test_json_lines_and_yaml_lists_load(tmp_path: Path) -> None:
    jsonl = tmp_path / "set.jsonl"
    jsonl.write_text(
        '{"question": "What is LoRA?", "expected": ["lora.md"], "phrases": ["low-rank"]}\n'
        "\n"
        '{"question": "Capital of Australia?", "off_topic": true}\n'
    )
    loaded = load_questions(jsonl)
    assert loaded.questions[0].phrases == ("low-rank",)
    assert loaded.off_topic == ("Capital of Australia?",)
    listed = tmp_path / "set.yaml"
    listed.write_text("- question: What is LoRA?\n  expected: [lora.md]\n")
    assert load_questions(listed).questions[0].expected == ("lora.md",)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("bad.jsonl", '{"question": "ok?", "expected": ["a.md"]}\nnot json\n', "line 2"),
        ("bad.yaml", "questions: [unclosed", "question set"),
        ("missing.yaml", None, "question set"),
    ],
)
def test_bad_files_name_the_problem(
    tmp_path: Path, name: str, content: str | None, problem: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserFacingError, match=problem):
        load_questions(path)


async def test_run_eval_scores_modes_and_the_no_match_decision() -> None:
    chunk = Chunk(source="a.md", title="T", position=0, text="LoRA is low-rank.", content_hash="h")
    passage = Passage(chunk=chunk, score=1.0, similarity=0.5)
    questions = QuestionSet(
        questions=(
            EvalQuestion(question="What is LoRA?", expected=("a.md",), phrases=("low-rank",)),
        ),
        off_topic=("Capital of Australia?",),
    )
    calls: list[tuple[str, int, str]] = []

    async def retrieve(text: str, limit: int, mode: SearchMode) -> Retrieval:
        calls.append((text, limit, mode))
        return Retrieval(passages=(passage,), index_version="v1")

    def covered(text: str, retrieval: Retrieval) -> bool:
        return "LoRA" in text

    report = await run_eval(retrieve, covered, questions, answer_limit=5)
    assert [m.mode for m in report.modes] == ["hybrid", "dense", "sparse"]
    assert report.mode("dense").fact_hit_at_3 == 1.0
    assert report.refused == () and report.no_match_rate == 0.0
    assert report.off_topic_answered == ()
    # Modes search deep (MRR), the no-match check asks exactly what the answer path asks.
    assert ("What is LoRA?", SEARCH_DEPTH, "sparse") in calls
    assert ("What is LoRA?", 5, "hybrid") in calls
    assert ("Capital of Australia?", 5, "hybrid") in calls
