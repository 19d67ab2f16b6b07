"""`advisor ask` and `advisor chat`: answers in a terminal, through the same use case as Slack."""

from __future__ import annotations

import asyncio
import io
import json
import sys
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from bot.cli import render
from bot.cli.app import (
    app,
    console,
    err,
    log_unexpected,
    run,
    settings,
    unexpected_message,
    with_deps,
)
from bot.errors import (
    ConfigError,
    EmbedderMismatchError,
    IndexLockedError,
    IndexMissingError,
    UserFacingError,
)

# Failures that are the same for every question (no index, wrong embedder...): a batch stops at
# the first one. Anything else fails one question, and the rest of the batch is still answered.
_WHOLE_RUN_ERRORS = (ConfigError, IndexMissingError, EmbedderMismatchError, IndexLockedError)


def decode_argument(text: str) -> str:
    """Python hands undecodable argv bytes over as lone surrogates (PEP 383), which break the
    tokenizer and JSON output; turn each into U+FFFD instead."""
    encoding = sys.getfilesystemencoding()
    try:
        raw = text.encode(encoding, "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that no byte produced: nothing to recover
        return text.encode("utf-8", "replace").decode("utf-8")
    return raw.decode(encoding, "replace")


def replace_undecodable_input() -> None:
    """Read stdin with U+FFFD for bytes the locale's encoding cannot decode: by default Python
    raises (losing the batch) or smuggles lone surrogates in, depending on the locale."""
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")


if TYPE_CHECKING:
    from bot.deps import Deps
    from bot.models import DoneEvent, Question


def read_questions(questions: list[str]) -> list[str]:
    if questions == ["-"]:
        replace_undecodable_input()
        return [line.strip() for line in sys.stdin if line.strip()]
    return [" ".join(decode_argument(part) for part in questions)]


def _question(text: str, conversation_key: str | None = None) -> Question:
    # Imported here: the models pull in pydantic and the checklist, which `advisor reindex`
    # (registered in the same app) never needs.
    from bot.models import Question

    return Question(text=text, conversation_key=conversation_key)


async def stream_answer(deps: Deps, question: Question, as_json: bool) -> DoneEvent | None:
    from bot.models import DeltaEvent, DoneEvent

    done: DoneEvent | None = None
    async for event in deps.advisor.respond(question):
        if isinstance(event, DeltaEvent) and not as_json:
            console.out(event.text, end="", highlight=False)
        elif isinstance(event, DoneEvent):
            done = event
    if done is not None and not as_json:
        console.out("")
        render.print_done(console, done)
    return done


@app.command("ask")
def ask_command(
    question: Annotated[list[str], typer.Argument(help="The question, or - to read one per line.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per question.")] = False,
) -> None:
    """Answer one question (or many from stdin with `-`), with citations."""
    loaded = settings()
    texts = read_questions(question)

    async def body(deps: Deps) -> int:
        return await answer_all(deps, texts, as_json)

    if run(lambda: with_deps(loaded, body, with_memory=False)):
        raise typer.Exit(1)  # every question was tried; the failed ones were reported


async def answer_all(deps: Deps, texts: Sequence[str], as_json: bool) -> int:
    """Answer every question in turn; one that fails is reported and the next one is answered.
    Return how many failed."""
    failed = 0
    for text in texts:
        try:
            done = await stream_answer(deps, _question(text), as_json)
        except _WHOLE_RUN_ERRORS:
            raise
        except UserFacingError as exc:
            failed += 1
            report_failure(text, exc.message, None, as_json)
        except Exception as exc:
            failed += 1
            error_id = log_unexpected(exc, "answering a question failed")
            report_failure(text, unexpected_message(exc, error_id), error_id, as_json)
        else:
            if as_json and done is not None:
                print(json.dumps(render.answer_json(text, done)), flush=True)
    return failed


def report_failure(question: str, message: str, error_id: str | None, as_json: bool) -> None:
    """One failed question: a line on stderr, and with --json a line in its place on stdout so
    the output still has one line per question."""
    err.print(f"[red]Error:[/red] could not answer “{escape(question[:80])}”: {escape(message)}")
    if as_json:
        line = {"question": question, "error": message, "error_id": error_id}
        print(json.dumps(line), flush=True)


async def chat(deps: Deps) -> None:
    key = f"advisor:conv:cli:{uuid.uuid4().hex[:12]}"
    console.print(
        "[bold]Fine-tune advisor[/bold]. Ask about prompting, RAG or fine-tuning; "
        "`advisor checklist` gives a scored recommendation. Ctrl-D or /quit to leave."
    )
    if deps.chat is None:
        console.print(
            "[dim]No OPENAI_API_KEY: answers are extractive (quoted from the guidance).[/dim]"
        )
    replace_undecodable_input()
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
            await stream_answer(deps, _question(text, key), as_json=False)
        except _WHOLE_RUN_ERRORS:
            raise
        except UserFacingError as exc:
            console.print(f"[red]{escape(exc.message)}[/red]")
        except Exception as exc:
            # One failed turn does not end the conversation.
            error_id = log_unexpected(exc, "answering a question failed")
            console.print(f"[red]Error:[/red] {unexpected_message(exc, error_id)}")


@app.command("chat")
def chat_command() -> None:
    """A terminal conversation that remembers what was said."""
    loaded = settings()
    run(lambda: with_deps(loaded, chat))
