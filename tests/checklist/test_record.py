"""The ADR export: all sections, the date and index version given, citations kept."""

from __future__ import annotations

import datetime
from pathlib import Path

from bot.checklist import engine
from bot.checklist.loader import load_checklist
from bot.checklist.record import to_adr_markdown

CHECKLIST = load_checklist(Path(__file__).resolve().parents[2] / "knowledge" / "checklist.yaml")

CATALOGUE = {
    "failure_type": "knowledge",
    "knowledge_change": "monthly",
    "reasoning_gap": "no",
    "task_stability": "stable",
    "examples": "hundreds",
    "label_quality": "mixed",
    "prompting_tried": "not_measured",
    "rag_tried": "not_tried",
    "eval_set": "informal",
    "output_structure": "free_text",
    "volume_pressure": "some",
    "stakes": "moderate",
    "team_capacity": "managed",
}


def test_record_has_every_adr_section() -> None:
    result = engine.result(CHECKLIST, engine.answer_all(CHECKLIST, CATALOGUE, user_id="U|7"))
    text = to_adr_markdown(result, date=datetime.date(2025, 3, 4), index_version="idx-42")
    for heading in ("# ADR:", "## Context", "## Answers", "## Decision", "## Consequences"):
        assert heading in text
    assert "- Date: 2025-03-04" in text
    assert "- Knowledge index version: idx-42" in text
    assert f"- Checklist version: {CHECKLIST.version}" in text
    assert "**Prompting + RAG**" in text
    assert "`when-to-use-rag.md`" in text
    assert "Fine-tuning does not add facts reliably" in text
    assert "U\\|7" in text  # pipes in cells are escaped so the table stays a table
    assert "What would change this decision:" in text
    assert result.next_steps[0] in text
    assert text.count("\n| ") == len(result.answers) + 2  # header, rule, one row per answer


def test_record_is_pure() -> None:
    result = engine.result(CHECKLIST, engine.answer_all(CHECKLIST, CATALOGUE))
    one = to_adr_markdown(result, date=datetime.date(2025, 1, 1), index_version=None)
    assert one == to_adr_markdown(result, date=datetime.date(2025, 1, 1), index_version=None)
    assert "- Knowledge index version: unknown" in one
