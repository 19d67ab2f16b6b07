"""`advisor config` and `advisor feedback`: what is configured and what users said."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from bot.cli import render
from bot.cli.app import app, console, run, settings, with_deps

if TYPE_CHECKING:
    from bot.deps import Deps
    from bot.memory.feedback import FeedbackRecord


@app.command("config")
def config_command() -> None:
    """Print the effective settings; secrets are redacted."""
    loaded = settings()
    table = Table("group", "variable", "value", header_style="bold")
    for group, name, value in loaded.describe():
        table.add_row(group, name, value)
    console.print(table)


@app.command("feedback")
def feedback_command(
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Recent helpful / not helpful votes from Slack, newest first."""
    loaded = settings()

    async def body(deps: Deps) -> list[FeedbackRecord]:
        assert deps.feedback is not None
        return await deps.feedback.recent(limit)

    records = run(lambda: with_deps(loaded, body))
    if as_json:
        for record in records:
            print(record.model_dump_json())
        return
    render.print_feedback(console, records)
