"""How a chunk is represented in the index: the text its dense vector embeds and its BM25 vector.

One place for both, so the indexer, the benchmark and anything that re-embeds a chunk agree on
what a passage "says" (title and heading path give a bare passage its context).
"""

from __future__ import annotations

from bot.models import Chunk
from bot.retrieval import sparse


def embedding_text(chunk: Chunk) -> str:
    """What gets embedded: the passage with its document title and section for context."""
    return "\n".join(part for part in (chunk.title, chunk.section, chunk.text) if part)


def sparse_vector(chunk: Chunk) -> tuple[list[int], list[float]]:
    """The chunk's BM25 document vector (Qdrant applies the IDF part)."""
    return sparse.document_vector(embedding_text(chunk))
