"""Every figure in knowledge/*.md names its source in the same sentence.

The advisor quotes single sentences out of these documents, so a number only stays honest if the
sentence that carries it also says where it comes from. The rules, strict on purpose:

- A *figure* is a number (digits, or a number word such as "fifty", "hundreds", "a few dozen"),
  optionally a range ("16-18", "20 to 30", "two or three"), followed by a unit: percent ("%",
  "percent"), points ("percentage points", "points"), a multiplier ("10x", "3 times"), a size
  ("MB", "GB", "tokens", "parameters"), a duration ("ms", "minutes", "days", "weeks"...), or a
  count of data ("examples", "cases", "inputs", "pairs", "tickets", "posts"... with at most three
  words in between, as in "300 labelled support tickets"); or an amount of money ("$3,000").
- A sentence *names its source* when it contains one of `SOURCE_NAMES` (the five articles' authors
  and the organisations and study they quote, spelled as the documents spell them) or
  `OWN_RULE` ("our rule of thumb") for the project's own numbers. "The study", "research" or
  "experts" do not count: the reader must be able to tell which source.
- The only other place a figure may stand is a worked scenario's heading ("## Scenario: ..."),
  which states the scenario's premise rather than a claim.

Sentences are cut from the Markdown parse (markdown-it-py): each paragraph, heading, list item and
table row is split at sentence ends, so a list item cannot borrow the source its lead-in names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.retrieval.frontmatter import split_front_matter
from tests.conftest import KNOWLEDGE

SOURCE_NAMES = (
    "Explicor",
    "Shaw",
    "AI Foundations",
    "round-up article",
    "blog",
    "IBM",
    "Tribe AI",
    "BBVA AI Factory",
    "Google Cloud",
    "K2View",
    "Codecademy",
    "arXiv",
)
OWN_RULE = "our rule of thumb"
SCENARIO_HEADING = re.compile(r"^Scenario:")

_WORD_NUMBERS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
    "fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|dozens?|tens"
)
_NUMBER = rf"(?:\d[\d,]*(?:\.\d+)?|(?:a\s+few\s+)?(?:{_WORD_NUMBERS}))"
_RANGE = rf"{_NUMBER}(?:\s*(?:-|–|,|to|or|and)\s*{_NUMBER})*"
_MEASURE_UNITS = (
    r"%|percent\b|per\s+cent\b|(?:percentage\s+)?points?\b|pp\b|x\b|×|times\b|"
    r"[KMGT]B\b|bytes?\b|tokens?\b|parameters?\b|"
    r"ms\b|milliseconds?\b|seconds?\b|minutes?\b|hours?\b|days?\b|weeks?\b|months?\b|years?\b"
)
_COUNT_UNITS = (
    r"examples|cases|inputs|pairs|records|samples|tickets|posts|demonstrations|"
    r"questions|conversations|documents|rows"
)
# Up to three describing words may stand between a count and its unit ("300 labelled support
# tickets"), but not function words, so "one of the stronger cases" is no figure.
_BETWEEN = (
    r"(?:\s+of)?(?:[\s,]+(?!(?:the|a|an|of|in|on|for|to|with|and|or|than|that|this|is|are)\b)"
    r"[A-Za-z][A-Za-z/-]*){0,3}?"
)
FIGURE = re.compile(
    rf"[$€£]\s?\d[\d,.]*\s*(?:k|m|bn|million|billion)?\b"
    rf"|\b{_RANGE}\s*(?:{_MEASURE_UNITS})"
    rf"|\b{_RANGE}{_BETWEEN}[\s,]+(?:{_COUNT_UNITS})\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[*A-Z0-9])")

_MARKDOWN = MarkdownIt("commonmark").enable("table")


def _plain(inline: Token) -> str:
    parts = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts).strip()


def blocks(body: str) -> Iterator[tuple[int, bool, str]]:
    """(line, is_scenario_heading, text) for every heading, paragraph, list item and table row."""
    row: list[str] | None = None
    row_line = 0
    in_heading = False
    for token in _MARKDOWN.parse(body):
        line = token.map[0] + 1 if token.map else 0
        if token.type in ("heading_open", "heading_close"):
            in_heading = token.type == "heading_open"
        elif token.type == "tr_open":
            row, row_line = [], line
        elif token.type == "tr_close" and row is not None:
            yield row_line, False, " | ".join(row)  # a table row is one statement
            row = None
        elif token.type == "inline" and row is not None:
            row.append(_plain(token))
        elif token.type == "inline":
            text = _plain(token)
            yield line, in_heading and bool(SCENARIO_HEADING.match(text)), text


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def names_a_source(sentence: str) -> bool:
    return any(name in sentence for name in SOURCE_NAMES) or OWN_RULE in sentence.lower()


def unattributed_figures(markdown: str) -> list[str]:
    """'line: figure: sentence' for each figure whose sentence names no source."""
    _, body = split_front_matter(markdown)
    offset = markdown[: len(markdown) - len(body)].count("\n")
    found = []
    for line, premise, text in blocks(body):
        if premise:
            continue
        for sentence in sentences(text):
            figures = [m.group(0) for m in FIGURE.finditer(sentence)]
            if figures and not names_a_source(sentence):
                found.append(f"{line + offset}: {', '.join(figures)}: {sentence}")
    return found


DOCUMENTS = sorted(KNOWLEDGE.glob("*.md"))


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.name for p in DOCUMENTS])
def test_every_figure_names_its_source(path: Path) -> None:
    assert unattributed_figures(path.read_text(encoding="utf-8")) == []


def test_the_knowledge_folder_has_documents_to_check() -> None:
    assert len(DOCUMENTS) >= 10


@pytest.mark.parametrize(
    "text",
    [
        "Fine-tuning gives 20 to 30 percent higher accuracy.",
        "Prompting improved results by roughly 16 to 18 points.",
        "A fine-tuned model answers 10x faster.",
        "Hosting costs about $3,000 a month.",
        "Fifty examples is thin for training.",
        "Tens of examples are not enough to train on.",
        "Start with 50-200 real inputs as an evaluation set.",
        "A typical adapter weighs a few hundred MB.",
        "Teams reach 93% accuracy after tuning.",
        "The study reports an 8.33 point gain.",
        "Experts agree a LoRA run takes two days.",
        "- **Code generation**: fine-tuned models won by 28.3 percentage points.",
        "| Metric | 95% |\n|---|---|\n| latency | 120 ms |",
        "## Fine-tuning gains 30% on legal text",
        "Collect twenty to fifty test inputs with expected outputs.",
        "Label 300 support tickets before training.",
    ],
)
def test_an_unattributed_figure_is_caught(text: str) -> None:
    assert unattributed_figures(text) != []


@pytest.mark.parametrize(
    "text",
    [
        "Tribe AI reports accuracy roughly 20 to 30 percent higher after fine-tuning.",
        "The 2024 arXiv study of GPT-4 on code tasks measured gains of 16 to 18 points.",
        "Explicor puts a typical LoRA adapter at a few hundred MB.",
        "Our rule of thumb: start with 50 to 200 real cases.",
        "## Scenario: brand voice with only 50 examples",
        "Step 2 of the flow in Chapter 10 of the AI Foundations course.",
        "GPT-4 and a 2024 paper, without any quantity at all.",
        "Prompt changes can be tested within minutes.",
    ],
)
def test_attributed_figures_and_plain_numbers_pass(text: str) -> None:
    assert unattributed_figures(text) == []
