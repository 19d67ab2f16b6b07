"""The verdict in words: pure Markdown builders shared by every surface (terminal, Slack, JSON).

An answer to a described situation reads, in order: the recommendation and how firm it is, the
facts it was read from (quoted), why (the checklist's reasons, naming the guidance behind each),
the guidance that supports it with [n] citations, when it would change, and the two or three
questions that would firm it up. Only the guidance part comes from the model (or the extractive
answerer); everything else is written here from the engine's assessment, so a model cannot
change the verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.checklist.assessment import Assessment
from bot.checklist.definition import Checklist

FIRM_UP_SHOWN = 3
REASONS_SHOWN = 3
CHECKLIST_HINT = (
    "Confirm it in the decision checklist: it asks the rest and starts from what I read here."
)


def topic(question_id: str) -> str:
    return question_id.replace("_", " ").capitalize()


def heading(assessment: Assessment) -> str:
    status = "decided" if assessment.confidence == "decided" else "provisional"
    return f"**Recommendation: {assessment.label}** ({status})"


def facts_lines(checklist: Checklist, assessment: Assessment) -> list[str]:
    lines = []
    for fact in assessment.facts:
        question = checklist.question(fact.question_id)
        option = question.option(fact.option_id) if question else None
        label = option.label if option else fact.option_id
        quoted = f" (“{fact.evidence}”)" if fact.evidence else ""
        lines.append(f"- {topic(fact.question_id)}: {label}{quoted}")
    return lines


CITES_SHOWN = 2


def _documents(cites: Sequence[str], titles: Mapping[str, str]) -> str:
    return "; ".join(titles.get(doc, doc) for doc in cites[:CITES_SHOWN])


def opening(checklist: Checklist, assessment: Assessment, titles: Mapping[str, str]) -> str:
    """Recommendation, facts and reasons: what every situation answer starts with."""
    parts = [heading(assessment), assessment.summary]
    facts = facts_lines(checklist, assessment)
    if facts:
        parts.append("**Read from what you wrote**\n" + "\n".join(facts))
    reasons = [
        f"- {reason.rationale} (guidance: {_documents(reason.cites, titles)})"
        for reason in assessment.reasons[:REASONS_SHOWN]
    ]
    if reasons:
        parts.append("**Why**\n" + "\n".join(reasons))
    return "\n\n".join(parts)


def closing(checklist: Checklist, assessment: Assessment, elsewhere: Sequence[str] = ()) -> str:
    """When it would change (blocked outcomes, guidance that argues otherwise) and what to ask."""
    parts = []
    changes = [
        f"- {blocked.label} is ruled out for now. First: {reason.unblock}"
        for blocked in assessment.blocked
        for reason in blocked.reasons[:1]
    ]
    changes.extend(f"- {line}" for line in elsewhere)
    if changes:
        parts.append("**When this would change**\n" + "\n".join(changes))
    questions = [
        f"- {question.text}"
        for question_id in assessment.missing[:FIRM_UP_SHOWN]
        if (question := checklist.question(question_id)) is not None
    ]
    if questions:
        parts.append("**To firm this up**\n" + "\n".join(questions) + f"\n\n{CHECKLIST_HINT}")
    elif assessment.confidence == "decided":
        parts.append("No open question could change this recommendation.")
    return "\n\n".join(parts)


def facts_for_prompt(checklist: Checklist, assessment: Assessment) -> str:
    """The assessment as data for the model: what it must explain, not decide."""
    lines = [
        f"Recommendation (from the decision checklist, final): {assessment.label} "
        f"({assessment.confidence})",
        "Facts read from the user's messages:",
        *(facts_lines(checklist, assessment) or ["- none"]),
        "Reasons:",
        *(f"- {reason.rationale}" for reason in assessment.reasons[:REASONS_SHOWN]),
    ]
    if assessment.blocked:
        lines.append("Ruled out for now:")
        lines.extend(
            f"- {blocked.label}: {reason.rationale}"
            for blocked in assessment.blocked
            for reason in blocked.reasons[:1]
        )
    return "\n".join(lines)
