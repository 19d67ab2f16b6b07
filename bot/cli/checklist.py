"""`advisor checklist`: the scored decision checklist in a terminal."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.app import app, console, settings
from bot.config import Settings
from bot.errors import UserFacingError


@app.command("checklist")
def checklist_command(
    answers: Annotated[
        Path | None, typer.Option("--answers", help="YAML/JSON file: question id -> option id.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
    record: Annotated[
        Path | None, typer.Option("--record", help="Also write an ADR-style decision record.")
    ] = None,
    reader: Annotated[
        bool,
        typer.Option(
            "--reader", help="List the options the offline situation reader cannot detect."
        ),
    ] = False,
) -> None:
    """The scored decision checklist: prompting, RAG, fine-tuning or a hybrid?"""
    from bot.checklist.terminal import reader_report, run_checklist

    loaded = settings()
    if reader:
        raise typer.Exit(reader_report(loaded.core.knowledge_dir, console))
    code = run_checklist(
        loaded.core.knowledge_dir,
        answers,
        as_json,
        console,
        lambda prompt: console.input(prompt),
        record_file=record,
        index_version=_live_version(loaded) if record else None,
    )
    raise typer.Exit(code)


def _live_version(loaded: Settings) -> str | None:
    """The live index version for the decision record; None when the index is busy or absent."""

    async def read() -> str | None:
        from bot.deps import aclose, build_deps

        deps = await build_deps(loaded, with_memory=False)
        try:
            return await deps.index_version()
        finally:
            await aclose(deps)

    try:
        return asyncio.run(read())
    except UserFacingError:
        return None
