"""The `advisor` command end to end, as a user runs it: real processes, embedded defaults."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def advisor(
    *args: str, env: dict[str, str], stdin: str = "", timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "json.md").write_text(
        "---\ntitle: Strict JSON output\ntags: [format]\nsources: [team notes]\n---\n"
        "# Strict JSON output\n## Prompt first\nWhen a service needs strict JSON output, start "
        "with a schema in the prompt and a few examples. Fine-tune for format only when "
        "measured prompting still fails.\n"
    )
    (knowledge / "rag.md").write_text(
        "# Retrieval\n## Fresh facts\nRetrieval-augmented generation keeps answers current when "
        "policies change every month. Fine-tuning does not add facts reliably.\n"
    )
    (knowledge / "notes.docx").write_bytes(b"PK\x03\x04 not really a document")
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ADVISOR_", "OPENAI_", "SLACK_", "REDIS_", "QDRANT_"))
    }
    return {
        **base,
        "ADVISOR_KNOWLEDGE_DIR": str(knowledge),
        "ADVISOR_DATA_DIR": str(tmp_path / "data"),
        "HF_HUB_OFFLINE": "1",
        "COLUMNS": "200",
    }


def test_reindex_ask_status_round_trip(env: dict[str, str]) -> None:
    built = advisor("reindex", env=env)
    assert built.returncode == 0, built.stderr
    assert "Full rebuild of 2 documents" in built.stdout
    assert "notes.docx: Word document could not be read (damaged or not .docx)" in built.stdout

    noop = advisor("reindex", "--json", env=env)
    report = json.loads(noop.stdout)
    assert (report["embedded"], report["unchanged"], report["full"]) == (0, report["chunks"], False)

    asked = advisor(
        "ask", "-", "--json",
        env=env,
        stdin="Should we fine-tune for strict JSON output?\n\nOur policies change monthly; how do we keep answers current?\n",
    )  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    lines = [json.loads(line) for line in asked.stdout.splitlines()]
    assert len(lines) == 2  # the blank line is not a question
    first, second = lines
    assert set(first) >= {"question", "answer", "mode", "citations"}
    assert first["mode"] == "extractive"
    assert first["citations"][0]["source"] == "json.md"
    assert set(first["citations"][0]) >= {"source", "title", "section", "score", "text"}
    assert second["citations"][0]["source"] == "rag.md"

    status = advisor("status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    state = json.loads(status.stdout)
    assert state["index"]["documents"] == 2
    assert state["embedder"] == "local:all-MiniLM-L6-v2"
    assert "reachable" in state["redis"]
    assert state["llm"].startswith("not configured")


def test_ask_without_an_index_says_how_to_build_it(env: dict[str, str]) -> None:
    result = advisor("ask", "When should we fine-tune?", env=env)
    assert result.returncode == 2
    assert "advisor reindex" in result.stderr
    assert "Traceback" not in result.stderr


def test_reindex_of_a_missing_folder_is_a_clear_error(env: dict[str, str], tmp_path: Path) -> None:
    result = advisor("reindex", "--dir", str(tmp_path / "nope"), env=env)
    assert result.returncode == 2
    assert "nope" in result.stderr
    assert "Traceback" not in result.stderr


def test_chat_remembers_and_exits_on_eof(env: dict[str, str]) -> None:
    assert advisor("reindex", env=env).returncode == 0
    result = advisor(
        "chat", env=env, stdin="When should we fine-tune for JSON?\nAnd what about policies?\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Extractive answer") == 2
    assert "Sources" in result.stdout


def test_checklist_from_an_answers_file(env: dict[str, str], tmp_path: Path) -> None:
    env = {**env, "ADVISOR_KNOWLEDGE_DIR": str(Path(__file__).resolve().parents[2] / "knowledge")}
    answers = tmp_path / "answers.yaml"
    answers.write_text("nonsense_question: yes\n")
    bad = advisor("checklist", "--answers", str(answers), "--json", env=env)
    assert bad.returncode == 2
    assert "nonsense_question" in bad.stdout + bad.stderr
