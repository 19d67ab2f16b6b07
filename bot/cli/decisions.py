"""`advisor decisions`: checklist decisions made in Slack and how they turned out."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli import render
from bot.cli.app import app, console, run, settings, with_deps

if TYPE_CHECKING:
    from bot.checklist.decisions import DecisionReport
    from bot.deps import Deps


@app.command("decisions")
def decisions_command(
    limit: Annotated[int, typer.Option("--limit", min=1, max=2000)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
) -> None:
    """Recent checklist decisions with their follow-up answers, and a summary per outcome."""
    loaded = settings()

    async def body(deps: Deps) -> DecisionReport:
        from bot.checklist.decisions import decision_report
        from bot.checklist.history import DecisionHistory

        assert deps.redis is not None
        history = DecisionHistory(deps.redis, ttl_days=loaded.redis.decision_ttl_days)
        return await decision_report(history, limit=limit)

    report = run(lambda: with_deps(loaded, body))
    if as_json:
        print(json.dumps(report.model_dump(mode="json"), ensure_ascii=False))
        return
    render.print_decisions(console, report)
