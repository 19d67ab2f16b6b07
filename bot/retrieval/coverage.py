"""Whether the guidance covers a question at all, decided from what retrieval found.

Below this line the answer says "the guidance doesn't cover this" instead of guessing.
"""

from __future__ import annotations

from bot.retrieval.retriever import Retrieval


def is_covered(question: str, retrieval: Retrieval, min_score: float) -> bool:
    """True when the best passage is similar enough to the question to answer from."""
    return bool(retrieval.passages) and retrieval.best_similarity >= min_score
