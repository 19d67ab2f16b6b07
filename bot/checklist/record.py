"""Export a checklist result as an ADR-style decision record (Markdown), without I/O or a clock.

The date and the knowledge index version are arguments so the record is reproducible and says
which guidance it was based on.
"""

from __future__ import annotations

import datetime

from bot.checklist.scoring import Result


def _cell(text: str) -> str:
    # Table cells cannot hold pipes or line breaks.
    return text.replace("|", "\\|").replace("\n", " ")


def _cites(cites: tuple[str, ...]) -> str:
    return ", ".join(f"`{doc}`" for doc in cites)


def _who(user_id: str | None, inferred_from: str | None) -> str:
    if inferred_from:
        return f"*read from the message*: “{inferred_from}”"
    return user_id or "-"


def to_adr_markdown(
    result: Result,
    *,
    date: datetime.date,
    index_version: str | None,
    title: str = "Prompting, RAG or fine-tuning",
) -> str:
    """Context, answers, decision, consequences; every reason keeps its citations."""
    lines = [
        f"# ADR: {title} - {result.label}",
        "",
        "- Status: proposed",
        f"- Date: {date.isoformat()}",
        f"- Checklist version: {result.checklist_version}",
        f"- Knowledge index version: {index_version or 'unknown'}",
        "",
        "## Context",
        "",
        "The team answered the fine-tune advisor's decision checklist to choose between prompting,",
        "retrieval (RAG), fine-tuning with PEFT/LoRA, a hybrid, or waiting for more evidence.",
        "",
        "## Answers",
        "",
        "| Question | Answer | Answered by |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| {_cell(a.question)} | {_cell(a.option)} | {_cell(_who(a.user_id, a.inferred_from))} |"
        for a in result.answers
    ]
    if any(a.inferred_from for a in result.answers):
        lines += [
            "",
            "Answers marked *read from the message* were taken from the team's own words and "
            "kept when the checklist was confirmed.",
        ]
    lines += ["", "## Decision", "", f"**{result.label}**: {result.summary}", ""]
    lines += ["Scores: " + ", ".join(f"{s.label} {s.score}" for s in result.scores), ""]
    if result.deciding_answers:
        lines.append("Deciding answers:")
        lines += [f"- {d.question} **{d.option}**" for d in result.deciding_answers]
        lines.append("")
    lines += ["### Reasons", ""]
    lines += [f"- {r.rationale} (sources: {_cites(r.cites)})" for r in result.reasons]
    if result.warnings:
        lines += ["", "### Warnings", ""]
        lines += [f"- {w.text} (sources: {_cites(w.cites)})" for w in result.warnings]
    lines += ["", "## Consequences", "", "Next steps:", ""]
    lines += [f"{n}. {step}" for n, step in enumerate(result.next_steps, start=1)]
    lines += ["", "What would change this decision:", ""]
    if result.what_would_change:
        lines += [
            f"- {f.question} **{f.to_option}** instead of {f.from_option} -> {f.new_label}"
            for f in result.what_would_change
        ]
    else:
        lines.append("- No single changed answer changes the recommendation.")
    return "\n".join(lines) + "\n"
