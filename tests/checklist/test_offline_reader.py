"""The offline situation reader, table-style: phrase -> answer with its evidence, numbers in
digits and words, negations, non-situations, and what it reports it cannot detect."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.checklist.loader import load_checklist, parse_checklist
from bot.checklist.reading.numbers import find_counts
from bot.checklist.reading.offline import OfflineReader

CHECKLIST_PATH = Path(__file__).resolve().parents[2] / "knowledge" / "checklist.yaml"
READER = OfflineReader(load_checklist(CHECKLIST_PATH))


def read(text: str) -> dict[str, tuple[str, str]]:
    reading = READER.read_now(text)
    return {f.question_id: (f.option_id, f.evidence) for f in reading.facts}


@pytest.mark.parametrize(
    ("text", "question", "option", "evidence"),
    [
        ("We have about 50 example posts.", "examples", "tens", "about 50 example posts"),
        ("we've got fifty example posts", "examples", "tens", "fifty example posts"),
        ("Our team has ~300 labelled support tickets", "examples", "hundreds", "~300 labelled"),
        (
            "we have a few hundred curated pairs",
            "examples",
            "hundreds",
            "a few hundred curated pairs",
        ),
        ("we have 200-300 examples", "examples", "hundreds", "200-300 examples"),
        (
            "our team has 2k transcripts with agent replies",
            "examples",
            "thousands",
            "2k transcripts",
        ),
        ("We have thousands of labelled emails", "examples", "thousands", "thousands of labelled"),
        ("We have no labelled examples", "examples", "none", "no labelled examples"),
        (
            "our policies change every month",
            "knowledge_change",
            "monthly",
            "policies change every month",
        ),
        ("our prices update daily", "knowledge_change", "daily", "prices update daily"),
        (
            "we haven't tried function calling",
            "prompting_tried",
            "not_tried",
            "haven't tried function calling",
        ),
        (
            "Our prompt scores 93% on our eval set, target 90%",
            "prompting_tried",
            "good_enough",
            "93% on our eval set, target 90%",
        ),
        (
            "our few-shot prompt is stuck at 80% and we need 95%",
            "prompting_tried",
            "falls_short",
            "stuck at 80%",
        ),
        ("Our prompt scores 93% on our eval set, target 90%", "eval_set", "yes", "eval set"),
        ("We have no eval set yet", "eval_set", "none", "no eval set"),
        ("we don't have an evaluation set", "eval_set", "none", "evaluation set"),
        ("we only spot-check outputs", "eval_set", "informal", "spot-check"),
        ("our data is HIPAA regulated", "stakes", "regulated", "HIPAA"),
        ("our auditors need lineage", "stakes", "regulated", "auditors"),
        ("our bot is customer-facing", "stakes", "moderate", "customer-facing"),
        (
            "we need strict JSON for our ticketing system",
            "output_structure",
            "strict",
            "strict JSON",
        ),
        ("we want answers in our brand voice", "failure_type", "behaviour", "brand voice"),
        ("our bot hallucinates product prices", "failure_type", "knowledge", "hallucinates"),
        (
            "our bot makes up prices and the JSON is invalid half the time",
            "failure_type",
            "both",
            "makes up prices",
        ),
        (
            "our model fails at multi-step arithmetic",
            "reasoning_gap",
            "yes",
            "multi-step arithmetic",
        ),
        (
            "we're still prototyping and the spec changes every week",
            "task_stability",
            "shifting",
            "prototyping",
        ),
        (
            "we run 2M requests a day on a 3k-token prompt",
            "volume_pressure",
            "high",
            "2M requests a day",
        ),
        ("we have no ML engineers", "team_capacity", "none", "no ML engineers"),
        ("we'd use OpenAI's fine-tuning API", "team_capacity", "managed", "fine-tuning API"),
        ("RAG fixed the missing facts for us", "rag_tried", "helps", "RAG fixed"),
        (
            "we have no governance for models yet, and our data is regulated",
            "governance",
            "missing",
            "no governance",
        ),
    ],
)
def test_phrases_are_read_with_their_evidence(
    text: str, question: str, option: str, evidence: str
) -> None:
    found = read(text)
    assert question in found, (text, found)
    assert found[question][0] == option, (text, found[question])
    assert evidence.lower() in found[question][1].lower()
    assert found[question][1] in text or found[question][1].lower() in text.lower()


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("we don't have 300 examples", "examples"),
        ("our 5,000 customers love it and we need strict JSON", "examples"),  # not examples
        ("we have 40 engineers and need strict JSON", "examples"),
        ("we haven't got governance in place, and the data is regulated", "governance"),
    ],
)
def test_what_is_not_said_is_not_read(text: str, question: str) -> None:
    found = read(text)
    if question == "governance":
        assert found.get(question, ("missing",))[0] == "missing"
    else:
        assert question not in found, found


@pytest.mark.parametrize(
    "text",
    [
        "What is LoRA?",
        "how is prompting different from fine-tuning?",
        "thanks!",
        "Does fine-tuning fix hallucinations?",
        "What is the capital of Australia?",
        "When should a team use RAG instead of fine-tuning for JSON output?",
    ],
)
def test_questions_that_describe_no_situation_give_no_facts(text: str) -> None:
    reading = READER.read_now(text)
    assert not reading.is_situation
    assert reading.facts == ()


def test_a_long_terse_and_typo_ridden_message_is_still_read() -> None:
    text = (
        "ok so context: we're a 6 person team, no ML people. support bot for our SaaS. it "
        "halucinates features we dont have and our docs change every week. we've got like "
        "two thousand five hundred old tickets w/ agent replies. no eval set. cost isn't an issue."
    )
    found = read(text)
    assert found["team_capacity"][0] == "none"
    assert found["examples"][0] == "thousands"
    assert found["eval_set"][0] == "none"
    assert found["knowledge_change"][0] == "daily"
    assert found["volume_pressure"][0] == "low"


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("about fifty", [50]),
        ("a few hundred", [300]),
        ("two thousand five hundred", [2500]),
        ("1,500 and 2.5k", [1500, 2500]),
        ("200 to 300", [250]),
        ("thousands of", [3000]),
        ("a dozen", [12]),
        ("scored 93%", []),  # a percentage is not a count
        ("v2.5 of the model", []),
    ],
)
def test_counts_in_words_and_digits(text: str, values: list[int]) -> None:
    assert [count.value for count in find_counts(text)] == values


def test_options_without_cues_are_listed_as_undetectable() -> None:
    text = CHECKLIST_PATH.read_text(encoding="utf-8")
    # An admin adds an option with no cues: the reader says it cannot detect it.
    added = text.replace(
        "      - id: unsure\n        label: Not sure\n",
        "      - id: sometimes\n        label: Sometimes\n      - id: unsure\n        label: Not sure\n",
        1,
    )
    assert added != text
    reader = OfflineReader(parse_checklist(added))
    assert reader.undetectable() == [("reasoning_gap", "sometimes")]
    assert READER.undetectable() == []


@pytest.mark.parametrize(
    ("text", "met"),
    [
        ("Our prompt scores 93% on our eval set, target 90%", True),
        ("82% on eval vs 95% target", False),
        ("tone scores 3.1/5 against a 4.2 target", False),
        ("it gets 82% field accuracy; we need 95.", False),
        ("the target is 90% and we are at 91%", True),
    ],
)
def test_a_measured_score_against_its_target(text: str, met: bool) -> None:
    from bot.checklist.reading.scores import measured_against_target

    compared = measured_against_target(text)
    assert compared is not None and compared[0] is met
    assert measured_against_target("we have 2,000 examples and 90% accuracy") is None


def test_an_eval_set_size_is_not_a_count_of_examples() -> None:
    found = read("We measured it on an eval set of 180 real conversations. We have 40 examples.")
    assert found["examples"][0] == "tens"


def test_a_follow_up_answer_implies_the_question_it_follows() -> None:
    from bot.checklist.assessment import assess

    reading = READER.read_now("there is no data lineage or audit process for training yet")
    checklist = load_checklist(CHECKLIST_PATH)
    facts = {f.question_id: f.option_id for f in assess(checklist, reading.facts).facts}
    assert facts["governance"] == "missing"
    assert facts["stakes"] == "regulated"  # governance is only asked about regulated data
