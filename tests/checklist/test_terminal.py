"""`run_checklist` both ways: from an answers file (JSON out) and interactively via a scripted ask."""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from bot.checklist.terminal import EXIT_ERROR, EXIT_OK, EXIT_QUIT, run_checklist

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"

BRAND_VOICE_YAML = """\
failure_type: behaviour
reasoning_gap: no
task_stability: stable
examples: tens
label_quality: curated
prompting_tried: not_tried
rag_tried: not_needed
eval_set: informal
output_structure: light
volume_pressure: low
stakes: moderate
team_capacity: managed
"""


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=400, color_system=None), buffer


def _script(*replies: str) -> Callable[[str], str]:
    queue = list(replies)

    def ask(prompt: str) -> str:
        if not queue:
            raise EOFError
        return queue.pop(0)

    return ask


def test_answers_file_as_json_prints_the_full_result(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(BRAND_VOICE_YAML)  # unquoted yes/no style values stay strings
    console, out = _console()
    assert run_checklist(KNOWLEDGE, answers, True, console) == EXIT_OK
    result = json.loads(out.getvalue())
    assert result["recommendation"] == "prompting_first"
    for field in ("scores", "deciding_answers", "reasons", "next_steps", "what_would_change"):
        assert result[field]
    assert all(reason["cites"] for reason in result["reasons"])


def test_answers_file_in_json_and_decision_record(tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    pairs = (line.split(": ") for line in BRAND_VOICE_YAML.splitlines())
    answers.write_text(json.dumps(dict(pairs)))
    record = tmp_path / "adr.md"
    console, out = _console()
    code = run_checklist(
        KNOWLEDGE,
        answers,
        False,
        console,
        record_file=record,
        index_version="v7",
        today=datetime.date(2025, 5, 6),
    )
    assert code == EXIT_OK
    assert "Recommendation: Prompting first" in out.getvalue()
    assert "What would change it" in out.getvalue()
    assert "- Date: 2025-05-06" in record.read_text()


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda t: t + "colour: blue\n", "'colour'"),
        (lambda t: t.replace("eval_set: informal\n", ""), "missing answer for question 'eval_set'"),
        (lambda t: t.replace("stakes: moderate", "stakes: huge"), "unknown option id 'huge'"),
        (lambda t: "- a list\n", "expected a mapping"),
        (lambda t: "a: [unclosed\n", "not valid YAML or JSON"),
    ],
)
def test_bad_answers_file_exits_non_zero_naming_the_id(
    tmp_path: Path, edit: Callable[[str], str], fragment: str
) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(edit(BRAND_VOICE_YAML))
    console, out = _console()
    assert run_checklist(KNOWLEDGE, answers, True, console) == EXIT_ERROR
    assert fragment in out.getvalue().replace("\n", " ")


def test_missing_cited_document_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "checklist.yaml").write_text((KNOWLEDGE / "checklist.yaml").read_text())
    console, out = _console()
    assert run_checklist(tmp_path, None, False, console, _script()) == EXIT_ERROR
    assert "cites missing file" in out.getvalue()


def test_interactive_with_back_restart_and_bad_input() -> None:
    # behaviour, back, behaviour, restart, then a full brand-voice run with one bad reply.
    replies = ["2", "b", "2", "r", "2", "1", "1", "zz", "2", "1", "1", "2", "2", "2", "1", "2", "2"]
    console, out = _console()
    assert run_checklist(KNOWLEDGE, None, True, console, _script(*replies)) == EXIT_OK
    text = out.getvalue()
    assert "Question 1 of 11" in text
    assert "Why we ask:" in text
    assert "Please type a number from 1 to 4" in text
    result = json.loads(text[text.index("\n{") :])
    assert result["recommendation"] == "prompting_first"
    assert result["answers"][0]["option_id"] == "behaviour"


def test_interactive_quit_and_end_of_input() -> None:
    console, out = _console()
    assert run_checklist(KNOWLEDGE, None, False, console, _script("1", "q")) == EXIT_QUIT
    assert "nothing was recorded" in out.getvalue()
    assert run_checklist(KNOWLEDGE, None, False, console, _script()) == EXIT_QUIT
