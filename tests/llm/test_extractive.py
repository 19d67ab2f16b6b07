from __future__ import annotations

import pytest

from bot.llm.extractive import FOOTER, HEADER, extractive_answer, split_sentences
from tests.llm.helpers import passage

FT_TEXT = """# When to fine-tune

Fine-tuning teaches a model a style or an output format, e.g. a fixed JSON schema. It does not
reliably add fresh knowledge.

- Avoid fine-tuning when you have fewer than a few hundred examples.
- Fine-tuning costs training runs and evaluation time.
"""
RAG_TEXT = (
    "RAG retrieves documents at query time. Use RAG when your facts change often. "
    "A vector index must be kept up to date."
)
PROMPT_TEXT = "Prompting is the cheapest first step. Start with a few examples in the prompt."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two three.", ["One.", "Two three."]),
        ("Use a model, e.g. Llama. Then test.", ["Use a model, e.g. Llama.", "Then test."]),
        ("Dr. Smith agrees. So do we.", ["Dr. Smith agrees.", "So do we."]),
        ("# Heading\nBody text here.", ["Heading", "Body text here."]),
        ("- first item\n- second item", ["first item", "second item"]),
        ("1. step one\n2) step two", ["step one", "step two"]),
        ("Wrapped line\ncontinues here.", ["Wrapped line continues here."]),
        ("> quoted words.", ["quoted words."]),
        ("Text.\n```\ncode. Here.\n```\nMore.", ["Text.", "More."]),
        ("Costs 1.5 dollars. Fine?", ["Costs 1.5 dollars.", "Fine?"]),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_empty_passages_give_empty_answer() -> None:
    assert extractive_answer("anything", []) == ""


def test_shape_header_lead_bullets_footer() -> None:
    answer = extractive_answer("When should we use RAG?", [passage(RAG_TEXT, title="RAG")])
    head, lead_and_bullets, footer = answer.split("\n\n")
    assert head == HEADER
    assert footer == FOOTER
    lines = lead_and_bullets.splitlines()
    assert lines[0] == "The guidance on RAG says:"
    assert all(line.startswith("- ") and line.endswith("[1]") for line in lines[1:])


@pytest.mark.parametrize(
    ("question", "expected_first"),
    [
        (
            "Our facts change often, what should we use?",
            "Use RAG when your facts change often. [2]",
        ),
        (
            "We only have fewer than a few hundred examples, fine-tune?",
            "Avoid fine-tuning when you have fewer than a few hundred examples. [1]",
        ),
        ("What is the cheapest first step?", "Prompting is the cheapest first step. [3]"),
    ],
)
def test_most_relevant_sentence_comes_first_with_its_passage_number(
    question: str, expected_first: str
) -> None:
    passages = [
        passage(FT_TEXT, title="Fine-tuning"),
        passage(RAG_TEXT, title="RAG", source="rag.md"),
        passage(PROMPT_TEXT, title="Prompting", source="prompt.md"),
    ]
    bullets = [
        line for line in extractive_answer(question, passages).splitlines() if line[:2] == "- "
    ]
    assert bullets[0] == f"- {expected_first}"


def test_citations_follow_passage_order() -> None:
    passages = [
        passage("Alpha teams should log every prompt change.", title="A"),
        passage("Beta teams ship weekly with a small eval set.", title="B", source="b.md"),
        passage("Gamma teams never need retrieval at all.", title="C", source="c.md"),
    ]
    answer = extractive_answer("alpha beta gamma teams", passages)
    assert "- Alpha teams should log every prompt change. [1]" in answer
    assert "- Beta teams ship weekly with a small eval set. [2]" in answer
    assert "- Gamma teams never need retrieval at all. [3]" in answer


def test_near_identical_sentences_are_deduplicated() -> None:
    passages = [
        passage("Use RAG when your facts change often.", title="RAG"),
        passage("Use RAG when your facts change very often.", title="RAG 2", source="r2.md"),
        passage("Fine-tune for tone and format.", title="FT", source="ft.md"),
    ]
    answer = extractive_answer("When do facts change often?", passages)
    assert answer.count("Use RAG when") == 1
    assert "Fine-tune for tone and format. [3]" in answer


@pytest.mark.parametrize("max_points", [1, 2, 5])
def test_max_points(max_points: int) -> None:
    passages = [passage(FT_TEXT), passage(RAG_TEXT, source="r.md"), passage(PROMPT_TEXT)]
    answer = extractive_answer("fine-tune or RAG?", passages, max_points=max_points)
    assert sum(1 for line in answer.splitlines() if line.startswith("- ")) == max_points


def test_deterministic() -> None:
    passages = [passage(FT_TEXT), passage(RAG_TEXT, source="r.md")]
    first = extractive_answer("facts change", passages)
    assert all(extractive_answer("facts change", passages) == first for _ in range(5))


def test_short_fragments_only_still_answer() -> None:
    answer = extractive_answer("tiny", [passage("Tiny note.")])
    assert "- Tiny note. [1]" in answer
