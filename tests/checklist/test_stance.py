"""Which way a sentence leans, table-style: advice, negation, conditions, contrasts."""

from __future__ import annotations

import pytest

from bot.checklist.stance import argues_elsewhere, favoured, recommended, supports


@pytest.mark.parametrize(
    ("sentence", "advised"),
    [
        ("Start with a system prompt and a few good examples.", {"prompt"}),
        ("Recommendation: RAG, not fine-tuning.", {"retrieve"}),
        ("Use retrieval rather than fine-tuning for facts that change.", {"retrieve"}),
        ("Fine-tuning does not add facts reliably; put them in retrieval.", {"retrieve"}),
        ("Don't fine-tune yet: build an evaluation set first.", {"measure"}),
        ("Fine-tune a LoRA adapter on your curated examples.", {"train"}),
        ("You should fine-tune the model to get the brand voice right.", {"train"}),
        ("Recommendation: prompt first, fine-tune if validity stays short.", {"prompt"}),
        ("Fine-tuning brand voice works well once you have hundreds of examples.", set()),
        ("When good labelled data exists, fine-tuning becomes worth evaluating.", set()),
        ("Explicor says fine-tuning usually does not fix reasoning limits.", set()),
        ("LoRA trains a small number of extra weights.", set()),
    ],
)
def test_recommended(sentence: str, advised: set[str]) -> None:
    assert recommended(sentence) == advised


def test_favoured_is_looser_than_recommended() -> None:
    sentence = "Fine-tuning encodes the style in the model, so it no longer depends on the prompt."
    assert recommended(sentence) == set()
    assert "train" in favoured(sentence)
    assert argues_elsewhere(sentence, "prompting_first")
    assert not argues_elsewhere(sentence, "fine_tune_peft")


@pytest.mark.parametrize(
    ("sentence", "outcome", "expected"),
    [
        ("Start with a system prompt and a few good examples.", "prompting_first", True),
        ("Start with a system prompt and a few good examples.", "prompting_rag", True),
        ("Recommendation: RAG, not fine-tuning.", "prompting_rag", True),
        ("Recommendation: RAG, not fine-tuning.", "prompting_first", False),
        ("Fine-tune a LoRA adapter on your curated examples.", "hybrid", True),
        ("Fine-tune a LoRA adapter on your curated examples.", "not_yet", False),
    ],
)
def test_supports(sentence: str, outcome: str, expected: bool) -> None:
    assert supports(sentence, outcome) is expected  # type: ignore[arg-type]
