"""`advisor`: the terminal face of the same engine the Slack bot uses."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot import cli_render
from bot.config import Settings, load_settings
from bot.deps import Deps, aclose, build_deps
from bot.errors import AdvisorError, UserFacingError, new_error_id
from bot.logging_setup import configure_logging
from bot.memory.feedback import FeedbackRecord
from bot.models import DeltaEvent, DoneEvent, Question
from bot.retrieval.availability import IndexUnavailableError
from bot.retrieval.indexer import ReindexReport, reindex
from bot.retrieval.store import IndexInfo

app = typer.Typer(
    help="The fine-tune advisor: should you prompt, add RAG, or fine-tune?",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err = Console(stderr=True, soft_wrap=True)
log = logging.getLogger("bot.cli")
T = TypeVar("T")


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.core.log_level, settings.core.log_json)
    return settings


def _run(coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one command; user-facing errors become a clear message and exit code 2."""
    try:
        return asyncio.run(coro_fn())
    except UserFacingError as exc:
        err.print(f"[red]Error:[/red] {exc.message}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err.print("[yellow]Interrupted.[/yellow]")
        raise typer.Exit(130) from None
    except (AdvisorError, OSError, RuntimeError) as exc:
        error_id = new_error_id()
        log.exception("command failed (error id %s)", error_id)
        err.print(f"[red]Error:[/red] {type(exc).__name__} (error id {error_id}); see the log.")
        raise typer.Exit(1) from None


async def _with_deps(
    settings: Settings, body: Callable[[Deps], Awaitable[T]], *, with_memory: bool = True
) -> T:
    deps = await build_deps(settings, with_memory=with_memory)
    try:
        return await body(deps)
    finally:
        await aclose(deps)


async def _reindex(
    deps: Deps, directory: Path, full: bool, dry_run: bool, quiet: bool
) -> ReindexReport:
    settings = deps.settings
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
            chunk_chars=settings.retrieval.chunk_chars,
            max_file_bytes=settings.retrieval.max_file_bytes,
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
    settings = _settings()
    folder = directory or settings.core.knowledge_dir
    report = _run(
        lambda: _with_deps(
            settings, lambda d: _reindex(d, folder, full, dry_run, as_json), with_memory=False
        )
    )
    if as_json:
        print(report.model_dump_json())
    else:
        cli_render.print_report(console, report)


def _read_questions(questions: list[str]) -> list[str]:
    if questions == ["-"]:
        return [line.strip() for line in sys.stdin if line.strip()]
    return [" ".join(questions)]


async def _stream_answer(deps: Deps, question: Question, as_json: bool) -> DoneEvent | None:
    done: DoneEvent | None = None
    async for event in deps.advisor.respond(question):
        if isinstance(event, DeltaEvent) and not as_json:
            console.out(event.text, end="", highlight=False)
        elif isinstance(event, DoneEvent):
            done = event
    if done is not None and not as_json:
        console.out("")
        cli_render.print_done(console, done)
    return done


@app.command("ask")
def ask_command(
    question: Annotated[list[str], typer.Argument(help="The question, or - to read one per line.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per question.")] = False,
) -> None:
    """Answer one question (or many from stdin with `-`), with citations."""
    settings = _settings()
    texts = _read_questions(question)

    async def body(deps: Deps) -> None:
        for text in texts:
            done = await _stream_answer(deps, Question(text=text), as_json)
            if as_json and done is not None:
                print(json.dumps(cli_render.answer_json(text, done)), flush=True)

    _run(lambda: _with_deps(settings, body, with_memory=False))


async def _chat(deps: Deps) -> None:
    key = f"advisor:conv:cli:{uuid.uuid4().hex[:12]}"
    console.print(
        "[bold]Fine-tune advisor[/bold]. Ask about prompting, RAG or fine-tuning; "
        "`advisor checklist` gives a scored recommendation. Ctrl-D or /quit to leave."
    )
    if deps.chat is None:
        console.print(
            "[dim]No OPENAI_API_KEY: answers are extractive (quoted from the guidance).[/dim]"
        )
    while True:
        try:
            text = await asyncio.to_thread(console.input, "\n[bold cyan]you ›[/bold cyan] ")
        except EOFError:
            console.print()
            return
        if text.strip() in {"/quit", "/exit"}:
            return
        if not text.strip():
            continue
        console.print("[bold green]advisor ›[/bold green] ", end="")
        try:
            await _stream_answer(deps, Question(text=text, conversation_key=key), as_json=False)
        except UserFacingError as exc:
            console.print(f"[red]{exc.message}[/red]")


@app.command("chat")
def chat_command() -> None:
    """A terminal conversation that remembers what was said."""
    settings = _settings()
    _run(lambda: _with_deps(settings, _chat))


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
    settings = _settings()
    state = _run(lambda: _with_deps(settings, _status))
    if as_json:
        print(json.dumps(state))
        return
    info = IndexInfo.model_validate(state["index"]) if state["index"] else None
    cli_render.print_status(
        console, info, state["problem"], state["embedder"], state["redis"], state["llm"]
    )


@app.command("config")
def config_command() -> None:
    """Print the effective settings; secrets are redacted."""
    settings = _settings()
    table = Table("group", "variable", "value", header_style="bold")
    for group, name, value in settings.describe():
        table.add_row(group, name, value)
    console.print(table)


async def _serve(deps: Deps) -> None:
    from bot.slack.server import serve
    from bot.slack.wiring import build_slack_services

    services = build_slack_services(deps)
    await deps.embedder.warm_up()  # the first question should not wait for the model to load
    slack = deps.settings.slack
    if slack.app_token is not None:
        err.print("Connecting to Slack in Socket Mode. Ctrl-C to stop.")
    else:
        err.print(f"Listening for Slack on http://{slack.host}:{slack.port}/slack/events")
    await serve(slack, services, health_port=deps.settings.admin.health_port)


@app.command("serve")
def serve_command() -> None:
    """Run the Slack bot: Socket Mode with SLACK_APP_TOKEN, otherwise HTTP on ADVISOR_PORT."""
    settings = _settings()
    if not settings.slack.configured:
        raise UserFacingError("`advisor serve` needs SLACK_BOT_TOKEN; see docs/install-slack.md.")
    _run(lambda: _with_deps(settings, _serve))


@app.command("run")
def run_command() -> None:
    """What `make run` does: bring the index up to date, then start the Slack bot when Slack
    tokens are set, and the terminal chat otherwise."""
    settings = _settings()

    async def body(deps: Deps) -> None:
        report = await _reindex(deps, settings.core.knowledge_dir, False, False, quiet=False)
        if report.embedded or report.removed:
            cli_render.print_report(console, report)
        if settings.slack.configured:
            await _serve(deps)
        else:
            await _chat(deps)

    _run(lambda: _with_deps(settings, body))


@app.command("rollback")
def rollback_command() -> None:
    """Point the live alias back at the previous index (under the shared reindex lock)."""
    from bot.admin.wiring import build_admin

    settings = _settings()

    async def body(deps: Deps) -> str:
        result = await build_admin(deps, settings.admin, deps.metrics).rollback("cli")
        return result.live.version

    version = _run(lambda: _with_deps(settings, body))
    console.print(f"The live index is now version {version}.")


@app.command("feedback")
def feedback_command(
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Recent helpful / not helpful votes from Slack, newest first."""
    settings = _settings()

    async def body(deps: Deps) -> list[FeedbackRecord]:
        assert deps.feedback is not None
        return await deps.feedback.recent(limit)

    records = _run(lambda: _with_deps(settings, body))
    if as_json:
        for record in records:
            print(record.model_dump_json())
        return
    cli_render.print_feedback(console, records)


@app.command("checklist")
def checklist_command(
    answers: Annotated[
        Path | None, typer.Option("--answers", help="YAML/JSON file: question id -> option id.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
    record: Annotated[
        Path | None, typer.Option("--record", help="Also write an ADR-style decision record.")
    ] = None,
) -> None:
    """The scored decision checklist: prompting, RAG, fine-tuning or a hybrid?"""
    from bot.checklist.terminal import run_checklist

    settings = _settings()
    code = run_checklist(
        settings.core.knowledge_dir,
        answers,
        as_json,
        console,
        lambda prompt: console.input(prompt),
        record_file=record,
        index_version=_live_version(settings) if record else None,
    )
    raise typer.Exit(code)


def _live_version(settings: Settings) -> str | None:
    """The live index version for the decision record; None when the index is busy or absent."""

    async def read() -> str | None:
        deps = await build_deps(settings, with_memory=False)
        try:
            return await deps.index_version()
        finally:
            await aclose(deps)

    try:
        return asyncio.run(read())
    except UserFacingError:
        return None


def main() -> None:
    try:
        app()
    except UserFacingError as exc:  # raised while loading settings
        err.print(f"[red]Error:[/red] {exc.message}")
        sys.exit(2)
