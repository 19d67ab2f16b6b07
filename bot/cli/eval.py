"""`advisor eval`: retrieval quality of a folder on a question set, for hybrid, dense and sparse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.app import app, console, run, settings, with_deps


@app.command("eval")
def eval_command(
    questions_file: Annotated[
        Path, typer.Option("--questions", help="Question set (YAML or JSON Lines).")
    ],
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Folder to evaluate (default ADVISOR_KNOWLEDGE_DIR)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Retrieval quality of a folder: hit@1/3/5, MRR, fact-hit@3, no-match rate, misses."""
    # Imported here: building an index loads the engine, which other commands need not pay for.
    from bot.cli.eval_run import eval_settings, evaluate_folder, print_eval
    from bot.retrieval.evaluation import load_questions

    loaded = settings()
    folder = directory or loaded.core.knowledge_dir
    questions = load_questions(questions_file)
    scoped = eval_settings(loaded, folder)
    report = run(
        lambda: with_deps(
            scoped, lambda deps: evaluate_folder(deps, folder, questions), with_memory=False
        )
    )
    if as_json:
        print(report.model_dump_json())
    else:
        print_eval(console, report, folder, questions_file)
