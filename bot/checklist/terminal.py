"""`advisor checklist`: the same engine in a terminal, interactive or from an answers file.

Exit codes: 0 a result was shown, 1 the user quit, 2 a bad definition or answers file.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.checklist import engine
from bot.checklist.definition import Checklist, ChecklistError
from bot.checklist.loader import load_from_knowledge_dir
from bot.checklist.record import to_adr_markdown
from bot.checklist.scoring import Result

EXIT_OK, EXIT_QUIT, EXIT_ERROR = 0, 1, 2


def read_answers(path: Path) -> dict[str, str]:
    """A YAML or JSON mapping of question id -> option id."""
    try:
        text = path.read_text(encoding="utf-8")
        # BaseLoader keeps every scalar a string: plain YAML would turn `eval_set: yes` into True.
        data = yaml.load(text, Loader=yaml.BaseLoader)
    except OSError as exc:
        raise ChecklistError(f"cannot read answers file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ChecklistError(f"{path}{where}: not valid YAML or JSON") from None
    if not isinstance(data, dict):
        raise ChecklistError(f"{path}: expected a mapping of question id to option id")
    bad = [str(key) for key, value in data.items() if not isinstance(value, str)]
    if bad:
        raise ChecklistError(f"{path}: the answer to '{bad[0]}' must be a single option id")
    return {str(key): value for key, value in data.items()}


def _ask_all(checklist: Checklist, console: Console, ask: Callable[[str], str]) -> Result | None:
    session = engine.start(checklist)
    while (question := engine.current_question(checklist, session)) is not None:
        progress = engine.progress(checklist, session)
        console.print(
            f"\n[bold]Question {progress.answered + 1} of {progress.total}[/bold]  "
            f"{escape(question.text)}"
        )
        console.print(f"  [dim]Why we ask: {escape(question.help)}[/dim]")
        for number, option in enumerate(question.options, start=1):
            console.print(f"  {number}. {escape(option.label)}")
        console.print("  [dim]b = back, r = restart, q = quit[/dim]")
        try:
            reply = ask("> ").strip().lower()
        except (EOFError, KeyboardInterrupt):
            reply = "q"
        if reply == "q":
            return None
        if reply == "b":
            session = engine.back(checklist, session)
        elif reply == "r":
            session = engine.restart(checklist, session)
        elif reply.isdigit() and 1 <= int(reply) <= len(question.options):
            option = question.options[int(reply) - 1]
            session = engine.answer(checklist, session, question.id, option.id)
        else:
            console.print(f"[yellow]Please type a number from 1 to {len(question.options)}.[/]")
    return engine.result(checklist, session)


def render_result(result: Result, console: Console) -> None:
    console.rule(f"[bold]Recommendation: {escape(result.label)}")
    console.print(escape(result.summary))
    scores = Table("Outcome", "Score", title="Scores (ties go to the cheaper option)")
    for score in result.scores:
        scores.add_row(escape(score.label), str(score.score))
    console.print(scores)
    if result.deciding_answers:
        console.print("[bold]Deciding answers[/bold]")
        for d in result.deciding_answers:
            console.print(f"  - {escape(d.question)} [bold]{escape(d.option)}[/bold]")
    for blocked in result.blocked:
        console.print(f"[bold]Ruled out:[/bold] {escape(blocked.label)} (scored {blocked.score})")
        for block in blocked.reasons:
            console.print(f"  - {escape(block.rationale)}")
            console.print(f"    First: {escape(block.unblock)}")
    console.print("[bold]Reasons[/bold]")
    for reason in result.reasons:
        cites = ", ".join(reason.cites)
        console.print(f"  - {escape(reason.rationale)} [dim]({escape(cites)})[/dim]")
    for warning in result.warnings:
        cites = ", ".join(warning.cites)
        console.print(f"[yellow]Warning:[/] {escape(warning.text)} [dim]({escape(cites)})[/dim]")
    console.print("[bold]Next steps[/bold]")
    for number, step in enumerate(result.next_steps, start=1):
        console.print(f"  {number}. {escape(step)}")
    console.print("[bold]What would change it[/bold]")
    for flip in result.what_would_change:
        console.print(
            f"  - {escape(flip.question)} [bold]{escape(flip.to_option)}[/bold] -> "
            f"{escape(flip.new_label)}"
        )
    if not result.what_would_change:
        console.print("  - No single changed answer changes the recommendation.")


def reader_report(knowledge_dir: Path, console: Console) -> int:
    """What the offline situation reader cannot recognise in this folder's checklist."""
    from bot.checklist.reading.offline import OfflineReader

    try:
        checklist = load_from_knowledge_dir(knowledge_dir)
    except ChecklistError as exc:
        console.print(f"[red]error:[/red] {escape(exc.message)}")
        return EXIT_ERROR
    missing = OfflineReader(checklist).undetectable()
    if not missing:
        console.print("The offline reader can recognise every option of every question.")
        return EXIT_OK
    console.print(
        "The offline reader cannot recognise these options (add `cues` to them in "
        "checklist.yaml; the LLM reader needs nothing more):"
    )
    for question_id, option_id in missing:
        console.print(f"  - {question_id}: {option_id}")
    return EXIT_OK


def run_checklist(
    knowledge_dir: Path,
    answers_file: Path | None,
    as_json: bool,
    console: Console,
    ask: Callable[[str], str] = input,
    *,
    record_file: Path | None = None,
    index_version: str | None = None,
    today: datetime.date | None = None,
) -> int:
    """Run the checklist; `record_file` also writes the ADR decision record there."""
    try:
        checklist = load_from_knowledge_dir(knowledge_dir)
        if answers_file is not None:
            answers = read_answers(answers_file)
            result = engine.result(checklist, engine.answer_all(checklist, answers))
        else:
            console.print(f"[bold]{escape(checklist.title)}[/bold] (b back, r restart, q quit)")
            outcome = _ask_all(checklist, console, ask)
            if outcome is None:
                console.print("Stopped; nothing was recorded.")
                return EXIT_QUIT
            result = outcome
        if record_file is not None:
            record = to_adr_markdown(
                result, date=today or datetime.date.today(), index_version=index_version
            )
            record_file.write_text(record, encoding="utf-8")
    except ChecklistError as exc:
        console.print(f"[red]error:[/red] {escape(exc.message)}")
        return EXIT_ERROR
    except OSError as exc:
        console.print(f"[red]error:[/red] cannot write the decision record: {exc.strerror}")
        return EXIT_ERROR
    if as_json:
        console.out(result.model_dump_json(indent=2), highlight=False)
    else:
        render_result(result, console)
    return EXIT_OK
