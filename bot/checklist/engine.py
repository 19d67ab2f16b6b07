"""The pure checklist engine: start, answer, back, restart and result over a frozen `Session`.

No I/O and no clock: the same definition and answers always give the same session and result, so
Slack, the terminal and the tests share one code path. Every transition returns a new session
with `revision` bumped, which the Redis store uses for compare-and-set.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field

from bot.checklist.assessment import Fact
from bot.checklist.definition import Checklist, ChecklistError, Frozen, Question
from bot.checklist.scoring import Result, applicable_questions, build_result

__all__ = [
    "Answer",
    "Progress",
    "Result",
    "Session",
    "add_prefill",
    "answer",
    "answer_all",
    "back",
    "current_question",
    "is_complete",
    "progress",
    "restart",
    "result",
    "start",
]


class Answer(Frozen):
    question_id: str
    option_id: str
    user_id: str | None = None  # who clicked, so Slack can show who answered what
    # Set when the answer was read from the user's own words rather than clicked: the words.
    inferred_from: str | None = None


class Session(Frozen):
    checklist_version: str
    revision: int = Field(0, ge=0)
    answers: tuple[Answer, ...] = ()
    # Answers read from a message ("Confirm in the checklist"): applied in order whenever the
    # next question has one, so the user only answers what was not said; each can be changed
    # by going back to it.
    prefill: tuple[Fact, ...] = ()

    def answer_map(self) -> dict[str, str]:
        return {a.question_id: a.option_id for a in self.answers}


class Progress(Frozen):
    answered: int
    total: int  # questions that apply given the answers so far; it can move as answers change


def _check(checklist: Checklist, session: Session) -> None:
    """Refuse sessions started on another definition or whose answers no longer fit it."""
    if session.checklist_version != checklist.version:
        raise ChecklistError(
            f"this checklist session was started on version '{session.checklist_version}' "
            f"but the checklist is now version '{checklist.version}'; please restart it"
        )
    replay: dict[str, str] = {}
    for item in session.answers:
        expected = _next(checklist, replay)
        question = checklist.question(item.question_id)
        if expected is None or question is None or expected.id != item.question_id:
            raise ChecklistError(f"stored answer to '{item.question_id}' is out of order; restart")
        if question.option(item.option_id) is None:
            raise ChecklistError(f"stored option '{item.option_id}' is not valid; restart")
        replay[item.question_id] = item.option_id


def _next(checklist: Checklist, answers: Mapping[str, str]) -> Question | None:
    return next((q for q in applicable_questions(checklist, answers) if q.id not in answers), None)


def start(checklist: Checklist, prefill: tuple[Fact, ...] = ()) -> Session:
    """A new session; `prefill` (facts read from a message) answers what it can at once."""
    session = Session(checklist_version=checklist.version, prefill=_usable(checklist, prefill))
    return _apply_prefill(checklist, session)


def add_prefill(checklist: Checklist, session: Session, prefill: tuple[Fact, ...]) -> Session:
    """An unfinished session with newer facts read from the conversation: they replace its
    prefill and answer the open questions they can. Answers already given are kept as they are."""
    _check(checklist, session)
    updated = _apply_prefill(
        checklist, session.model_copy(update={"prefill": _usable(checklist, prefill)})
    )
    if updated == session:
        return session
    return updated.model_copy(update={"revision": session.revision + 1})


def _usable(checklist: Checklist, prefill: tuple[Fact, ...]) -> tuple[Fact, ...]:
    """The facts that name a question and option of this definition (others are ignored)."""
    return tuple(
        fact
        for fact in prefill
        if (question := checklist.question(fact.question_id)) is not None
        and question.option(fact.option_id) is not None
    )


def _apply_prefill(checklist: Checklist, session: Session) -> Session:
    """Answer the next questions from the prefill for as long as it has them."""
    by_question = {fact.question_id: fact for fact in session.prefill}
    answers = list(session.answers)
    replay = session.answer_map()
    while (question := _next(checklist, replay)) is not None and question.id in by_question:
        fact = by_question[question.id]
        answers.append(
            Answer(
                question_id=question.id,
                option_id=fact.option_id,
                inferred_from=fact.evidence or "read from your message",
            )
        )
        replay[question.id] = fact.option_id
    if len(answers) == len(session.answers):
        return session
    return session.model_copy(update={"answers": tuple(answers)})


def current_question(checklist: Checklist, session: Session) -> Question | None:
    """The next question to ask, or None when every applicable question is answered."""
    _check(checklist, session)
    return _next(checklist, session.answer_map())


def progress(checklist: Checklist, session: Session) -> Progress:
    _check(checklist, session)
    total = len(applicable_questions(checklist, session.answer_map()))
    return Progress(answered=len(session.answers), total=total)


def is_complete(checklist: Checklist, session: Session) -> bool:
    return current_question(checklist, session) is None


def answer(
    checklist: Checklist,
    session: Session,
    question_id: str,
    option_id: str,
    user_id: str | None = None,
) -> Session:
    """Answer the current question. Answering any other question is refused (it names both ids)."""
    question = checklist.question(question_id)
    if question is None:
        raise ChecklistError(f"unknown question id '{question_id}'")
    if question.option(option_id) is None:
        valid = ", ".join(o.id for o in question.options)
        raise ChecklistError(
            f"unknown option id '{option_id}' for question '{question_id}' (valid: {valid})"
        )
    current = current_question(checklist, session)
    if current is None or current.id != question_id:
        if question_id in session.answer_map():
            raise ChecklistError(f"question '{question_id}' is already answered; go back first")
        now = f"'{current.id}'" if current else "nothing (the checklist is complete)"
        raise ChecklistError(f"question '{question_id}' is not the current one; expected {now}")
    item = Answer(question_id=question_id, option_id=option_id, user_id=user_id)
    answered = session.model_copy(
        update={"answers": (*session.answers, item), "revision": session.revision + 1}
    )
    return _apply_prefill(checklist, answered)


def answer_all(
    checklist: Checklist, answers: Mapping[str, str], user_id: str | None = None
) -> Session:
    """Apply a whole question->option mapping (the `--answers FILE` path) in definition order.

    Unknown ids, answers to questions that do not apply and missing answers are errors naming the
    id: silently ignoring any of them would give a recommendation for answers nobody gave.
    """
    unknown = [q for q in answers if checklist.question(q) is None]
    if unknown:
        raise ChecklistError(f"unknown question id(s): {', '.join(map(repr, unknown))}")
    session = start(checklist)
    while (question := current_question(checklist, session)) is not None:
        if question.id not in answers:
            raise ChecklistError(f"missing answer for question '{question.id}': {question.text}")
        session = answer(checklist, session, question.id, answers[question.id], user_id)
    extra = [q for q in answers if q not in session.answer_map()]
    if extra:
        raise ChecklistError(
            f"question(s) {', '.join(map(repr, extra))} do not apply given the other answers; "
            "remove them"
        )
    return session


def back(checklist: Checklist, session: Session) -> Session:
    """Take back the last answer; at the start there is nothing to undo, so nothing changes."""
    _check(checklist, session)
    if not session.answers:
        return session
    return session.model_copy(
        update={"answers": session.answers[:-1], "revision": session.revision + 1}
    )


def restart(checklist: Checklist, session: Session, prefill: tuple[Fact, ...] = ()) -> Session:
    """Clear every answer, the ones read from a message included (a restart is a blank
    checklist unless `prefill` gives newly read facts, as `start` does). The revision keeps
    growing so a stale click cannot overwrite it."""
    return start(checklist, prefill).model_copy(update={"revision": session.revision + 1})


def result(checklist: Checklist, session: Session) -> Result:
    """The recommendation for a complete session; raises naming the first unanswered question."""
    pending = current_question(checklist, session)
    if pending is not None:
        raise ChecklistError(f"the checklist is not complete: '{pending.id}' is unanswered")
    users = {a.question_id: a.user_id for a in session.answers}
    inferred = {a.question_id: a.inferred_from for a in session.answers if a.inferred_from}
    return build_result(checklist, session.answer_map(), users, inferred)
