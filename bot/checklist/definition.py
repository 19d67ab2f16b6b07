"""Frozen models of the checklist definition and the cross-reference checks that make it safe to run.

The definition is data an admin edits (knowledge/checklist.yaml); everything that could make the
engine fail later (an unknown question or option in a rule, a duplicate id, an `ask_if` that looks
ahead) is rejected here, when the file is loaded, with the location of the bad value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bot.errors import UserFacingError

OutcomeId = Literal["prompting_first", "prompting_rag", "not_yet", "fine_tune_peft", "hybrid"]
OUTCOME_IDS: tuple[str, ...] = get_args(OutcomeId)

Ident = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Text = Annotated[str, Field(min_length=1, max_length=3000)]
# A knowledge document, relative to the knowledge folder; existence is checked by the loader.
DocName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_/-]*\.md$")]
Loc = tuple[str | int, ...]


class ChecklistError(UserFacingError):
    """A bad checklist definition, a bad answer id or an impossible step; the text names the id."""


class DefinitionProblem(ValueError):
    """A cross-reference problem; `loc` lets the loader point at the line that holds the value."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc


def _as_tuple(value: object) -> object:
    # `question: option` and `question: [a, b]` both read naturally in YAML; store one shape.
    return (value,) if isinstance(value, str) else value


OptionIds = Annotated[tuple[Ident, ...], BeforeValidator(_as_tuple), Field(min_length=1)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# How sure we are that a condition holds, given partial answers: True, False or None (unknown).
Truth = bool | None
# question id -> True/False whether its answer is one of the given options, None while unknown.
Lookup = Callable[[str, tuple[str, ...]], Truth]


class When(Frozen):
    """Conditions on answers. A question that was skipped or not answered matches nothing."""

    all: dict[Ident, OptionIds] = {}
    any: dict[Ident, OptionIds] = {}
    none: dict[Ident, OptionIds] = {}

    @model_validator(mode="after")
    def _not_empty(self) -> When:
        if not (self.all or self.any or self.none):
            raise ValueError("needs at least one of all / any / none")
        return self

    def groups(self) -> Iterator[tuple[str, Mapping[str, tuple[str, ...]]]]:
        yield from (("all", self.all), ("any", self.any), ("none", self.none))

    def matches(self, answers: Mapping[str, str]) -> bool:
        def hit(question_id: str, option_ids: tuple[str, ...]) -> bool:
            return answers.get(question_id) in option_ids

        return (
            all(hit(q, o) for q, o in self.all.items())
            and (not self.any or any(hit(q, o) for q, o in self.any.items()))
            and not any(hit(q, o) for q, o in self.none.items())
        )

    def evaluate(self, lookup: Lookup) -> Truth:
        """Three-valued `matches`: None when the answers known so far cannot decide it.

        `lookup(question, options)` says whether the question's answer is one of `options`
        (False for a skipped question, None for one that is still unknown). This runs thousands
        of times per assessment, hence the plain loops that stop at the first False.
        """
        unknown = False
        for question_id, option_ids in self.all.items():
            hit = lookup(question_id, option_ids)
            if hit is False:
                return False
            unknown = unknown or hit is None
        for question_id, option_ids in self.none.items():
            hit = lookup(question_id, option_ids)
            if hit is True:
                return False
            unknown = unknown or hit is None
        if self.any:
            any_unknown = False
            for question_id, option_ids in self.any.items():
                hit = lookup(question_id, option_ids)
                if hit is True:
                    break
                any_unknown = any_unknown or hit is None
            else:
                if not any_unknown:
                    return False
                unknown = True
        return None if unknown else True

    def questions(self) -> tuple[str, ...]:
        """Every question this condition reads, in the order written."""
        return tuple(dict.fromkeys([*self.all, *self.any, *self.none]))

    def matched_questions(self, answers: Mapping[str, str]) -> tuple[str, ...]:
        """The questions whose answers made this condition true (used to explain a rule)."""
        picked = [q for q, o in {**self.all, **self.any}.items() if answers.get(q) in o]
        return tuple(dict.fromkeys(picked))


Cue = Annotated[str, Field(min_length=2, max_length=1000)]


class Option(Frozen):
    id: Ident
    label: Text
    # How the offline situation reader recognises this answer in plain words: regular
    # expressions (case-insensitive, matched on word boundaries), and for a counted question
    # the range of counts [low, high] (high may be null: no upper bound).
    cues: tuple[Cue, ...] = ()
    count: tuple[int, int | None] | None = None


class Combine(Frozen):
    """When the reader finds several options of one question, read them together as `read_as`."""

    options: tuple[Ident, ...] = Field(min_length=2)
    read_as: Ident


class Reading(Frozen):
    """Per-question hints for the offline reader."""

    # Nouns a count must be attached to ("300 labelled tickets"): the options' `count` ranges.
    counts_of: tuple[Cue, ...] = ()
    # "scores 93% on our eval set, target 90%": which option a measured score at or above its
    # target means, and which one a score below it means.
    score_meets_target: Ident | None = None
    score_misses_target: Ident | None = None
    combine: tuple[Combine, ...] = ()
    # False where an answer is usually said negatively ("it doesn't know our prices").
    negation_cancels: bool = True


class Question(Frozen):
    id: Ident
    text: Text
    help: Text  # "why we ask"
    options: tuple[Option, ...] = Field(min_length=2)
    ask_if: When | None = None
    read: Reading = Reading()

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


class Outcome(Frozen):
    id: OutcomeId
    label: Text
    summary: Text
    next_steps: tuple[Text, ...] = Field(min_length=1)


class Rule(Frozen):
    id: Ident
    when: When
    add: dict[OutcomeId, Annotated[int, Field(ge=-10, le=10)]] = Field(min_length=1)
    rationale: Text
    cites: tuple[DocName, ...] = Field(min_length=1)


class Prerequisite(Frozen):
    """What must hold before `outcomes` may be recommended, whatever they score.

    When `applies_when` holds (always, if it is absent), one of the `requires` alternatives must
    be known to hold; with no `requires`, the outcomes are ruled out whenever it applies. With
    partial answers, an unknown requirement blocks (we do not recommend training on a guess), and
    an unknown `applies_when` does not (the question is then among those still to ask).
    """

    id: Ident
    outcomes: tuple[OutcomeId, ...] = Field(min_length=1)
    applies_when: When | None = None
    requires: tuple[When, ...] = ()
    rationale: Text
    unblock: Text  # what to do first; shown when this prerequisite blocks an outcome
    cites: tuple[DocName, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _says_something(self) -> Prerequisite:
        if self.applies_when is None and not self.requires:
            raise ValueError("needs applies_when, requires, or both")
        return self


class WarningRule(Frozen):
    """A caution that stands on its own: shown whenever `when` holds, whatever the outcome."""

    id: Ident
    when: When
    text: Text
    cites: tuple[DocName, ...] = Field(min_length=1)


class Checklist(Frozen):
    """The whole definition. Outcome order is the tie-break: earlier wins (cheaper, reversible)."""

    version: Annotated[str, Field(min_length=1, max_length=64)]
    title: Text
    outcomes: tuple[Outcome, ...]
    questions: tuple[Question, ...] = Field(min_length=1)
    rules: tuple[Rule, ...] = Field(min_length=1)
    prerequisites: tuple[Prerequisite, ...] = ()
    warnings: tuple[WarningRule, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> Checklist:
        problem = next(iter(find_problems(self)), None)
        if problem is not None:
            raise problem
        return self

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def outcome(self, outcome_id: str) -> Outcome:
        return next(o for o in self.outcomes if o.id == outcome_id)


def _duplicates(loc: Loc, noun: str, ids: list[str]) -> Iterator[DefinitionProblem]:
    seen: set[str] = set()
    for index, ident in enumerate(ids):
        if ident in seen:
            yield DefinitionProblem((*loc, index, "id"), f"duplicate {noun} id '{ident}'")
        seen.add(ident)


def _check_when(when: When, loc: Loc, known: Mapping[str, Question]) -> Iterator[DefinitionProblem]:
    for group, conditions in when.groups():
        for question_id, option_ids in conditions.items():
            where = (*loc, group, question_id)
            question = known.get(question_id)
            if question is None:
                yield DefinitionProblem(where, f"unknown question id '{question_id}'")
                continue
            for option_id in option_ids:
                if question.option(option_id) is None:
                    valid = ", ".join(o.id for o in question.options)
                    yield DefinitionProblem(
                        where,
                        f"unknown option id '{option_id}' for question '{question_id}' "
                        f"(valid: {valid})",
                    )


def _check_reading(question: Question, loc: Loc) -> Iterator[DefinitionProblem]:
    option_ids = {o.id for o in question.options}
    for index, option in enumerate(question.options):
        for cue_index, cue in enumerate(option.cues):
            try:
                re.compile(cue)
            except re.error as exc:
                where = (*loc, "options", index, "cues", cue_index)
                yield DefinitionProblem(where, f"cue is not a valid regular expression: {exc}")
        if option.count is not None:
            low, high = option.count
            if low < 0 or (high is not None and high < low):
                where = (*loc, "options", index, "count")
                yield DefinitionProblem(where, f"count range [{low}, {high}] is empty or negative")
            if not question.read.counts_of:
                where = (*loc, "options", index, "count")
                yield DefinitionProblem(where, "a count range needs read.counts_of on the question")
    read = question.read
    named = [("score_meets_target", read.score_meets_target)]
    named.append(("score_misses_target", read.score_misses_target))
    for field_name, option_id in named:
        if option_id is not None and option_id not in option_ids:
            yield DefinitionProblem(
                (*loc, "read", field_name), f"unknown option id '{option_id}' for '{question.id}'"
            )
    for index, combine in enumerate(read.combine):
        for option_id in (*combine.options, combine.read_as):
            if option_id not in option_ids:
                yield DefinitionProblem(
                    (*loc, "read", "combine", index),
                    f"unknown option id '{option_id}' for '{question.id}'",
                )


def find_problems(checklist: Checklist) -> Iterator[DefinitionProblem]:
    """Every cross-reference problem, in file order."""
    outcome_ids = [o.id for o in checklist.outcomes]
    yield from _duplicates(("outcomes",), "outcome", list(outcome_ids))
    missing = [o for o in OUTCOME_IDS if o not in outcome_ids]
    if missing:
        yield DefinitionProblem(("outcomes",), f"missing outcomes: {', '.join(missing)}")
    yield from _duplicates(("questions",), "question", [q.id for q in checklist.questions])
    yield from _duplicates(("rules",), "rule", [r.id for r in checklist.rules])
    yield from _duplicates(("warnings",), "warning", [w.id for w in checklist.warnings])
    earlier: dict[str, Question] = {}
    for index, question in enumerate(checklist.questions):
        option_ids = [o.id for o in question.options]
        yield from _duplicates(("questions", index, "options"), "option", option_ids)
        # ask_if may only look back, so answers stay consistent when the last one is taken back.
        if question.ask_if is not None:
            yield from _check_when(question.ask_if, ("questions", index, "ask_if"), earlier)
        yield from _check_reading(question, ("questions", index))
        earlier[question.id] = question
    for index, rule in enumerate(checklist.rules):
        yield from _check_when(rule.when, ("rules", index, "when"), earlier)
    yield from _duplicates(
        ("prerequisites",), "prerequisite", [p.id for p in checklist.prerequisites]
    )
    for index, prerequisite in enumerate(checklist.prerequisites):
        loc: Loc = ("prerequisites", index)
        if prerequisite.applies_when is not None:
            yield from _check_when(prerequisite.applies_when, (*loc, "applies_when"), earlier)
        for alternative, when in enumerate(prerequisite.requires):
            yield from _check_when(when, (*loc, "requires", alternative), earlier)
    gated = {o for p in checklist.prerequisites for o in p.outcomes}
    if outcome_ids and all(o in gated for o in outcome_ids):
        # Some outcome must always be possible, or a team could get no recommendation at all.
        yield DefinitionProblem(("prerequisites",), "every outcome has a prerequisite")
    for index, warning in enumerate(checklist.warnings):
        yield from _check_when(warning.when, ("warnings", index, "when"), earlier)
