"""A partial assessment: the checklist's verdict from the answers known so far.

A situation described in plain words answers a few checklist questions. The engine scores what is
known (a rule counts only when its condition is known to hold), rules out what a prerequisite
forbids or does not yet allow, and says how firm the verdict is:

- `decided`: no combination of answers to the open questions can change the outcome (proved by an
  exhaustive search over the open questions, pruned by score bounds);
- `provisional`: some combination could (or the search was too large to prove otherwise).

`missing` lists the open questions that could still change it, the most decisive first: those
that would unblock an outcome a prerequisite holds back, then those whose answer alone flips the
verdict, then those with the most points at stake. Pure and deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from bot.checklist.definition import Checklist, Frozen, OutcomeId, Prerequisite, Truth
from bot.checklist.known import Known
from bot.checklist.scoring import (
    BlockedOutcome,
    Evaluation,
    Reason,
    WarningView,
    blocked_outcomes,
    evaluate,
    prerequisite_questions,
    recommend,
    supporting_reasons,
)

Confidence = Literal["decided", "provisional"]
# Nodes the proof of "decided" may visit; past it the verdict is reported as provisional, which
# is always safe. Typical situations need a few hundred.
SEARCH_BUDGET = 4_000


class Fact(Frozen):
    """One checklist answer read from what a user wrote, with the words it was read from."""

    question_id: str
    option_id: str
    evidence: str = ""


class Assessment(Frozen):
    outcome: OutcomeId
    label: str
    summary: str
    confidence: Confidence
    facts: tuple[Fact, ...]
    missing: tuple[str, ...]  # question ids, the most decisive first
    blocked: tuple[BlockedOutcome, ...]
    reasons: tuple[Reason, ...]
    warnings: tuple[WarningView, ...]
    next_steps: tuple[str, ...]


def implied_facts(checklist: Checklist, by_question: dict[str, Fact]) -> dict[str, Fact]:
    """Answers a fact implies: a follow-up question is asked only when its `ask_if` holds, so
    an answer to "is governance in place?" says the data is regulated. Only single-option
    conditions imply anything; the implied fact quotes the same words."""
    implied = dict(by_question)
    for question in reversed(checklist.questions):
        fact = implied.get(question.id)
        when = question.ask_if
        if fact is None or when is None or when.any or when.none:
            continue
        for question_id, option_ids in when.all.items():
            if question_id not in implied and len(option_ids) == 1:
                implied[question_id] = Fact(
                    question_id=question_id, option_id=option_ids[0], evidence=fact.evidence
                )
    return implied


def assess(checklist: Checklist, facts: Sequence[Fact]) -> Assessment:
    """The verdict for `facts` (later facts about the same question replace earlier ones)."""
    by_question = implied_facts(checklist, {fact.question_id: fact for fact in facts})
    answers = {q: fact.option_id for q, fact in by_question.items()}
    known = Known(checklist, answers)
    evaluation = evaluate(checklist, known)
    lead = evaluation.recommendation
    decided = known.complete or not _can_change(checklist, known, lead, [SEARCH_BUDGET])
    outcome = checklist.outcome(lead)
    kept = [by_question[q.id] for q in checklist.questions if q.id in known.answers]
    return Assessment(
        outcome=lead,
        label=outcome.label,
        summary=outcome.summary,
        confidence="decided" if decided else "provisional",
        facts=tuple(kept),
        missing=() if decided else rank_missing(checklist, known, evaluation),
        blocked=blocked_outcomes(checklist, evaluation),
        reasons=supporting_reasons(checklist, evaluation, known.answers),
        warnings=tuple(
            WarningView(warning_id=w.id, text=w.text, cites=w.cites) for w in evaluation.warnings
        ),
        next_steps=outcome.next_steps,
    )


# -- is the verdict decided? ----------------------------------------------------------------------


class _OutOfBudget(Exception):
    pass


def _blocked(prerequisite: Prerequisite, known: Known) -> Truth:
    """Whether the prerequisite rules its outcomes out in every completion (True), in none
    (False), or depending on open answers (None)."""
    applies: Truth = (
        True
        if prerequisite.applies_when is None
        else prerequisite.applies_when.evaluate(known.lookup)
    )
    if applies is False:
        return False
    if not prerequisite.requires:
        held: Truth = False
    else:
        results = [when.evaluate(known.lookup) for when in prerequisite.requires]
        held = True if True in results else (None if None in results else False)
    if held is True:
        return False
    if applies is True and held is False:
        return True
    return None


def _beats(checklist: Checklist, a: OutcomeId, score_a: int, b: OutcomeId, score_b: int) -> bool:
    if score_a != score_b:
        return score_a > score_b
    order = [o.id for o in checklist.outcomes]
    return order.index(a) < order.index(b)


def _can_change(checklist: Checklist, known: Known, lead: OutcomeId, budget: list[int]) -> bool:
    """Whether some completion of the open answers recommends something other than `lead`."""
    try:
        return _search(checklist, known, lead, budget)
    except _OutOfBudget:
        return True  # unproven: say provisional


def _search(checklist: Checklist, known: Known, lead: OutcomeId, budget: list[int]) -> bool:
    budget[0] -= 1
    if budget[0] < 0:
        raise _OutOfBudget
    if known.complete:
        return recommend(checklist, known) != lead
    low: dict[str, int] = {o.id: 0 for o in checklist.outcomes}
    high = dict(low)
    for rule in checklist.rules:
        fires = rule.when.evaluate(known.lookup)
        if fires is False:
            continue
        for outcome_id, points in rule.add.items():
            if fires is True or points < 0:
                low[outcome_id] += points
            if fires is True or points > 0:
                high[outcome_id] += points
    surely_blocked: set[str] = set()
    maybe_blocked: set[str] = set()
    for prerequisite in checklist.prerequisites:
        blocked = _blocked(prerequisite, known)
        if blocked is not False:
            (surely_blocked if blocked else maybe_blocked).update(prerequisite.outcomes)
    if lead in surely_blocked:
        return True
    rivals = [o.id for o in checklist.outcomes if o.id != lead and o.id not in surely_blocked]
    if lead not in maybe_blocked and all(
        _beats(checklist, lead, low[lead], rival, high[rival]) for rival in rivals
    ):
        return False  # the lead wins in every completion
    if any(
        rival not in maybe_blocked and _beats(checklist, rival, low[rival], lead, high[lead])
        for rival in rivals
    ):
        return True  # some rival wins in every completion
    question_id = known.unknown[0]  # every earlier question is settled, so this one applies
    question = checklist.question(question_id)
    assert question is not None
    for option in question.options:
        answers = {**known.answers, question_id: option.id}
        if _search(checklist, Known(checklist, answers), lead, budget):
            return True
    return False


# -- what to ask next -----------------------------------------------------------------------------


def rank_missing(checklist: Checklist, known: Known, evaluation: Evaluation) -> tuple[str, ...]:
    lead = evaluation.recommendation
    above = evaluation.ranked[: evaluation.ranked.index(lead)]
    unblocking = {
        question_id
        for outcome_id in above
        for prerequisite, status in evaluation.blocks.get(outcome_id, ())
        if status == "unknown"
        for question_id in prerequisite_questions(prerequisite)
    }
    scored: list[tuple[int, int, int, int, str]] = []
    for position, question_id in enumerate(known.unknown):
        question = checklist.question(question_id)
        assert question is not None
        flips = sum(
            1
            for option in question.options
            if recommend(checklist, Known(checklist, {**known.answers, question_id: option.id}))
            != lead
        )
        at_stake = sum(
            abs(points)
            for rule in checklist.rules
            if question_id in rule.when.questions() and rule.when.evaluate(known.lookup) is None
            for points in rule.add.values()
        )
        unblocks = int(question_id in unblocking)
        if unblocks or flips or at_stake:
            scored.append((-unblocks, -flips, -at_stake, position, question_id))
    return tuple(question_id for *_, question_id in sorted(scored))


def answers_of(facts: Sequence[Fact]) -> Mapping[str, str]:
    return {fact.question_id: fact.option_id for fact in facts}
