"""`advisor reindex`, `advisor status` and `advisor rollback`: the knowledge index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.cli import render
from bot.cli.app import app, console, err, run, settings, with_deps
from bot.deps import Deps
from bot.errors import UserFacingError
from bot.retrieval.availability import IndexUnavailableError
from bot.retrieval.indexer import ReindexReport, reindex
from bot.retrieval.store import IndexInfo


async def reindex_with_progress(
    deps: Deps, directory: Path, full: bool, dry_run: bool, quiet: bool
) -> ReindexReport:
    loaded = deps.settings
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet,
        transient=True,
    ) as progress:
        tasks: dict[str, Any] = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                label = {"scan": "Reading", "embed": "Embedding", "write": "Writing"}[stage]
                tasks[stage] = progress.add_task(label, total=total or 1)
            progress.update(tasks[stage], completed=done, total=total or 1)

        report = await reindex(
            deps.store,
            deps.embedder,
            directory,
            chunk_chars=loaded.retrieval.chunk_chars,
            max_file_bytes=loaded.retrieval.max_file_bytes,
            full=full,
            dry_run=dry_run,
            built_by="cli",
            progress=on_progress,
        )
    deps.retriever.forget_info()
    return report


@app.command("reindex")
def reindex_command(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Knowledge folder (default ADVISOR_KNOWLEDGE_DIR).")
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Rebuild into a new collection.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report changes only.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Index the knowledge folder: only changed chunks are embedded again."""
    loaded = settings()
    folder = directory or loaded.core.knowledge_dir
    report = run(
        lambda: with_deps(
            loaded,
            lambda d: reindex_with_progress(d, folder, full, dry_run, as_json),
            with_memory=False,
        )
    )
    if as_json:
        print(report.model_dump_json())
    else:
        render.print_report(console, report)


async def _status(deps: Deps) -> dict[str, Any]:
    from bot.memory.connection import redis_health

    problem = None
    info: IndexInfo | None
    try:
        info = await deps.store.require_live(deps.embedder.name)
    except IndexUnavailableError as exc:
        problem, info = exc.message, None  # asking again would only fail again
    except UserFacingError as exc:
        problem = exc.message
        info = await deps.store.info()
    redis_state = "not connected"
    if deps.redis is not None:
        redis_problem = await redis_health(deps.redis)
        redis_state = redis_problem or (
            "embedded, reachable" if deps.embedded_redis else "reachable"
        )
    if deps.chat is None:
        llm_state = "not configured (extractive answers)"
    else:
        llm_problem = await deps.chat.ping()
        llm_state = llm_problem or f"reachable ({deps.settings.llm.chat_model})"
    return {
        "index": info.model_dump() if info else None,
        "problem": problem,
        "embedder": deps.embedder.name,
        "redis": redis_state,
        "llm": llm_state,
    }


@app.command("status")
def status_command(
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The live index, the embedder, and whether Redis and the LLM answer."""
    loaded = settings()
    state = run(lambda: with_deps(loaded, _status))
    if as_json:
        print(json.dumps(state))
        return
    info = IndexInfo.model_validate(state["index"]) if state["index"] else None
    render.print_status(
        console, info, state["problem"], state["embedder"], state["redis"], state["llm"]
    )


@app.command("rollback")
def rollback_command() -> None:
    """Point the live alias back at the previous index (under the shared reindex lock)."""
    from bot.admin.wiring import build_admin

    loaded = settings()

    async def body(deps: Deps) -> str:
        result = await build_admin(deps, loaded.admin, deps.metrics).rollback("cli")
        return result.live.version

    version = run(lambda: with_deps(loaded, body))
    console.print(f"The live index is now version {version}.")
