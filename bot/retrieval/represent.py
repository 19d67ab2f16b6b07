"""How a chunk is represented in the index: the text its dense vector embeds and its BM25 vector.

One place for both, so the indexer, the benchmark and anything that re-embeds a chunk agree on
what a passage "says" (title and heading path give a bare passage its context).
"""

from __future__ import annotations

from bot.models import Chunk
from bot.retrieval import sparse

# How many times the heading path counts in a chunk's BM25 vector and in its embedded text,
# against once for the title and the text. Chosen by `bench/chunking.py` on the knowledge and
# seed question sets: a heading names what a passage is about in the words people ask with
# ("When prompting is sufficient"), which the passage itself often never repeats.
HEADING_WEIGHT = 3
EMBED_HEADING_WEIGHT = 2


def context(chunk: Chunk, heading_weight: int = 1) -> str:
    """The document title and (repeated) heading path of a chunk, one per line."""
    return "\n".join(part for part in (chunk.title, *[chunk.section] * heading_weight) if part)


def embedding_text(chunk: Chunk, heading_weight: int = EMBED_HEADING_WEIGHT) -> str:
    """What gets embedded: the passage with its document title and section for context."""
    return "\n".join(part for part in (context(chunk, heading_weight), chunk.text) if part)


def sparse_vector(
    chunk: Chunk, heading_weight: int = HEADING_WEIGHT
) -> tuple[list[int], list[float]]:
    """The chunk's BM25 document vector (Qdrant applies the IDF part); the heading path is
    repeated `heading_weight` times so its terms weigh more than the body's."""
    return sparse.document_vector("\n".join([context(chunk, heading_weight), chunk.text]))
