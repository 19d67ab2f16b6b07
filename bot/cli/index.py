"""`advisor reindex`, `advisor status` and `advisor rollback`: the index lifecycle service
(bot/admin/service.py) rendered for a terminal. The same progress events drive the bar on stderr
or, with --json, JSON lines on stdout."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.app import app, console, err, run, settings

if TYPE_CHECKING:
    from bot.admin.service import AdminService, AdminStatus, ReindexResult

_LABELS = {
    "scan": "Reading",
    "embed": "Embedding",
    "write": "Writing",
    "gate": "Quality gate",
    "publish": "Publishing",
}


def json_line(body: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(body) + "\n")
    sys.stdout.flush()


def result_json(result: ReindexResult) -> dict[str, Any]:
    """The last line of `advisor reindex --json`: the report, the gate, notes."""
    return {
        "event": "result",
        **result.report.model_dump(mode="json"),
        "gate": result.gate.model_dump(mode="json") if result.gate else None,
        "locked": result.locked,
        "notes": list(result.notes),
    }


async def reindex_with_progress(
    admin: AdminService,
    *,
    full: bool = False,
    dry_run: bool = False,
    folder: Path | None = None,
    as_json: bool = False,
) -> ReindexResult:
    legacy = getattr(admin.index, "legacy", None)
    if legacy is not None and not dry_run:
        err.print(
            f"[yellow]Note:[/yellow] rebuilding the index stored in the old layout ({legacy})."
        )
    if as_json:

        def on_json(stage: str, done: int, total: int) -> None:
            json_line({"event": "progress", "stage": stage, "done": done, "total": total})

        return await admin.reindex("cli", dry_run, on_json, full=full, folder=folder)

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True,
    ) as bar:  # fmt: skip
        tasks: dict[str, Any] = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(_LABELS.get(stage, stage), total=total or 1)
            bar.update(tasks[stage], completed=done, total=total or 1)

        return await admin.reindex("cli", dry_run, on_progress, full=full, folder=folder)


@app.command("reindex")
def reindex_command(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Knowledge folder (default ADVISOR_KNOWLEDGE_DIR).")
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Embed every chunk again.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report changes only.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON lines: progress events, then the result.")
    ] = False,
) -> None:
    """Bring the index up to date: only changed chunks are embedded, under the reindex lock,
    through the quality gate; nothing changed means nothing to do."""
    loaded = settings()

    from bot.admin.wiring import standalone_admin

    async def body() -> ReindexResult:
        async with standalone_admin(loaded) as admin:
            return await reindex_with_progress(
                admin, full=full, dry_run=dry_run, folder=directory, as_json=as_json
            )

    result = run(body)
    if as_json:
        json_line(result_json(result))
    else:
        from bot.cli import render

        render.print_reindex(console, result)


@app.command("status")
def status_command(
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The live and previous index builds, the embedder, and whether Redis and the LLM answer."""
    from bot.admin.wiring import build_admin
    from bot.cli.app import with_deps

    loaded = settings()
    state: AdminStatus = run(
        lambda: with_deps(loaded, lambda deps: build_admin(deps, loaded.admin).status())
    )
    if as_json:
        body = state.model_dump(mode="json")
        # Each check's detail also under its own name ("redis", "qdrant", "llm"): easy to script.
        body.update({check.name: check.detail for check in state.checks})
        print(json.dumps(body))
        return
    from bot.cli import render

    render.print_status(console, state)


@app.command("rollback")
def rollback_command() -> None:
    """Make the previous index build live again (under the shared reindex lock)."""
    from bot.admin.wiring import build_admin
    from bot.cli.app import with_deps

    loaded = settings()

    async def body(deps: Any) -> str:
        result = await build_admin(deps, loaded.admin).rollback("cli")
        return result.live.version

    version = run(lambda: with_deps(loaded, body))
    console.print(f"The live index is now version {version}.")
