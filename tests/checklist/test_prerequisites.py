"""Prerequisites the score cannot outvote: the four cases the additive scoring got wrong, the
result naming what blocked an outcome, and a property test against an oracle written from the
guidance's measurement-first order (not from checklist.yaml), so a mistake in the file fails it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checklist import engine
from bot.checklist.definition import ChecklistError
from bot.checklist.known import Known
from bot.checklist.loader import load_checklist, parse_checklist
from bot.checklist.scoring import recommend

CHECKLIST_PATH = Path(__file__).resolve().parents[2] / "knowledge" / "checklist.yaml"
CHECKLIST = load_checklist(CHECKLIST_PATH)
TRAINING = {"fine_tune_peft", "hybrid"}

# Everything in favour of fine-tuning; each case below takes one prerequisite away.
IN_FAVOUR = {
    "failure_type": "behaviour",
    "reasoning_gap": "no",
    "task_stability": "stable",
    "examples": "thousands",
    "label_quality": "curated",
    "prompting_tried": "falls_short",
    "rag_tried": "not_needed",
    "eval_set": "yes",
    "output_structure": "strict",
    "volume_pressure": "high",
    "stakes": "low",
    "team_capacity": "in_house",
}


def violation(answers: Mapping[str, str], outcome: str) -> str | None:
    """The guidance's order, written independently of checklist.yaml: which prerequisite an
    outcome would skip, or None."""
    if outcome in TRAINING:
        prompting = answers.get("prompting_tried")
        if not (
            prompting == "falls_short"
            or (prompting == "good_enough" and answers.get("volume_pressure") == "high")
        ):
            return "prompting not measured and short"
        if answers.get("examples") not in ("hundreds", "thousands"):
            return "fewer than hundreds of examples"
        if answers.get("eval_set") != "yes":
            return "no evaluation set"
        if answers.get("stakes") == "regulated" and answers.get("governance") != "in_place":
            return "regulated data without governance"
        if answers.get("reasoning_gap") == "yes":
            return "a reasoning gap"
    if (
        outcome == "fine_tune_peft"
        and answers.get("failure_type") in ("knowledge", "both")
        and answers.get("rag_tried") not in ("helps", "falls_short")
    ):
        return "retrieval not tried for a knowledge failure"
    return None


def test_everything_in_favour_recommends_fine_tuning() -> None:
    result = engine.result(CHECKLIST, engine.answer_all(CHECKLIST, IN_FAVOUR))
    assert result.recommendation == "fine_tune_peft"
    assert result.blocked == ()


@pytest.mark.parametrize(
    ("change", "prerequisite"),
    [
        ({"examples": "none"}, "enough_examples_to_train"),
        ({"prompting_tried": "not_tried"}, "prompting_measured_first"),
        ({"prompting_tried": "not_measured"}, "prompting_measured_first"),
        ({"eval_set": "none"}, "evaluation_set_before_training"),
        (
            {"stakes": "regulated", "governance": "missing"},
            "governance_before_training_on_regulated_data",
        ),
        ({"reasoning_gap": "yes"}, "no_training_for_reasoning_gaps"),
    ],
)
def test_a_missing_prerequisite_blocks_training_whatever_the_score(
    change: dict[str, str], prerequisite: str
) -> None:
    answers = {**IN_FAVOUR, **change}
    if answers["examples"] == "none":
        answers.pop("label_quality")
    result = engine.result(CHECKLIST, engine.answer_all(CHECKLIST, answers))
    assert result.recommendation not in TRAINING
    blocked = {b.outcome: b for b in result.blocked}
    assert "fine_tune_peft" in blocked  # it scored highest, and the result says why it lost
    reasons = blocked["fine_tune_peft"].reasons
    assert prerequisite in [r.prerequisite_id for r in reasons]
    reason = next(r for r in reasons if r.prerequisite_id == prerequisite)
    assert reason.status == "not_met" and reason.unblock and reason.cites


def test_the_issues_four_cases_end_in_neither_fine_tuning_nor_hybrid() -> None:
    cases = [
        # no examples, although prompting was measured short and all else favours training
        {**IN_FAVOUR, "examples": "none"},
        # prompting never tried (or not measured), with thousands of curated examples
        {**IN_FAVOUR, "prompting_tried": "not_tried"},
        {**IN_FAVOUR, "prompting_tried": "not_measured"},
        # no evaluation set, everything else in favour
        {**IN_FAVOUR, "eval_set": "none"},
        # regulated data, governance missing
        {**IN_FAVOUR, "stakes": "regulated", "governance": "missing"},
    ]
    for answers in cases:
        if answers["examples"] == "none":
            answers = {k: v for k, v in answers.items() if k != "label_quality"}
        result = engine.result(CHECKLIST, engine.answer_all(CHECKLIST, answers))
        assert result.recommendation not in TRAINING, answers


def test_retrieval_first_blocks_fine_tuning_alone_but_not_hybrid() -> None:
    answers = {
        **IN_FAVOUR,
        "failure_type": "both",
        "knowledge_change": "monthly",
        "rag_tried": "not_tried",
    }
    result = engine.result(CHECKLIST, engine.answer_all(CHECKLIST, answers))
    assert result.recommendation != "fine_tune_peft"
    blocked = {b.outcome: b for b in result.blocked}
    if "fine_tune_peft" in blocked:
        ids = [r.prerequisite_id for r in blocked["fine_tune_peft"].reasons]
        assert "retrieval_first_for_knowledge" in ids


def test_checklist_json_lists_blocked_outcomes(tmp_path: Path) -> None:
    result = engine.result(
        CHECKLIST, engine.answer_all(CHECKLIST, {**IN_FAVOUR, "eval_set": "none"})
    )
    dumped = result.model_dump(mode="json")
    assert dumped["blocked"][0]["outcome"] == "fine_tune_peft"
    assert dumped["blocked"][0]["reasons"][0]["prerequisite_id"]


# -- property: no answer combination gets past a prerequisite ---------------------------------


def _complete(picks: list[int]) -> dict[str, str]:
    """A complete set of answers, as the checklist would ask them (skipped questions absent)."""
    answers: dict[str, str] = {}
    for question, pick in zip(CHECKLIST.questions, picks, strict=False):
        if question.ask_if is None or question.ask_if.matches(answers):
            answers[question.id] = question.options[pick % len(question.options)].id
    return answers


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=59), min_size=14, max_size=14))
def test_no_random_complete_checklist_skips_a_prerequisite(picks: list[int]) -> None:
    answers = _complete(picks)
    outcome = recommend(CHECKLIST, Known(CHECKLIST, answers))
    assert violation(answers, outcome) is None, (answers, outcome)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=59), min_size=14, max_size=14))
def test_the_full_result_recommends_what_the_engine_recommends(picks: list[int]) -> None:
    answers = _complete(picks)
    result = engine.result(CHECKLIST, engine.answer_all(CHECKLIST, answers))
    assert result.recommendation == recommend(CHECKLIST, Known(CHECKLIST, answers))
    assert all(b.reasons for b in result.blocked)  # every blocked outcome says why


def test_no_combination_of_the_gating_answers_skips_a_prerequisite() -> None:
    """Exhaustive over every question a prerequisite reads (43,200 combinations), with every
    other answer set to favour training as strongly as the checklist allows."""
    gating = {
        "failure_type": ["knowledge", "behaviour", "both", "unclear"],
        "rag_tried": ["not_tried", "not_needed", "not_measured", "helps", "falls_short"],
        "prompting_tried": ["not_tried", "not_measured", "good_enough", "falls_short"],
        "volume_pressure": ["low", "some", "high"],
        "examples": ["none", "tens", "hundreds", "thousands"],
        "eval_set": ["none", "informal", "yes"],
        "stakes_governance": ["low", "moderate", "in_place", "partial", "missing"],
        "reasoning_gap": ["no", "yes", "unsure"],
    }
    checked = 0
    for values in itertools.product(*gating.values()):
        chosen = dict(zip(gating, values, strict=True))
        stakes = chosen.pop("stakes_governance")
        answers = {**IN_FAVOUR, **chosen}
        if stakes in ("low", "moderate"):
            answers["stakes"] = stakes
        else:
            answers["stakes"], answers["governance"] = "regulated", stakes
        if answers["failure_type"] in ("knowledge", "both"):
            answers["knowledge_change"] = "static"
        if answers["examples"] == "none":
            answers.pop("label_quality")
        outcome = recommend(CHECKLIST, Known(CHECKLIST, answers))
        assert violation(answers, outcome) is None, (answers, outcome)
        checked += 1
    assert checked == 4 * 5 * 4 * 3 * 4 * 3 * 5 * 3


# -- the definition is validated like the rest ----------------------------------------------


def _with_prerequisites(block: str) -> str:
    text = CHECKLIST_PATH.read_text(encoding="utf-8")
    start = text.index("\nprerequisites:\n")
    end = text.index("\nwarnings:\n")
    return text[:start] + "\nprerequisites:\n" + block + text[end:]


@pytest.mark.parametrize(
    ("block", "fragment"),
    [
        (
            "  - id: p1\n    outcomes: [hybrid]\n    requires:\n      - {all: {eval_set: maybe}}\n"
            "    rationale: r\n    unblock: u\n    cites: [peft-and-lora.md]\n",
            "unknown option id 'maybe' for question 'eval_set'",
        ),
        (
            "  - id: p1\n    outcomes: [hybrid]\n    applies_when: {all: {colour: blue}}\n"
            "    rationale: r\n    unblock: u\n    cites: [peft-and-lora.md]\n",
            "unknown question id 'colour'",
        ),
        (
            "  - id: p1\n    outcomes: [hybrid]\n    rationale: r\n    unblock: u\n"
            "    cites: [peft-and-lora.md]\n",
            "needs applies_when, requires, or both",
        ),
        (
            "  - id: p1\n    outcomes: [prompting_first, prompting_rag, not_yet, fine_tune_peft,"
            " hybrid]\n    requires:\n      - {all: {eval_set: 'yes'}}\n    rationale: r\n"
            "    unblock: u\n    cites: [peft-and-lora.md]\n",
            "every outcome has a prerequisite",
        ),
    ],
)
def test_a_bad_prerequisite_names_its_line(block: str, fragment: str) -> None:
    text = _with_prerequisites(block)
    with pytest.raises(ChecklistError) as caught:
        parse_checklist(text, name="checklist.yaml")
    assert fragment in caught.value.message
    line = int(caught.value.message.split("checklist.yaml:")[1].split(":")[0])
    prerequisites_line = text[: text.index("\nprerequisites:\n")].count("\n") + 2
    assert line >= prerequisites_line  # it points into the prerequisites block


def test_a_bad_cue_names_its_line() -> None:
    text = CHECKLIST_PATH.read_text(encoding="utf-8")
    broken = text.replace("'hallucinat\\w*'", "'hallucinat(\\w*'", 1)
    assert broken != text
    with pytest.raises(ChecklistError) as caught:
        parse_checklist(broken, name="checklist.yaml")
    line = broken[: broken.index("'hallucinat(")].count("\n") + 1
    assert f"checklist.yaml:{line}:" in caught.value.message
    assert "not a valid regular expression" in caught.value.message
