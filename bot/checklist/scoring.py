"""Pure scoring: which rules fire, the points per outcome, the winner, and the explained `Result`.

Tie-break: when outcomes share the top score, the one listed first in the definition wins. The
file lists outcomes from cheapest and most reversible to most expensive, so a tie never pushes a
team into training a model.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from bot.checklist.definition import (
    Checklist,
    DocName,
    Frozen,
    OutcomeId,
    Question,
    Rule,
    WarningRule,
)

DECIDING_ANSWERS = 3  # enough to explain a decision in one Slack section, few enough to read


class Tally(BaseModel):
    model_config = ConfigDict(frozen=True)

    scores: dict[OutcomeId, int]
    fired: tuple[Rule, ...]
    warnings: tuple[WarningRule, ...]
    winner: OutcomeId
    runner_up: OutcomeId

    @property
    def margin(self) -> int:
        return self.scores[self.winner] - self.scores[self.runner_up]


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


def tally(checklist: Checklist, answers: Mapping[str, str]) -> Tally:
    fired = tuple(rule for rule in checklist.rules if rule.when.matches(answers))
    scores: dict[OutcomeId, int] = {outcome.id: 0 for outcome in checklist.outcomes}
    for rule in fired:
        for outcome_id, points in rule.add.items():
            scores[outcome_id] += points
    ranked = rank(checklist, scores)
    return Tally(
        scores=scores,
        fired=fired,
        warnings=tuple(w for w in checklist.warnings if w.when.matches(answers)),
        winner=ranked[0],
        runner_up=ranked[1],
    )


def margin_by_question(tallied: Tally, answers: Mapping[str, str]) -> dict[str, float]:
    """How much each answer's rules set the winner apart from the other outcomes.

    A rule's contribution is its points for the winner minus its average points for the other
    outcomes (not just the runner-up: fine-tune and hybrid share most signals, and against the
    runner-up alone the answers that argue for training at all would look irrelevant). It is
    credited in full to every question whose answer made the rule fire.
    """
    others = [o for o in tallied.scores if o != tallied.winner]
    credit: dict[str, float] = {}
    for rule in tallied.fired:
        against = sum(rule.add.get(o, 0) for o in others) / len(others)
        delta = rule.add.get(tallied.winner, 0) - against
        for question_id in rule.when.matched_questions(answers):
            credit[question_id] = round(credit.get(question_id, 0.0) + delta, 2)
    return credit


class AnswerView(Frozen):
    question_id: str
    question: str
    option_id: str
    option: str
    user_id: str | None = None


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
    warnings: tuple[WarningView, ...]
    next_steps: tuple[str, ...]
    what_would_change: tuple[Flip, ...]


def _view(checklist: Checklist, question_id: str, option_id: str, user: str | None) -> AnswerView:
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
            # Later answers that stop applying are dropped; newly applicable ones stay unanswered.
            changed = consistent_answers(checklist, {**answers, question.id: option.id})
            new = tally(checklist, changed).winner
            if new != winner:
                found.append(
                    Flip(
                        question_id=question.id,
                        question=question.text,
                        from_option_id=chosen,
                        from_option=_view(checklist, question.id, chosen, None).option,
                        to_option_id=option.id,
                        to_option=option.label,
                        new_recommendation=new,
                        new_label=checklist.outcome(new).label,
                    )
                )
    return found


def build_result(
    checklist: Checklist, answers: Mapping[str, str], users: Mapping[str, str | None]
) -> Result:
    tallied = tally(checklist, answers)
    views = {q: _view(checklist, q, o, users.get(q)) for q, o in answers.items()}
    credit = margin_by_question(tallied, answers)
    # Ties keep question order, so the explanation is as deterministic as the decision.
    order = [q.id for q in checklist.questions if credit.get(q.id, 0) > 0]
    deciding = sorted(order, key=lambda q: -credit[q])[:DECIDING_ANSWERS]
    supporting = [r for r in tallied.fired if r.add.get(tallied.winner, 0) > 0]
    supporting.sort(key=lambda r: -r.add[tallied.winner])
    outcome = checklist.outcome(tallied.winner)
    return Result(
        checklist_version=checklist.version,
        recommendation=tallied.winner,
        label=outcome.label,
        summary=outcome.summary,
        runner_up=tallied.runner_up,
        margin=tallied.margin,
        scores=tuple(
            OutcomeScore(outcome_id=o.id, label=o.label, score=tallied.scores[o.id])
            for o in checklist.outcomes
        ),
        answers=tuple(views[q.id] for q in checklist.questions if q.id in views),
        deciding_answers=tuple(
            DecidingAnswer(**views[q].model_dump(), contribution=credit[q]) for q in deciding
        ),
        reasons=tuple(
            Reason(
                rule_id=r.id,
                rationale=r.rationale,
                points=r.add[tallied.winner],
                cites=r.cites,
                because=tuple(views[q] for q in r.when.matched_questions(answers)),
            )
            for r in supporting
        ),
        warnings=tuple(
            WarningView(warning_id=w.id, text=w.text, cites=w.cites) for w in tallied.warnings
        ),
        next_steps=outcome.next_steps,
        what_would_change=tuple(flips(checklist, answers, tallied.winner)),
    )
