"""`advisor ask` and `advisor chat`: answers in a terminal, through the same use case as Slack."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli import render
from bot.cli.app import app, console, run, settings, with_deps
from bot.errors import UserFacingError
from bot.models import DeltaEvent, DoneEvent, Question

if TYPE_CHECKING:
    from bot.deps import Deps


def read_questions(questions: list[str]) -> list[str]:
    if questions == ["-"]:
        return [line.strip() for line in sys.stdin if line.strip()]
    return [" ".join(questions)]


async def stream_answer(deps: Deps, question: Question, as_json: bool) -> DoneEvent | None:
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

    async def body(deps: Deps) -> None:
        for text in texts:
            done = await stream_answer(deps, Question(text=text), as_json)
            if as_json and done is not None:
                print(json.dumps(render.answer_json(text, done)), flush=True)

    run(lambda: with_deps(loaded, body, with_memory=False))


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
            await stream_answer(deps, Question(text=text, conversation_key=key), as_json=False)
        except UserFacingError as exc:
            console.print(f"[red]{exc.message}[/red]")


@app.command("chat")
def chat_command() -> None:
    """A terminal conversation that remembers what was said."""
    loaded = settings()
    run(lambda: with_deps(loaded, chat))
