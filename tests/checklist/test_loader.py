"""Loading the definition: the shipped file is valid, and bad files fail naming file:line."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from bot.checklist.definition import ChecklistError
from bot.checklist.loader import (
    check_citations,
    load_checklist,
    load_from_knowledge_dir,
    parse_checklist,
)

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"

GOOD = textwrap.dedent(
    """\
    version: "t1"
    title: Test
    outcomes:
      - {id: prompting_first, label: P, summary: s, next_steps: [a]}
      - {id: prompting_rag, label: R, summary: s, next_steps: [a]}
      - {id: not_yet, label: N, summary: s, next_steps: [a]}
      - {id: fine_tune_peft, label: F, summary: s, next_steps: [a]}
      - {id: hybrid, label: H, summary: s, next_steps: [a]}
    questions:
      - id: failure_type
        text: What fails?
        help: Because.
        options:
          - {id: knowledge, label: Facts}
          - {id: behaviour, label: Format}
      - id: examples
        text: How many examples?
        help: Because.
        ask_if: {all: {failure_type: behaviour}}
        options:
          - {id: none, label: None}
          - {id: many, label: Many}
    rules:
      - id: facts
        when: {all: {failure_type: knowledge}}
        add: {prompting_rag: 3}
        rationale: Facts belong in retrieval.
        cites: [when-to-use-rag.md]
      - id: data
        when: {all: {examples: many}}
        add: {fine_tune_peft: 3}
        rationale: Data allows training.
        cites: [data-readiness-and-quality.md]
    warnings:
      - id: facts_warning
        when: {any: {failure_type: knowledge}}
        text: Fine-tuning does not add facts reliably.
        cites: [what-fine-tuning-does-not-fix.md]
    """
)


def _error(text: str) -> str:
    with pytest.raises(ChecklistError) as caught:
        parse_checklist(text, name="checklist.yaml")
    return caught.value.message


def test_shipped_checklist_loads_with_all_citations_present() -> None:
    checklist = load_from_knowledge_dir(KNOWLEDGE)
    assert len(checklist.questions) >= 10
    assert checklist.outcomes[0].id == "prompting_first"


def test_good_definition_parses_without_knowledge_folder() -> None:
    checklist = parse_checklist(GOOD)
    assert [q.id for q in checklist.questions] == ["failure_type", "examples"]
    assert checklist.rules[0].when.all == {"failure_type": ("knowledge",)}


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        pytest.param("title: Test\n", "title: [unclosed\n", 3, "YAML syntax error", id="bad_yaml"),
        pytest.param(
            "{all: {examples: many}}",
            "{all: {examples: lots}}",
            30,
            "unknown option id 'lots' for question 'examples'",
            id="unknown_option_in_rule",
        ),
        pytest.param(
            "{all: {failure_type: knowledge}}\n    add: {prompting_rag",
            "{all: {failure: knowledge}}\n    add: {prompting_rag",
            25,
            "unknown question id 'failure'",
            id="unknown_question_in_rule",
        ),
        pytest.param(
            "- id: data\n", "- id: facts\n", 29, "duplicate rule id 'facts'", id="duplicate_rule_id"
        ),
        pytest.param(
            "{id: many, label: Many}",
            "{id: none, label: Many}",
            22,
            "duplicate option id 'none'",
            id="duplicate_option_id",
        ),
        pytest.param(
            "    rationale: Data allows training.\n",
            "",
            29,
            "rules.1.rationale: Field required",
            id="missing_field",
        ),
        pytest.param(
            "add: {fine_tune_peft: 3}",
            "add: {fine_tune: 3}",
            31,
            "rules.1.add.fine_tune:",
            id="bad_outcome",
        ),
        pytest.param(
            "  - {id: hybrid, label: H, summary: s, next_steps: [a]}\n",
            "",
            3,
            "missing outcomes: hybrid",
            id="missing_outcome",
        ),
        pytest.param(
            "title: Test\n", "title: Test\ntitle: Again\n", 3, "duplicate key 'title'", id="dup_key"
        ),
        pytest.param(
            "cites: [when-to-use-rag.md]",
            "cites: [when-to-use-rag.txt]",
            28,
            "rules.0.cites.0",
            id="bad_cite",
        ),
    ],
)
def test_bad_definitions_name_the_line(old: str, new: str, line: int, fragment: str) -> None:
    assert old in GOOD
    message = _error(GOOD.replace(old, new, 1))
    assert f"checklist.yaml:{line}:" in message
    assert fragment in message


def test_ask_if_cannot_look_ahead() -> None:
    text = GOOD.replace(
        "ask_if: {all: {failure_type: behaviour}}", "ask_if: {all: {examples: none}}"
    )
    assert "unknown question id 'examples'" in _error(text)


def test_top_level_must_be_a_mapping() -> None:
    assert "must be a YAML mapping" in _error("- just\n- a list\n")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ChecklistError, match="cannot read checklist"):
        load_checklist(tmp_path / "checklist.yaml")


def test_check_citations_names_rule_and_file(tmp_path: Path) -> None:
    checklist = parse_checklist(GOOD)
    (tmp_path / "when-to-use-rag.md").write_text("# RAG\n")
    with pytest.raises(ChecklistError) as caught:
        check_citations(checklist, tmp_path)
    message = caught.value.message
    assert "rule 'data' cites missing file data-readiness-and-quality.md" in message
    assert "warning 'facts_warning' cites missing file what-fine-tuning-does-not-fix.md" in message
    assert not re.search(r"rule 'facts'", message)
