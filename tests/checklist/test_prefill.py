"""A checklist started from what a message said: the read answers are applied in order and
marked, the user answers only the rest, any of them can be changed, and the decision record says
which answers were read rather than clicked."""

from __future__ import annotations

import datetime
from pathlib import Path

from bot.checklist import engine
from bot.checklist.assessment import Fact
from bot.checklist.loader import load_checklist
from bot.checklist.record import to_adr_markdown

CHECKLIST = load_checklist(Path(__file__).resolve().parents[2] / "knowledge" / "checklist.yaml")
READ = (
    Fact(question_id="failure_type", option_id="behaviour", evidence="our brand voice"),
    Fact(question_id="examples", option_id="tens", evidence="about 50 example posts"),
    Fact(question_id="colour", option_id="blue", evidence="ignored: no such question"),
)


def test_read_answers_are_applied_until_a_question_was_not_said() -> None:
    session = engine.start(CHECKLIST, READ)
    assert [(a.question_id, a.inferred_from) for a in session.answers] == [
        ("failure_type", "our brand voice")
    ]
    current = engine.current_question(CHECKLIST, session)
    assert current is not None and current.id == "reasoning_gap"
    session = engine.answer(CHECKLIST, session, "reasoning_gap", "no", "U1")
    session = engine.answer(CHECKLIST, session, "task_stability", "stable", "U1")
    # `examples` was read from the message, so it is answered and the next one is asked.
    assert session.answers[-1].question_id == "examples"
    assert session.answers[-1].inferred_from == "about 50 example posts"
    current = engine.current_question(CHECKLIST, session)
    assert current is not None and current.id == "label_quality"


def test_a_read_answer_can_be_changed_by_going_back() -> None:
    session = engine.start(CHECKLIST, READ)
    session = engine.back(CHECKLIST, session)
    current = engine.current_question(CHECKLIST, session)
    assert current is not None and current.id == "failure_type"  # not re-applied at once
    session = engine.answer(CHECKLIST, session, "failure_type", "knowledge", "U2")
    assert session.answers[0].inferred_from is None and session.answers[0].user_id == "U2"


def test_restart_forgets_what_was_read() -> None:
    session = engine.restart(CHECKLIST, engine.start(CHECKLIST, READ))
    assert session.answers == () and session.prefill == ()


def test_the_decision_record_marks_answers_read_from_the_message() -> None:
    session = engine.start(CHECKLIST, READ)
    while (question := engine.current_question(CHECKLIST, session)) is not None:
        session = engine.answer(CHECKLIST, session, question.id, question.options[0].id, "U3")
    result = engine.result(CHECKLIST, session)
    read = {a.question_id: a.inferred_from for a in result.answers if a.inferred_from}
    assert read == {"failure_type": "our brand voice", "examples": "about 50 example posts"}
    record = to_adr_markdown(result, date=datetime.date(2026, 11, 30), index_version="v1")
    assert "*read from the message*: “about 50 example posts”" in record
    assert "| U3 |" in record


def test_newer_facts_fill_the_open_questions_of_an_unfinished_session() -> None:
    session = engine.start(CHECKLIST, READ[:1])
    session = engine.answer(CHECKLIST, session, "reasoning_gap", "no", "U1")
    changed = Fact(question_id="failure_type", option_id="knowledge", evidence="stale facts")
    updated = engine.add_prefill(CHECKLIST, session, (changed, *READ[1:]))
    # What was answered stays; `examples` is filled in when the checklist reaches it.
    assert updated.answers == session.answers
    assert updated.revision == session.revision + 1
    updated = engine.answer(CHECKLIST, updated, "task_stability", "stable", "U1")
    assert updated.answers[-1].inferred_from == "about 50 example posts"
    # Nothing new: the same session, so nothing needs saving.
    assert engine.add_prefill(CHECKLIST, session, READ[:1]).revision == session.revision


def test_a_restart_with_facts_starts_prefilled_and_keeps_counting() -> None:
    earlier = engine.start(CHECKLIST).model_copy(update={"revision": 7})
    session = engine.restart(CHECKLIST, earlier, READ)
    assert session.revision == 8
    assert [a.question_id for a in session.answers] == ["failure_type"]
    assert engine.restart(CHECKLIST, session).answers == ()
