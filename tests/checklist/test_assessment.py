"""Partial assessment: verdicts from a few facts, unknown prerequisites blocking, what to ask
next, and `decided` checked against a brute-force walk over every completion."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checklist.assessment import Assessment, Fact, assess
from bot.checklist.known import Known
from bot.checklist.loader import load_checklist
from bot.checklist.scoring import recommend

CHECKLIST = load_checklist(Path(__file__).resolve().parents[2] / "knowledge" / "checklist.yaml")


def facts(**answers: str) -> list[Fact]:
    return [Fact(question_id=q, option_id=o) for q, o in answers.items()]


TRAINING_READY = {
    "failure_type": "behaviour",
    "prompting_tried": "falls_short",
    "examples": "thousands",
    "label_quality": "curated",
    "eval_set": "yes",
    "output_structure": "strict",
}


@pytest.mark.parametrize(
    ("answers", "outcome"),
    [
        ({"failure_type": "behaviour", "examples": "tens"}, "prompting_first"),
        (
            {"failure_type": "knowledge", "knowledge_change": "monthly", "examples": "none"},
            "prompting_rag",
        ),
        (TRAINING_READY, "fine_tune_peft"),
        ({**TRAINING_READY, "eval_set": "none"}, "not_yet"),
        (
            {"prompting_tried": "not_measured", "eval_set": "none", "failure_type": "unclear"},
            "not_yet",
        ),
    ],
)
def test_partial_facts_give_a_verdict(answers: dict[str, str], outcome: str) -> None:
    assessment = assess(CHECKLIST, facts(**answers))
    assert assessment.outcome == outcome
    assert assessment.label == CHECKLIST.outcome(outcome).label
    assert assessment.confidence == "provisional"
    assert [f.question_id for f in assessment.facts] == [
        q.id for q in CHECKLIST.questions if q.id in answers
    ]


def test_an_unknown_prerequisite_blocks_training_and_leads_the_questions() -> None:
    without_eval = {k: v for k, v in TRAINING_READY.items() if k != "eval_set"}
    assessment = assess(CHECKLIST, facts(**without_eval))
    assert assessment.outcome not in ("fine_tune_peft", "hybrid")
    blocked = {b.outcome: b for b in assessment.blocked}
    reason = next(
        r
        for r in blocked["fine_tune_peft"].reasons
        if r.prerequisite_id == "evaluation_set_before_training"
    )
    assert reason.status == "unknown"
    assert assessment.missing[0] == "eval_set"


def test_an_unknown_condition_of_a_prerequisite_does_not_block_but_is_asked() -> None:
    # Nothing says the data is regulated, so governance does not hold training back yet, but
    # whether it is regulated is among the questions that could change the verdict.
    assessment = assess(CHECKLIST, facts(**TRAINING_READY))
    assert assessment.outcome == "fine_tune_peft"
    assert "stakes" in assessment.missing
    assert assessment.blocked == ()


def test_every_question_answered_is_decided_with_nothing_missing() -> None:
    complete = {
        **TRAINING_READY,
        "reasoning_gap": "no",
        "task_stability": "stable",
        "rag_tried": "not_needed",
        "volume_pressure": "high",
        "stakes": "low",
        "team_capacity": "in_house",
    }
    assessment = assess(CHECKLIST, facts(**complete))
    assert (assessment.outcome, assessment.confidence, assessment.missing) == (
        "fine_tune_peft",
        "decided",
        (),
    )


def test_later_facts_replace_earlier_ones_and_inapplicable_ones_are_dropped() -> None:
    assessment = assess(
        CHECKLIST,
        [
            Fact(question_id="examples", option_id="tens", evidence="50 posts"),
            Fact(question_id="failure_type", option_id="behaviour"),
            Fact(question_id="knowledge_change", option_id="daily"),  # applies to knowledge only
            Fact(question_id="examples", option_id="hundreds", evidence="now 400"),
        ],
    )
    kept = {f.question_id: f for f in assessment.facts}
    assert kept["examples"].option_id == "hundreds" and kept["examples"].evidence == "now 400"
    assert "knowledge_change" not in kept


def test_no_facts_is_provisional_prompting_first() -> None:
    assessment = assess(CHECKLIST, [])
    assert assessment.outcome == "prompting_first"  # the cheapest outcome wins a tie
    assert assessment.confidence == "provisional"
    assert assessment.missing


# -- `decided` is exact: compare with a walk over every completion ---------------------------


def completions(answers: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """Every complete answer set that extends `answers`, as the checklist would ask it."""

    def walk(index: int, chosen: dict[str, str]) -> Iterator[dict[str, str]]:
        if index == len(CHECKLIST.questions):
            yield chosen
            return
        question = CHECKLIST.questions[index]
        if question.ask_if is not None and not question.ask_if.matches(chosen):
            yield from walk(index + 1, chosen)
        elif question.id in answers:
            yield from walk(index + 1, {**chosen, question.id: answers[question.id]})
        else:
            for option in question.options:
                yield from walk(index + 1, {**chosen, question.id: option.id})

    yield from walk(0, {})


def brute_force_decided(assessment: Assessment) -> bool:
    known = {f.question_id: f.option_id for f in assessment.facts}
    return all(
        recommend(CHECKLIST, Known(CHECKLIST, answers)) == assessment.outcome
        for answers in completions(known)
    )


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=59), min_size=14, max_size=14),
    st.sets(st.integers(min_value=0, max_value=13), min_size=0, max_size=5),
)
def test_decided_means_no_completion_changes_the_outcome(
    picks: list[int], forgotten: set[int]
) -> None:
    answers: dict[str, str] = {}
    for question, pick in zip(CHECKLIST.questions, picks, strict=True):
        if question.ask_if is None or question.ask_if.matches(answers):
            answers[question.id] = question.options[pick % len(question.options)].id
    partial = {
        q.id: answers[q.id]
        for index, q in enumerate(CHECKLIST.questions)
        if q.id in answers and index not in forgotten
    }
    assessment = assess(CHECKLIST, facts(**partial))
    assert (assessment.confidence == "decided") == brute_force_decided(assessment)
    if assessment.confidence == "decided":
        assert assessment.missing == ()
