"""Engine transitions, progress, errors naming ids, determinism and the result's explanations."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checklist import engine
from bot.checklist.definition import Checklist, ChecklistError
from bot.checklist.known import Known
from bot.checklist.loader import load_checklist
from bot.checklist.scoring import consistent_answers, recommend

CHECKLIST = load_checklist(Path(__file__).resolve().parents[2] / "knowledge" / "checklist.yaml")

BRAND_VOICE = {
    "failure_type": "behaviour",
    "reasoning_gap": "no",
    "task_stability": "stable",
    "examples": "tens",
    "label_quality": "curated",
    "prompting_tried": "not_tried",
    "rag_tried": "not_needed",
    "eval_set": "informal",
    "output_structure": "light",
    "volume_pressure": "low",
    "stakes": "moderate",
    "team_capacity": "managed",
}


def test_start_asks_the_first_question() -> None:
    session = engine.start(CHECKLIST)
    assert engine.current_question(CHECKLIST, session).id == "failure_type"  # type: ignore[union-attr]
    assert engine.progress(CHECKLIST, session) == engine.Progress(answered=0, total=11)


def test_ask_if_changes_the_questions_and_the_total() -> None:
    session = engine.answer(CHECKLIST, engine.start(CHECKLIST), "failure_type", "knowledge", "U1")
    assert engine.current_question(CHECKLIST, session).id == "knowledge_change"  # type: ignore[union-attr]
    assert engine.progress(CHECKLIST, session) == engine.Progress(answered=1, total=12)
    assert session.answers[0].user_id == "U1"
    assert session.revision == 1


def test_back_removes_the_last_answer_and_is_a_no_op_at_the_start() -> None:
    start = engine.start(CHECKLIST)
    assert engine.back(CHECKLIST, start) == start
    one = engine.answer(CHECKLIST, start, "failure_type", "knowledge")
    two = engine.answer(CHECKLIST, one, "knowledge_change", "daily")
    back = engine.back(CHECKLIST, two)
    assert back.answers == one.answers
    assert back.revision == 3
    assert engine.current_question(CHECKLIST, back).id == "knowledge_change"  # type: ignore[union-attr]


def test_restart_clears_answers_but_keeps_counting_revisions() -> None:
    session = engine.answer_all(CHECKLIST, BRAND_VOICE)
    again = engine.restart(CHECKLIST, session)
    assert again.answers == ()
    assert again.revision == session.revision + 1
    assert engine.progress(CHECKLIST, again).answered == 0


@pytest.mark.parametrize(
    ("question", "option", "fragment"),
    [
        ("nope", "x", "unknown question id 'nope'"),
        ("failure_type", "facts", "unknown option id 'facts' for question 'failure_type'"),
        ("examples", "tens", "question 'examples' is not the current one; expected 'failure_type'"),
    ],
)
def test_bad_answers_name_the_id(question: str, option: str, fragment: str) -> None:
    with pytest.raises(ChecklistError) as caught:
        engine.answer(CHECKLIST, engine.start(CHECKLIST), question, option)
    assert fragment in caught.value.message


def test_answering_twice_is_refused() -> None:
    session = engine.answer(CHECKLIST, engine.start(CHECKLIST), "failure_type", "behaviour")
    with pytest.raises(ChecklistError, match="already answered"):
        engine.answer(CHECKLIST, session, "failure_type", "knowledge")


def test_result_needs_a_complete_session() -> None:
    with pytest.raises(ChecklistError, match="'failure_type' is unanswered"):
        engine.result(CHECKLIST, engine.start(CHECKLIST))


def test_session_from_another_version_is_refused() -> None:
    stale = engine.Session(checklist_version="old")
    with pytest.raises(ChecklistError, match="version 'old'"):
        engine.current_question(CHECKLIST, stale)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"colour": "blue"}, "unknown question id(s): 'colour'"),
        ({"examples": None}, "missing answer for question 'examples'"),
        ({"knowledge_change": "daily"}, "'knowledge_change' do not apply"),
        ({"eval_set": "maybe"}, "unknown option id 'maybe' for question 'eval_set'"),
    ],
)
def test_answer_all_names_missing_unknown_and_inapplicable_ids(
    change: dict[str, str | None], fragment: str
) -> None:
    answers = {**BRAND_VOICE, **change}
    answers = {k: v for k, v in answers.items() if v is not None}
    with pytest.raises(ChecklistError) as caught:
        engine.answer_all(CHECKLIST, answers)  # type: ignore[arg-type]
    assert fragment in caught.value.message


def test_result_explains_itself() -> None:
    result = engine.result(CHECKLIST, engine.answer_all(CHECKLIST, BRAND_VOICE, user_id="U9"))
    assert result.recommendation == "prompting_first"
    scores = {s.outcome_id: s.score for s in result.scores}
    assert result.margin == scores[result.recommendation] - scores[result.runner_up]
    assert result.margin >= 0
    assert [a.question_id for a in result.answers] == list(BRAND_VOICE)
    assert {a.user_id for a in result.answers} == {"U9"}
    assert result.deciding_answers[0].question_id == "examples"
    assert all(r.points > 0 and r.cites and r.because for r in result.reasons)
    assert result.next_steps == CHECKLIST.outcome("prompting_first").next_steps
    flip = next(f for f in result.what_would_change if f.question_id == "prompting_tried")
    assert (flip.to_option_id, flip.new_recommendation) == ("falls_short", "not_yet")


def test_every_reported_flip_really_flips_and_no_flip_is_missed() -> None:
    answers = engine.answer_all(CHECKLIST, BRAND_VOICE).answer_map()
    result = engine.result(CHECKLIST, engine.answer_all(CHECKLIST, BRAND_VOICE))
    reported = {(f.question_id, f.to_option_id) for f in result.what_would_change}
    for question_id, chosen in answers.items():
        for option in CHECKLIST.question(question_id).options:  # type: ignore[union-attr]
            if option.id == chosen:
                continue
            changed = consistent_answers(CHECKLIST, {**answers, question_id: option.id})
            flips = recommend(CHECKLIST, Known(CHECKLIST, changed)) != result.recommendation
            assert ((question_id, option.id) in reported) == flips


def test_ties_go_to_the_outcome_listed_first() -> None:
    scores = {o.id: 0 for o in CHECKLIST.outcomes}
    from bot.checklist.scoring import rank

    assert rank(CHECKLIST, scores)[0] == CHECKLIST.outcomes[0].id
    scores["hybrid"] = scores["not_yet"] = 5
    assert rank(CHECKLIST, scores)[:2] == ["not_yet", "hybrid"]


def _random_session(checklist: Checklist, picks: list[int]) -> engine.Session:
    session = engine.start(checklist)
    for pick in picks:
        question = engine.current_question(checklist, session)
        if question is None:
            break
        option = question.options[pick % len(question.options)]
        session = engine.answer(checklist, session, question.id, option.id)
    return session


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=9), min_size=14, max_size=14))
def test_any_complete_path_gives_a_deterministic_json_result(picks: list[int]) -> None:
    session = _random_session(CHECKLIST, picks)
    assert engine.is_complete(CHECKLIST, session)
    first = engine.result(CHECKLIST, session)
    assert first.model_dump_json() == engine.result(CHECKLIST, session).model_dump_json()
    assert type(first).model_validate_json(first.model_dump_json()) == first
    progress = engine.progress(CHECKLIST, session)
    assert progress.answered == progress.total
