"""How decisions turned out: recording a follow-up answer and summing outcomes up. Pure.

An answer comes in parts (what the team did, how it went, an optional note), each from its own
click; `answer` validates who gives it and merges it into the decision's outcome. `summarise`
counts, per recommended outcome, the decisions, those with a report and how they went, for
`/finetune-check history` and `advisor decisions` alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, get_args

from pydantic import computed_field

from bot.checklist.definition import Frozen
from bot.checklist.history import (
    NOTE_LIMIT,
    Decision,
    FollowUpChoice,
    FollowUpResult,
    Outcome,
)

FollowUpPart = Literal["followed", "other", "worked", "partly", "did_not", "note"]
CHOICES: tuple[FollowUpChoice, ...] = get_args(FollowUpChoice)
RESULTS: tuple[FollowUpResult, ...] = get_args(FollowUpResult)

LABELS: dict[str, str] = {
    "followed": "Followed the recommendation",
    "other": "Chose something else",
    "worked": "It worked",
    "partly": "Partly",
    "did_not": "It did not work",
}


Merge = Callable[[Decision], Decision]  # a change to a decision record, applied by the store


class FollowUpRefused(Exception):
    """The answer cannot be taken; `message` is safe to show to the person who gave it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def asked(decision: Decision) -> str | None:
    """Who the follow-up asks (and the only person whose answer counts)."""
    return decision.followup.user_id if decision.followup else decision.started_by


def answer(
    decision: Decision,
    user_id: str,
    *,
    now: float,
    choice: FollowUpChoice | None = None,
    result: FollowUpResult | None = None,
    note: str | None = None,
) -> Decision:
    """The decision with this part of the answer merged in; refused for anyone but the person
    asked. An empty note clears the note."""
    person = asked(decision)
    if person is None or user_id != person:
        who = f"<@{person}>" if person else "the person who ran the checklist"
        raise FollowUpRefused(f"Only {who} was asked about this decision, so nothing changed.")
    previous = decision.outcome or Outcome(user_id=user_id, updated_at=now)
    update: dict[str, object] = {"user_id": user_id, "updated_at": now}
    if choice is not None:
        update["choice"] = choice
    if result is not None:
        update["result"] = result
    if note is not None:
        update["note"] = note.strip()[:NOTE_LIMIT] or None
    outcome = Outcome.model_validate({**previous.model_dump(), **update})
    return decision.model_copy(update={"outcome": outcome})


def reported(outcome: Outcome | None) -> bool:
    """Whether the person said what they did or how it went (a note alone is not a report)."""
    return outcome is not None and (outcome.choice is not None or outcome.result is not None)


def describe(outcome: Outcome | None) -> str:
    """One line for a person: "Followed the recommendation · It worked", or "no answer yet"."""
    if outcome is None or not reported(outcome):
        return "no answer yet"
    parts = [LABELS[part] for part in (outcome.choice, outcome.result) if part is not None]
    return " · ".join(parts)


class OutcomeSummary(Frozen):
    recommendation: str
    label: str
    decisions: int
    reported: int  # decisions whose follow-up got an answer (what they did or how it went)
    followed: int
    other: int
    worked: int
    partly: int
    did_not: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def line(self) -> str:
        """ "Prompting first: 12 decisions, 7 reported, 6 worked" (and the rest when any)."""
        plural = "" if self.decisions == 1 else "s"
        text = f"{self.label}: {self.decisions} decision{plural}, {self.reported} reported, "
        text += f"{self.worked} worked"
        extra = [(self.partly, "partly"), (self.did_not, "did not work")]
        text += "".join(f", {count} {what}" for count, what in extra if count)
        if self.followed or self.other:
            text += f" ({self.followed} followed it, {self.other} chose something else)"
        return text


def summarise(decisions: Sequence[Decision]) -> list[OutcomeSummary]:
    """One summary per recommended outcome, most decisions first (then by label)."""
    groups: dict[str, list[Decision]] = {}
    for decision in decisions:
        groups.setdefault(decision.recommendation, []).append(decision)
    summaries = []
    for recommendation, group in groups.items():
        outcomes = [d.outcome for d in group if d.outcome is not None]
        answered = [o for o in outcomes if reported(o)]
        summaries.append(
            OutcomeSummary(
                recommendation=recommendation,
                label=max(group, key=lambda d: d.decided_at).label,
                decisions=len(group),
                reported=len(answered),
                followed=sum(o.choice == "followed" for o in answered),
                other=sum(o.choice == "other" for o in answered),
                worked=sum(o.result == "worked" for o in answered),
                partly=sum(o.result == "partly" for o in answered),
                did_not=sum(o.result == "did_not" for o in answered),
            )
        )
    return sorted(summaries, key=lambda s: (-s.decisions, s.label))
