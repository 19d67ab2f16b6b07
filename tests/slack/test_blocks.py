from __future__ import annotations

import pytest

from bot.models import Citation
from bot.slack.blocks import (
    MAX_BLOCKS,
    SECTION_TEXT_LIMIT,
    actions_block,
    answer_footer,
    fit_blocks,
    sources_blocks,
    split_point,
    split_text,
    text_sections,
)


@pytest.mark.parametrize(
    ("text", "limit", "expected_head"),
    [
        ("short", 10, "short"),
        ("para one.\n\npara two is longer", 20, "para one.\n\n"),
        ("line one\nline two\nline three", 20, "line one\nline two\n"),
        ("First sentence. Second one here", 25, "First sentence. "),
        ("words words words words", 14, "words words "),
        ("x" * 30, 10, "x" * 10),
    ],
)
def test_split_point(text: str, limit: int, expected_head: str) -> None:
    assert text[: split_point(text, limit)] == expected_head


def test_split_text_covers_everything_within_limit() -> None:
    text = "\n\n".join(f"Paragraph {i}. " + "Sentence here. " * 30 for i in range(20))
    pieces = split_text(text, 1000)
    assert all(len(piece) <= 1000 for piece in pieces)
    assert "".join(pieces).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", ""
    )


def test_sections_stay_under_the_section_limit() -> None:
    sections = text_sections("<&> " * 3000)  # escaping grows the text ~3x
    assert all(len(s["text"]["text"]) <= SECTION_TEXT_LIMIT for s in sections)


def _citation(n: int, url: str | None = None) -> Citation:
    return Citation(
        n=n, source=f"s{n}.md", title=f"T{n} <b>", section="A > B", score=0.5, text="t", url=url
    )


def test_sources_are_compact_and_escaped() -> None:
    [block] = sources_blocks([_citation(1, "https://x.io/p|q"), _citation(2)])
    text = block["elements"][0]["text"]
    assert "[1] <https://x.io/p%7Cq|T1 &lt;b&gt;> (x.io) — A &gt; B" in text
    assert "[2] T2 &lt;b&gt; — A &gt; B" in text


def test_a_source_title_cannot_disguise_its_link() -> None:
    citation = Citation(
        n=1, source="s.md", title="the official OpenAI guide", section="", score=0.5, text="t",
        url="http://evil.example/steal",
    )  # fmt: skip
    [block] = sources_blocks([citation])
    assert block["elements"][0]["text"].endswith(
        "<http://evil.example/steal|the official OpenAI guide> (evil.example)"
    )


def test_sources_are_capped() -> None:
    [block] = sources_blocks([_citation(n) for n in range(1, 13)])
    assert "…and 4 more" in block["elements"][0]["text"]


def test_no_sources_no_block() -> None:
    assert sources_blocks([]) == []


def test_actions_with_and_without_checklist() -> None:
    ids = [e["action_id"] for e in actions_block("abc123", checklist=True)["elements"]]
    assert ids == ["feedback_helpful", "feedback_not_helpful", "checklist_start"]
    ids = [e["action_id"] for e in actions_block("abc123", checklist=False)["elements"]]
    assert "checklist_start" not in ids


def test_an_answer_with_a_verdict_offers_confirm_instead_of_start() -> None:
    block = actions_block("abc123", checklist=True, assessed=True)
    [*_, last] = block["elements"]
    assert (last["action_id"], last["text"]["text"]) == (
        "checklist_confirm",
        "Confirm in the checklist",
    )
    assert "checklist_start" not in [e["action_id"] for e in block["elements"]]
    ids = [
        e["action_id"] for e in actions_block("abc123", checklist=False, assessed=True)["elements"]
    ]
    assert ids == ["feedback_helpful", "feedback_not_helpful"]


def test_footer_survives_block_trimming() -> None:
    footer = answer_footer([_citation(1)], ["note"], "abc123", checklist=False)
    body = [{"type": "section"}] * 80
    blocks = fit_blocks(body, footer)
    assert len(blocks) == MAX_BLOCKS
    assert blocks[-len(footer) :] == footer
