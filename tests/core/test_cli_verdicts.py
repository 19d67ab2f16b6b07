"""Verdicts through the `advisor` command as a user runs it: real processes on knowledge/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.core.test_cli import advisor, env  # noqa: F401  (the env fixture)

pytestmark = pytest.mark.slow
KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


@pytest.fixture
def knowledge_env(env: dict[str, str]) -> dict[str, str]:  # noqa: F811
    return {**env, "ADVISOR_KNOWLEDGE_DIR": str(KNOWLEDGE)}


def test_ask_json_carries_the_assessment(knowledge_env: dict[str, str]) -> None:
    assert advisor("reindex", env=knowledge_env).returncode == 0
    asked = advisor(
        "ask", "-", "--json",
        env=knowledge_env,
        stdin=(
            "Marketing wants every answer in our brand voice. We have about 50 example posts.\n"
            "What is LoRA?\n"
        ),
    )  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    situation, general = (json.loads(line) for line in asked.stdout.splitlines())
    assessment = situation["assessment"]
    assert set(assessment) == {"outcome", "label", "confidence", "facts", "missing", "blocked"}
    assert (assessment["outcome"], assessment["confidence"]) == ("prompting_first", "provisional")
    assert {"question_id": "examples", "option_id": "tens"}.items() <= next(
        f for f in assessment["facts"] if f["question_id"] == "examples"
    ).items()
    assert "50 example posts" in next(
        f["evidence"] for f in assessment["facts"] if f["question_id"] == "examples"
    )
    assert assessment["missing"] and all(isinstance(q, str) for q in assessment["missing"])
    assert situation["answer"].startswith("**Recommendation: Prompting first**")
    assert general["assessment"] is None


def test_checklist_json_names_what_blocked_fine_tuning(
    knowledge_env: dict[str, str], tmp_path: Path
) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "failure_type: behaviour\nreasoning_gap: 'no'\ntask_stability: stable\n"
        "examples: thousands\nlabel_quality: curated\nprompting_tried: not_tried\n"
        "rag_tried: not_needed\neval_set: 'yes'\noutput_structure: strict\n"
        "volume_pressure: high\nstakes: low\nteam_capacity: in_house\n"
    )
    result = advisor("checklist", "--answers", str(answers), "--json", env=knowledge_env)
    assert result.returncode == 0, result.stderr
    decided = json.loads(result.stdout)
    assert decided["recommendation"] not in ("fine_tune_peft", "hybrid")
    blocked = {b["outcome"]: b for b in decided["blocked"]}
    assert [r["prerequisite_id"] for r in blocked["fine_tune_peft"]["reasons"]] == [
        "prompting_measured_first"
    ]
    assert blocked["fine_tune_peft"]["reasons"][0]["unblock"]


def test_checklist_reader_lists_what_the_offline_reader_cannot_detect(
    knowledge_env: dict[str, str], tmp_path: Path
) -> None:
    ok = advisor("checklist", "--reader", env=knowledge_env)
    assert ok.returncode == 0 and "every option" in ok.stdout
    folder = tmp_path / "k"
    folder.mkdir()
    for doc in KNOWLEDGE.glob("*.md"):
        (folder / doc.name).write_text(doc.read_text(encoding="utf-8"), encoding="utf-8")
    text = (KNOWLEDGE / "checklist.yaml").read_text(encoding="utf-8")
    (folder / "checklist.yaml").write_text(
        text.replace("      - id: unsure\n        label: Not sure\n",
                     "      - id: sometimes\n        label: Sometimes\n"
                     "      - id: unsure\n        label: Not sure\n", 1),
        encoding="utf-8",
    )  # fmt: skip
    listed = advisor(
        "checklist", "--reader", env={**knowledge_env, "ADVISOR_KNOWLEDGE_DIR": str(folder)}
    )
    assert listed.returncode == 0
    assert "reasoning_gap: sometimes" in listed.stdout
