"""The `advisor` command end to end, as a user runs it: real processes, embedded defaults."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.openai_server import OpenAIServer

pytestmark = pytest.mark.slow


def advisor(
    *args: str | bytes, env: dict[str, str], stdin: str | bytes = "", timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run `advisor`; bytes in `args` or `stdin` reach it unchanged (invalid UTF-8 included)."""
    raw = subprocess.run(
        [sys.executable.encode(), b"-m", b"bot", *(os.fsencode(arg) for arg in args)],
        input=stdin.encode() if isinstance(stdin, str) else stdin,
        env=env,
        capture_output=True,
        timeout=timeout,
    )
    return subprocess.CompletedProcess(
        raw.args, raw.returncode, raw.stdout.decode(errors="replace"), raw.stderr.decode()
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
    # An invalid byte in a line is replaced, and the conversation goes on.
    result = advisor(
        "chat",
        env=env,
        stdin=b"When should we fine-tune for \xff JSON?\nAnd what about policies?\n",
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


def test_ask_with_invalid_bytes_answers_every_question(env: dict[str, str]) -> None:
    assert advisor("reindex", env=env).returncode == 0
    single = advisor("ask", b"should we fine-tune for strict \xff JSON output?", env=env)
    assert single.returncode == 0, single.stderr
    assert "Traceback" not in single.stderr
    assert "json.md" in single.stdout  # answered from the guidance, with its source

    batch = (
        b"Should we fine-tune for strict JSON output?\n"
        b"what is the \xff best way to keep answers current?\n"
        b"Our policies change monthly; how do we keep answers current?\n"
    )
    result = advisor("ask", "-", "--json", env=env, stdin=batch)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == [
        "Should we fine-tune for strict JSON output?",
        "what is the \ufffd best way to keep answers current?",  # replaced, not dropped
        "Our policies change monthly; how do we keep answers current?",
    ]
    assert all(line["citations"] for line in lines)
    assert lines[1]["citations"][0]["source"] == "rag.md"


def test_a_failed_question_is_reported_and_the_rest_of_the_batch_answered(
    env: dict[str, str], openai_server: OpenAIServer
) -> None:
    env = {
        **env,
        "OPENAI_API_KEY": "sk-cli-test",
        "OPENAI_BASE_URL": openai_server.url,
        "ADVISOR_EMBED_MODEL": "hashed-test-embedder",
        "ADVISOR_LLM_MAX_RETRIES": "0",
    }
    assert advisor("reindex", env=env).returncode == 0
    # The first question's embedding is refused (a clear error), the second one's comes back
    # malformed (an unexpected failure); the third question is answered normally.
    openai_server.queue_failure(status=400, endpoint="embeddings")
    openai_server.queue_failure(status=200, body={"object": "list"}, endpoint="embeddings")
    batch = "Strict JSON output?\nFresh facts every month?\nShould we fine-tune for JSON?\n"
    result = advisor("ask", "-", "--json", env=env, stdin=batch)

    assert result.returncode == 1
    first, second, third = (json.loads(line) for line in result.stdout.splitlines())
    assert first["question"] == "Strict JSON output?"
    assert "embedding service failed" in first["error"]
    assert second["question"] == "Fresh facts every month?"
    assert second["error_id"] and second["error_id"] in second["error"]
    assert second["error_id"] in result.stderr  # the log has the traceback under that id
    assert third["question"] == "Should we fine-tune for JSON?"
    assert third["mode"] == "llm" and third["answer"].startswith("The guidance covers this")
    assert "could not answer “Strict JSON output?”" in result.stderr
