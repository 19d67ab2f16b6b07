"""Pure scoring: which rules fire, the points per outcome, which outcomes a prerequisite rules out,
the recommendation, and the explained `Result`.

The recommendation is the highest-scoring outcome that no prerequisite blocks. Points can never
buy an outcome past a prerequisite: a team without an evaluation set is not told to fine-tune,
however many other answers favour it. Ties go to the outcome listed first in the definition (the
file lists them from cheapest and most reversible to most expensive).

Answers may be partial (a situation read from a message): a rule then counts only when its
condition is known to hold, and an outcome whose requirement is still unknown is blocked until
it is known (see `Prerequisite`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from bot.checklist.definition import (
    Checklist,
    DocName,
    Frozen,
    OutcomeId,
    Prerequisite,
    Question,
    Rule,
    WarningRule,
)
from bot.checklist.known import Known

DECIDING_ANSWERS = 3  # enough to explain a decision in one Slack section, few enough to read

PrerequisiteStatus = Literal["met", "not_met", "unknown"]


@dataclass(frozen=True)
class Evaluation:
    """The scored state of one set of (possibly partial) answers (internal, so a dataclass)."""

    scores: dict[OutcomeId, int]
    fired: tuple[Rule, ...]
    warnings: tuple[WarningRule, ...]
    # outcome -> the prerequisites that rule it out, with why (not met, or not known yet)
    blocks: dict[OutcomeId, tuple[tuple[Prerequisite, PrerequisiteStatus], ...]]
    ranked: tuple[OutcomeId, ...]  # every outcome by score, ties in definition order
    recommendation: OutcomeId
    runner_up: OutcomeId  # the next outcome that is not blocked

    @property
    def margin(self) -> int:
        return self.scores[self.recommendation] - self.scores[self.runner_up]


def applicable_questions(checklist: Checklist, answers: Mapping[str, str]) -> tuple[Question, ...]:
    """Questions that apply given the answers so far (ask_if only looks back, so order is stable)."""
    return tuple(q for q in checklist.questions if q.ask_if is None or q.ask_if.matches(answers))


def consistent_answers(checklist: Checklist, answers: Mapping[str, str]) -> dict[str, str]:
    """Drop answers to questions that no longer apply, in definition order (used for what-ifs)."""
    kept: dict[str, str] = {}
    for question in checklist.questions:
        if question.id not in answers:
            continue
        if question.ask_if is None or question.ask_if.matches(kept):
            kept[question.id] = answers[question.id]
    return kept


def rank(checklist: Checklist, scores: Mapping[OutcomeId, int]) -> list[OutcomeId]:
    order = {outcome.id: index for index, outcome in enumerate(checklist.outcomes)}
    return sorted(scores, key=lambda outcome_id: (-scores[outcome_id], order[outcome_id]))


def prerequisite_status(prerequisite: Prerequisite, known: Known) -> PrerequisiteStatus:
    applies = (
        True
        if prerequisite.applies_when is None
        else prerequisite.applies_when.evaluate(known.lookup)
    )
    if applies is not True:
        # Not applicable, or not known to apply: the question that decides it is still to ask.
        return "met"
    if not prerequisite.requires:
        return "not_met"
    held = [when.evaluate(known.lookup) for when in prerequisite.requires]
    if True in held:
        return "met"
    return "unknown" if None in held else "not_met"


def _scores(checklist: Checklist, known: Known) -> tuple[dict[OutcomeId, int], tuple[Rule, ...]]:
    fired = tuple(rule for rule in checklist.rules if rule.when.evaluate(known.lookup) is True)
    scores: dict[OutcomeId, int] = {outcome.id: 0 for outcome in checklist.outcomes}
    for rule in fired:
        for outcome_id, points in rule.add.items():
            scores[outcome_id] += points
    return scores, fired


def _blocks(
    checklist: Checklist, known: Known
) -> dict[OutcomeId, list[tuple[Prerequisite, PrerequisiteStatus]]]:
    blocks: dict[OutcomeId, list[tuple[Prerequisite, PrerequisiteStatus]]] = {}
    for prerequisite in checklist.prerequisites:
        status = prerequisite_status(prerequisite, known)
        if status != "met":
            for outcome_id in prerequisite.outcomes:
                blocks.setdefault(outcome_id, []).append((prerequisite, status))
    return blocks


def recommend(checklist: Checklist, known: Known) -> OutcomeId:
    """Only the recommendation (what-ifs ask for it many times; `evaluate` explains it)."""
    scores, _ = _scores(checklist, known)
    blocks = _blocks(checklist, known)
    # The loader guarantees some outcome has no prerequisite, so one is always eligible.
    return next(o for o in rank(checklist, scores) if o not in blocks)


def evaluate(checklist: Checklist, known: Known) -> Evaluation:
    scores, fired = _scores(checklist, known)
    blocks = _blocks(checklist, known)
    ranked = rank(checklist, scores)
    eligible = [outcome_id for outcome_id in ranked if outcome_id not in blocks]
    return Evaluation(
        scores=scores,
        fired=fired,
        warnings=tuple(w for w in checklist.warnings if w.when.evaluate(known.lookup) is True),
        blocks={outcome_id: tuple(found) for outcome_id, found in blocks.items()},
        ranked=tuple(ranked),
        recommendation=eligible[0],
        runner_up=eligible[1] if len(eligible) > 1 else eligible[0],
    )


def evaluate_answers(checklist: Checklist, answers: Mapping[str, str]) -> Evaluation:
    return evaluate(checklist, Known(checklist, answers))


def margin_by_question(evaluation: Evaluation, answers: Mapping[str, str]) -> dict[str, float]:
    """How much each answer's rules set the recommendation apart from the other outcomes.

    A rule's contribution is its points for the recommendation minus its average points for the
    other outcomes (not just the runner-up: fine-tune and hybrid share most signals, and against
    the runner-up alone the answers that argue for training at all would look irrelevant). It is
    credited in full to every question whose answer made the rule fire.
    """
    winner = evaluation.recommendation
    others = [o for o in evaluation.scores if o != winner]
    credit: dict[str, float] = {}
    for rule in evaluation.fired:
        against = sum(rule.add.get(o, 0) for o in others) / len(others)
        delta = rule.add.get(winner, 0) - against
        for question_id in rule.when.matched_questions(answers):
            credit[question_id] = round(credit.get(question_id, 0.0) + delta, 2)
    return credit


class AnswerView(Frozen):
    question_id: str
    question: str
    option_id: str
    option: str
    user_id: str | None = None
    inferred_from: str | None = None  # the user's words, when read from a message


class DecidingAnswer(AnswerView):
    contribution: float  # how far this answer's rules set the winner apart (margin_by_question)


class OutcomeScore(Frozen):
    outcome_id: OutcomeId
    label: str
    score: int


class Reason(Frozen):
    rule_id: str
    rationale: str
    points: int  # points this rule gave the recommended outcome
    cites: tuple[DocName, ...]
    because: tuple[AnswerView, ...]


class BlockReason(Frozen):
    prerequisite_id: str
    status: Literal["not_met", "unknown"]  # unknown: not known yet, so not assumed
    rationale: str
    unblock: str  # what to do first
    cites: tuple[DocName, ...]
    questions: tuple[str, ...]  # the questions that decide this prerequisite


class BlockedOutcome(Frozen):
    """An outcome that scored at least as high as the recommendation but is ruled out."""

    outcome: OutcomeId
    label: str
    score: int
    reasons: tuple[BlockReason, ...]


class WarningView(Frozen):
    warning_id: str
    text: str
    cites: tuple[DocName, ...]


class Flip(Frozen):
    """One single changed answer that would change the recommendation."""

    question_id: str
    question: str
    from_option_id: str
    from_option: str
    to_option_id: str
    to_option: str
    new_recommendation: OutcomeId
    new_label: str


class Result(Frozen):
    checklist_version: str
    recommendation: OutcomeId
    label: str
    summary: str
    runner_up: OutcomeId
    margin: int
    scores: tuple[OutcomeScore, ...]  # in definition order, which is also the tie-break order
    answers: tuple[AnswerView, ...]
    deciding_answers: tuple[DecidingAnswer, ...]
    reasons: tuple[Reason, ...]
    blocked: tuple[BlockedOutcome, ...] = ()
    warnings: tuple[WarningView, ...]
    next_steps: tuple[str, ...]
    what_would_change: tuple[Flip, ...]


def view(
    checklist: Checklist,
    question_id: str,
    option_id: str,
    user: str | None,
    inferred_from: str | None = None,
) -> AnswerView:
    question = checklist.question(question_id)
    option = question.option(option_id) if question else None
    if question is None or option is None:  # the engine validated both ids before scoring
        raise ValueError(f"unknown answer {question_id}={option_id}")
    return AnswerView(
        question_id=question_id,
        question=question.text,
        option_id=option_id,
        option=option.label,
        user_id=user,
        inferred_from=inferred_from,
    )


def prerequisite_questions(prerequisite: Prerequisite) -> tuple[str, ...]:
    whens = [*([prerequisite.applies_when] if prerequisite.applies_when else [])]
    whens.extend(prerequisite.requires)
    return tuple(dict.fromkeys(q for when in whens for q in when.questions()))


def blocked_outcomes(checklist: Checklist, evaluation: Evaluation) -> tuple[BlockedOutcome, ...]:
    """The outcomes ranked above the recommendation that a prerequisite rules out."""
    above = evaluation.ranked[: evaluation.ranked.index(evaluation.recommendation)]
    return tuple(
        BlockedOutcome(
            outcome=outcome_id,
            label=checklist.outcome(outcome_id).label,
            score=evaluation.scores[outcome_id],
            reasons=tuple(
                BlockReason(
                    prerequisite_id=prerequisite.id,
                    status=status,
                    rationale=prerequisite.rationale,
                    unblock=prerequisite.unblock,
                    cites=prerequisite.cites,
                    questions=prerequisite_questions(prerequisite),
                )
                for prerequisite, status in evaluation.blocks[outcome_id]
                if status != "met"
            ),
        )
        for outcome_id in above
    )


def supporting_reasons(
    checklist: Checklist, evaluation: Evaluation, answers: Mapping[str, str]
) -> tuple[Reason, ...]:
    winner = evaluation.recommendation
    supporting = [r for r in evaluation.fired if r.add.get(winner, 0) > 0]
    supporting.sort(key=lambda r: -r.add[winner])
    return tuple(
        Reason(
            rule_id=r.id,
            rationale=r.rationale,
            points=r.add[winner],
            cites=r.cites,
            because=tuple(
                view(checklist, q, answers[q], None) for q in r.when.matched_questions(answers)
            ),
        )
        for r in supporting
    )


def flips(checklist: Checklist, answers: Mapping[str, str], winner: OutcomeId) -> list[Flip]:
    """Try every other option of every answered question; keep the ones that change the winner."""
    found = []
    for question in checklist.questions:
        chosen = answers.get(question.id)
        if chosen is None:
            continue
        for option in question.options:
            if option.id == chosen:
                continue
            # Later answers that stop applying are dropped; newly applicable ones stay unknown.
            changed = consistent_answers(checklist, {**answers, question.id: option.id})
            new = recommend(checklist, Known(checklist, changed))
            if new != winner:
                found.append(
                    Flip(
                        question_id=question.id,
                        question=question.text,
                        from_option_id=chosen,
                        from_option=view(checklist, question.id, chosen, None).option,
                        to_option_id=option.id,
                        to_option=option.label,
                        new_recommendation=new,
                        new_label=checklist.outcome(new).label,
                    )
                )
    return found


def build_result(
    checklist: Checklist,
    answers: Mapping[str, str],
    users: Mapping[str, str | None],
    inferred: Mapping[str, str] | None = None,
) -> Result:
    evaluation = evaluate_answers(checklist, answers)
    read = inferred or {}
    views = {q: view(checklist, q, o, users.get(q), read.get(q)) for q, o in answers.items()}
    credit = margin_by_question(evaluation, answers)
    # Ties keep question order, so the explanation is as deterministic as the decision.
    order = [q.id for q in checklist.questions if credit.get(q.id, 0) > 0]
    deciding = sorted(order, key=lambda q: -credit[q])[:DECIDING_ANSWERS]
    outcome = checklist.outcome(evaluation.recommendation)
    reasons = supporting_reasons(checklist, evaluation, answers)
    return Result(
        checklist_version=checklist.version,
        recommendation=evaluation.recommendation,
        label=outcome.label,
        summary=outcome.summary,
        runner_up=evaluation.runner_up,
        margin=evaluation.margin,
        scores=tuple(
            OutcomeScore(outcome_id=o.id, label=o.label, score=evaluation.scores[o.id])
            for o in checklist.outcomes
        ),
        answers=tuple(views[q.id] for q in checklist.questions if q.id in views),
        deciding_answers=tuple(
            DecidingAnswer(**views[q].model_dump(), contribution=credit[q]) for q in deciding
        ),
        reasons=tuple(
            r.model_copy(update={"because": tuple(views[v.question_id] for v in r.because)})
            for r in reasons
        ),
        blocked=blocked_outcomes(checklist, evaluation),
        warnings=tuple(
            WarningView(warning_id=w.id, text=w.text, cites=w.cites) for w in evaluation.warnings
        ),
        next_steps=outcome.next_steps,
        what_would_change=tuple(flips(checklist, answers, evaluation.recommendation)),
    )
