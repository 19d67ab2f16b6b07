"""`advisor gaps`: what the guidance missed, grouped by topic (the same report as
`/finetune-admin gaps` and the weekly digest)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from bot.cli.app import app, console, err, run, settings, with_deps
from bot.errors import UserFacingError

if TYPE_CHECKING:
    from bot.deps import Deps
    from bot.gaps.service import GapReport


@app.command("gaps")
def gaps_command(
    since: Annotated[
        str, typer.Option("--since", help="How far back: 7d, 12h, 2w, 90m, or a date (UTC).")
    ] = "7d",
    as_json: Annotated[bool, typer.Option("--json", help="The report as one JSON object.")] = False,
) -> None:
    """No-match answers, "not helpful" votes, escalations and verdicts left provisional,
    grouped by topic, with the closest document in the index for each group."""
    from bot.gaps.service import utc_now
    from bot.gaps.since import parse_since

    try:
        start = parse_since(since, utc_now())
    except UserFacingError as exc:
        err.print(f"[red]Error:[/red] {escape(exc.message)}")
        raise typer.Exit(2) from None
    loaded = settings()
    report = run(lambda: with_deps(loaded, lambda deps: _report(deps, start)))
    if as_json:
        print(report.model_dump_json())
        return
    from bot.gaps.render import report_text

    console.print(escape(report_text(report)), highlight=False)


async def _report(deps: Deps, since: datetime) -> GapReport:
    from bot.gaps.wiring import build_gap_service

    service = build_gap_service(deps)
    if service is None:
        raise UserFacingError("`advisor gaps` needs Redis (REDIS_URL, or the embedded default).")
    return await service.report(since)
