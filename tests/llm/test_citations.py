"""Invented [n] markers are dropped from streamed text, however the stream splits them."""

from __future__ import annotations

import pytest

from bot.llm.citations import CitationGuard

TEXT = "Prompt first [1]. Measure it [2][3]. A study says so [7]. Also [12] and [0]."
CLEAN = "Prompt first [1]. Measure it [2][3]. A study says so. Also and."


def stream(text: str, cuts: list[int], available: int) -> tuple[str, list[int]]:
    guard = CitationGuard(available)
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    shown = "".join(guard.feed(piece) for piece in pieces) + guard.flush()
    return shown, guard.invented


@pytest.mark.parametrize("cut", range(1, len(TEXT)))
def test_every_split_position_gives_the_same_clean_text(cut: int) -> None:
    assert stream(TEXT, [cut], available=4) == (CLEAN, [7, 12, 0])


def test_whole_text_and_one_character_at_a_time_agree() -> None:
    assert stream(TEXT, [], 4) == stream(TEXT, list(range(1, len(TEXT))), 4) == (CLEAN, [7, 12, 0])


def test_brackets_that_are_not_citations_pass_through() -> None:
    text = "Use a list [like this] or [a, b] and an unfinished [0"
    assert stream(text, [5, 30], available=2) == (text, [])
