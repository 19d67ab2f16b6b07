"""Terminal rendering for the CLI: answers, citations, reindex reports, status. Rich, no I/O logic."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from bot.admin.service import AdminStatus, ReindexResult
    from bot.checklist.assessment import Assessment
    from bot.checklist.decisions import DecisionReport
    from bot.memory.feedback import FeedbackRecord
    from bot.models import Citation, DoneEvent
    from bot.retrieval.indexer import ReindexReport


def answer_json(question: str, done: DoneEvent) -> dict[str, object]:
    """The documented JSON Lines shape of `advisor ask --json`."""
    return {
        "question": question,
        "answer": done.answer,
        "mode": done.mode,
        "citations": [
            {
                "source": c.source,
                "title": c.title,
                "section": c.section,
                "score": c.score,
                "text": c.text,
            }
            for c in done.citations
        ],
        "notes": list(done.notes),
        "index_version": done.index_version,
        "assessment": assessment_json(done.assessment) if done.assessment else None,
    }


def assessment_json(assessment: Assessment) -> dict[str, object]:
    """The verdict part of `advisor ask --json` (documented in the README)."""
    return {
        "outcome": assessment.outcome,
        "label": assessment.label,
        "confidence": assessment.confidence,
        "facts": [fact.model_dump() for fact in assessment.facts],
        "missing": list(assessment.missing),
        "blocked": [blocked.model_dump() for blocked in assessment.blocked],
    }


def print_sources(console: Console, citations: Sequence[Citation]) -> None:
    if not citations:
        return
    console.print("\n[bold]Sources[/bold]")
    for c in citations:
        where = f" › {escape(c.section)}" if c.section else ""
        console.print(
            f"  [{c.n}] {escape(c.title)}{where}  [dim]{escape(c.source)} · {c.score:.2f}[/dim]"
        )


def print_done(console: Console, done: DoneEvent) -> None:
    print_sources(console, done.citations)
    for note in done.notes:
        console.print(f"[yellow]Note:[/yellow] {escape(note)}")
    if done.mode == "extractive":
        console.print("[dim]Mode: extractive (set OPENAI_API_KEY for generated answers)[/dim]")


def print_report(console: Console, report: ReindexReport) -> None:
    kind = (
        "Dry run" if report.dry_run else ("Full rebuild" if report.full else "Incremental update")
    )
    console.print(
        f"[bold]{kind}[/bold] of {report.documents} documents, {report.chunks} chunks "
        f"in {report.duration_seconds:.2f}s (index version {report.version})"
    )
    table = Table(show_header=True, header_style="bold")
    for column in ("added", "changed", "removed", "unchanged", "embedded", "skipped"):
        table.add_column(column, justify="right")
    table.add_row(
        *(
            str(value)
            for value in (
                report.added,
                report.changed,
                report.removed,
                report.unchanged,
                report.embedded,
                len(report.skipped),
            )
        )
    )
    console.print(table)
    for skipped in report.skipped:
        console.print(
            f"  [yellow]skipped[/yellow] {escape(skipped.source)}: {escape(skipped.reason)}"
        )


def print_reindex(console: Console, result: ReindexResult) -> None:
    print_report(console, result.report)
    report = result.report
    if not report.dry_run and not report.published:
        console.print(f"Nothing changed; index version {report.version} is still live.")
    gate = result.gate
    if gate is not None:
        live = "no comparable live index" if gate.live_hit is None else f"live {gate.live_hit:.2f}"
        console.print(f"Quality gate: hit@{gate.k} {gate.candidate_hit:.2f} ({live}), passed.")
    for note in result.notes:
        console.print(f"[yellow]Note:[/yellow] {escape(note)}")


def print_status(console: Console, status: AdminStatus) -> None:
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    info = status.index
    if info is None:
        table.add_row("index", f"[red]{escape(status.problem or 'missing')}[/red]")
    else:
        table.add_row("live build", f"{info.version} ({status.backend} index)")
        table.add_row("documents / chunks", f"{info.documents} / {info.chunks}")
        table.add_row("built", f"{info.built_at} by {info.built_by}")
        table.add_row("built with", info.embedder)
        if info.quality is not None:
            table.add_row("quality", f"hit@{info.quality.k} {info.quality.hit_at_k:.3f}, "
                          f"MRR {info.quality.mrr:.3f}")  # fmt: skip
        if status.problem:
            table.add_row("problem", f"[red]{escape(status.problem)}[/red]")
    previous = status.previous.version if status.previous else "none"
    table.add_row("rollback target", previous)
    table.add_row("builds on record", str(len(status.builds)))
    table.add_row("embedder", status.embedder)
    for check in status.checks:
        colour = "green" if check.ok else "red"
        table.add_row(check.name, f"[{colour}]{escape(check.detail)}[/{colour}]")
    if status.running is not None:
        table.add_row("reindex running", f"started by {status.running.owner} at "
                      f"{status.running.started_at} UTC on {status.running.host}")  # fmt: skip
    console.print(table)


def print_feedback(console: Console, records: Sequence[FeedbackRecord]) -> None:
    if not records:
        console.print("No feedback yet.")
        return
    table = Table("when", "vote", "question", "reason", "index", header_style="bold")
    for record in records:
        when = datetime.fromtimestamp(record.created_at, UTC).strftime("%Y-%m-%d %H:%M")
        vote = "[green]helpful[/green]" if record.rating == "helpful" else "[red]not helpful[/red]"
        table.add_row(
            when,
            vote,
            escape(record.question[:80]),
            escape(record.reason or ""),
            record.index_version or "",
        )
    console.print(table)


def print_decisions(console: Console, report: DecisionReport) -> None:
    from bot.checklist.outcomes import describe, reported

    if not report.decisions:
        console.print("No checklist decisions recorded yet.")
        return
    table = Table("decided", "channel", "recommendation", "what they did · how it went", "note",
                  header_style="bold")  # fmt: skip
    for decision in report.decisions:
        when = datetime.fromtimestamp(decision.decided_at, UTC).strftime("%Y-%m-%d")
        outcome = decision.outcome
        if reported(outcome):
            went = describe(outcome)
        elif decision.followup is not None:
            due = datetime.fromtimestamp(decision.followup.post_at, UTC).strftime("%Y-%m-%d")
            went = f"follow-up {due}, no answer yet"
        else:
            went = "no follow-up"
        note = outcome.note if outcome and outcome.note else ""
        table.add_row(when, decision.channel_id, escape(decision.label), escape(went),
                      escape(note[:80]))  # fmt: skip
    console.print(table)
    for summary in report.summary:
        console.print(escape(summary.line))
