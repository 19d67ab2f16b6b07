"""Table tests: which lines of plain text become headings, and which stay text."""

from __future__ import annotations

import pytest

from bot.retrieval.plaintext import mark_headings

BODY = "Prompting means guiding the model with instructions and examples in the input."


@pytest.mark.parametrize(
    ("text", "headings"),
    [
        # A title line, then a question-form heading over a sentence (no blank lines at all).
        (
            f"Fine-Tuning vs Prompting\n{BODY}\nWhat is Prompting?\n{BODY}",
            ["# Fine-Tuning vs Prompting", "## What is Prompting?"],
        ),
        # Sentence case after a blank line, followed by body text after a blank line.
        (
            f"Intro line that is long enough to be body text here.\n\nWhen prompting is sufficient\n\n{BODY}",
            ["## When prompting is sufficient"],
        ),
        # Numbered headings nest by their numbers.
        (
            f"{BODY}\n\n1. Introduction\n{BODY}\n\n2.1 Setup\n{BODY}",
            ["## 1. Introduction", "### 2.1 Setup"],
        ),
        # A heading may introduce a list.
        (
            f"{BODY}\n\nWhen to use it\n- the task is general\n- data is limited",
            ["## When to use it"],
        ),
    ],
)
def test_heading_lines_are_marked(text: str, headings: list[str]) -> None:
    marked = mark_headings(text)
    assert [line for line in marked.split("\n") if line.startswith("#")] == headings
    # Only heading markers are added: the words are the same, in the same order.
    assert marked.replace("#", "").split() == text.split()


@pytest.mark.parametrize(
    "text",
    [
        f"{BODY}\n\nExamples include:\n- one\n- two",  # ends with a colon: introduces a list
        f"{BODY}\n\nIt works.\n{BODY}",  # a short sentence, not a heading
        f"{BODY}\n\n1. Start with prompting\n2. Measure what fails before anything else here",  # a list
        f"{BODY}\n\n  Indented line\n{BODY}",  # indented: part of a list or quote
        f"{BODY}\n\nprompt engineering comparison diagram\n\nAnother Short Line",  # no body after
    ],
)
def test_lines_that_are_not_headings(text: str) -> None:
    assert mark_headings(text) == text


def test_markdown_headings_are_left_to_their_author() -> None:
    text = f"## Real heading\n{BODY}\n\nLooks Like A Heading\n{BODY}"
    assert mark_headings(text) == text


def test_title_line_must_match_the_front_matter_title() -> None:
    text = f"Some Other Line\n{BODY}"
    assert mark_headings(text, title="The Real Title").startswith("## Some Other Line")
    assert mark_headings(text, title="some other line").startswith("# Some Other Line")
