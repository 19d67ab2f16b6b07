"""Frozen models of the checklist definition and the cross-reference checks that make it safe to run.

The definition is data an admin edits (knowledge/checklist.yaml); everything that could make the
engine fail later (an unknown question or option in a rule, a duplicate id, an `ask_if` that looks
ahead) is rejected here, when the file is loaded, with the location of the bad value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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

    def matched_questions(self, answers: Mapping[str, str]) -> tuple[str, ...]:
        """The questions whose answers made this condition true (used to explain a rule)."""
        picked = [q for q, o in {**self.all, **self.any}.items() if answers.get(q) in o]
        return tuple(dict.fromkeys(picked))


class Option(Frozen):
    id: Ident
    label: Text


class Question(Frozen):
    id: Ident
    text: Text
    help: Text  # "why we ask"
    options: tuple[Option, ...] = Field(min_length=2)
    ask_if: When | None = None

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
        earlier[question.id] = question
    for index, rule in enumerate(checklist.rules):
        yield from _check_when(rule.when, ("rules", index, "when"), earlier)
    for index, warning in enumerate(checklist.warnings):
        yield from _check_when(warning.when, ("warnings", index, "when"), earlier)
