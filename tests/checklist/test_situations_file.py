"""knowledge/situations.yaml, the situation readers' test set, is well formed and honest.

Well formed: it parses, ids are unique snake_case, and every question, option and outcome id is one
the shipped checklist defines. Honest: it is large and varied enough to measure a reader on, and
no situation lists fine-tuning (alone or hybrid) unless its own facts state every prerequisite, so
the expected verdicts follow the rule written at the top of the file.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Annotated

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bot.checklist.definition import Checklist
from bot.checklist.loader import load_checklist
from bot.retrieval.ingest import scan_folder

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
SITUATIONS = KNOWLEDGE / "situations.yaml"

SnakeId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

# Leading outcome -> fewest situations that must lead with it. Prompting first and prompting + RAG
# are each about a third of the set; the three costly-or-cautious verdicts need at least four.
MIN_SITUATIONS = 40
MIN_NON_SITUATIONS = 10
MIN_LEADING = {"fine_tune_peft": 4, "hybrid": 4, "not_yet": 4}
MIN_SHARE_LEADING = {"prompting_first": 0.25, "prompting_rag": 0.25}
TRAINING_OUTCOMES = {"fine_tune_peft", "hybrid"}


class Situation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: SnakeId
    text: Text
    outcomes: list[SnakeId] = Field(min_length=1)
    # Strict str: an unquoted YAML yes/no would arrive as a bool and must fail, not pass as "True".
    facts: dict[SnakeId, Annotated[str, Field(strict=True)]]


class SituationsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    situations: list[Situation]
    non_situations: list[Text]


@pytest.fixture(scope="module")
def checklist() -> Checklist:
    return load_checklist(KNOWLEDGE / "checklist.yaml")


@pytest.fixture(scope="module")
def data() -> SituationsFile:
    return SituationsFile.model_validate(yaml.safe_load(SITUATIONS.read_text(encoding="utf-8")))


def test_the_file_is_large_enough(data: SituationsFile) -> None:
    assert len(data.situations) >= MIN_SITUATIONS
    assert len(data.non_situations) >= MIN_NON_SITUATIONS


def test_ids_and_texts_are_unique(data: SituationsFile) -> None:
    ids = Counter(s.id for s in data.situations)
    assert [i for i, n in ids.items() if n > 1] == []
    texts = Counter(
        t.casefold() for t in [*(s.text for s in data.situations), *data.non_situations]
    )
    assert [t for t, n in texts.items() if n > 1] == []


def test_every_id_exists_in_the_checklist(data: SituationsFile, checklist: Checklist) -> None:
    outcome_ids = {o.id for o in checklist.outcomes}
    problems = []
    for situation in data.situations:
        if len(set(situation.outcomes)) != len(situation.outcomes):
            problems.append(f"{situation.id}: an outcome is listed twice")
        problems += [
            f"{situation.id}: unknown outcome {o}"
            for o in situation.outcomes
            if o not in outcome_ids
        ]
        for question_id, option_id in situation.facts.items():
            question = checklist.question(question_id)
            if question is None:
                problems.append(f"{situation.id}: unknown question {question_id}")
            elif question.option(option_id) is None:
                problems.append(f"{situation.id}: {question_id} has no option {option_id}")
    assert problems == []


def test_every_outcome_leads_often_enough(data: SituationsFile, checklist: Checklist) -> None:
    leading = Counter(s.outcomes[0] for s in data.situations)
    assert set(MIN_LEADING) | set(MIN_SHARE_LEADING) == {o.id for o in checklist.outcomes}
    for outcome, minimum in MIN_LEADING.items():
        assert leading[outcome] >= minimum, (outcome, leading)
    for outcome, share in MIN_SHARE_LEADING.items():
        assert leading[outcome] >= share * len(data.situations), (outcome, leading)


def training_prerequisites_missing(situation: Situation, outcome: str) -> list[str]:
    """The prerequisites of `outcome` (fine_tune_peft or hybrid) these facts do not state."""
    facts = situation.facts
    missing = []
    prompting = facts.get("prompting_tried")
    if prompting not in ("falls_short", "good_enough"):
        missing.append("prompting tried and measured")
    if prompting == "good_enough" and facts.get("volume_pressure") not in ("some", "high"):
        missing.append("good-enough prompting that is too costly at volume")
    if facts.get("examples") not in ("hundreds", "thousands"):
        missing.append("at least hundreds of examples")
    if facts.get("eval_set") != "yes":
        missing.append("an evaluation set")
    if "stakes" not in facts:
        missing.append("whether the data is regulated")
    elif facts["stakes"] == "regulated" and facts.get("governance") != "in_place":
        missing.append("governance in place for regulated data")
    if facts.get("reasoning_gap") == "yes":
        missing.append("no reasoning gap")
    knowledge_involved = facts.get("failure_type") in ("knowledge", "both") or (
        "failure_type" not in facts and facts.get("rag_tried") != "not_needed"
    )
    if (
        outcome == "fine_tune_peft"
        and knowledge_involved
        and facts.get("rag_tried") not in ("helps", "falls_short")
    ):
        missing.append("retrieval tried first for a knowledge failure")
    return missing


def test_training_outcomes_only_where_every_prerequisite_is_stated(data: SituationsFile) -> None:
    problems = [
        f"{situation.id} lists {outcome} without: {', '.join(missing)}"
        for situation in data.situations
        for outcome in situation.outcomes
        if outcome in TRAINING_OUTCOMES
        and (missing := training_prerequisites_missing(situation, outcome))
    ]
    assert problems == []


def test_the_prerequisite_check_catches_a_missing_prerequisite() -> None:
    ready = Situation(
        id="ready",
        text="t",
        outcomes=["fine_tune_peft"],
        facts={
            "failure_type": "behaviour",
            "prompting_tried": "falls_short",
            "examples": "hundreds",
            "eval_set": "yes",
            "stakes": "low",
        },
    )
    assert training_prerequisites_missing(ready, "fine_tune_peft") == []
    for question_id, option_id, why in [
        ("prompting_tried", "not_measured", "prompting tried and measured"),
        ("examples", "tens", "at least hundreds of examples"),
        ("eval_set", "informal", "an evaluation set"),
        ("stakes", "regulated", "governance in place for regulated data"),
        ("reasoning_gap", "yes", "no reasoning gap"),
        ("failure_type", "knowledge", "retrieval tried first for a knowledge failure"),
    ]:
        changed = ready.model_copy(update={"facts": {**ready.facts, question_id: option_id}})
        assert why in training_prerequisites_missing(changed, "fine_tune_peft"), question_id
    knowledge = ready.model_copy(update={"facts": {**ready.facts, "failure_type": "both"}})
    assert training_prerequisites_missing(knowledge, "hybrid") == []


def test_an_unquoted_yes_is_rejected() -> None:
    raw = yaml.safe_load("id: a\ntext: t\noutcomes: [not_yet]\nfacts: {eval_set: yes}\n")
    with pytest.raises(ValueError, match="string"):
        Situation.model_validate(raw)


def test_situations_have_many_voices(data: SituationsFile) -> None:
    texts = [s.text for s in data.situations]
    words = [len(t.split()) for t in texts]
    assert sum(n <= 15 for n in words) >= 8, "short Slack-style messages"
    assert sum(n >= 60 for n in words) >= 5, "long paragraphs"
    assert sum(t == t.lower() for t in texts) >= 4, "all-lowercase chat"
    number_words = re.compile(r"\b(twenty|thirty|fifty|hundred|thousand|zero)\b", re.IGNORECASE)
    assert sum(bool(number_words.search(t)) for t in texts) >= 4, "numbers in words"
    assert any(re.search(r"\d+\s*-\s*\d+\s+\w+", t) for t in texts), "a range of examples"


def test_the_file_is_not_indexed() -> None:
    scan = scan_folder(KNOWLEDGE)
    sources = {d.source for d in scan.documents} | {s.source for s in scan.skipped}
    assert SITUATIONS.name not in sources
