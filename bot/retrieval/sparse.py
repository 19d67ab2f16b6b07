"""BM25-style sparse vectors. Qdrant applies the IDF part (`Modifier.IDF`); we supply term weights.

Documents get the BM25 term-frequency saturation; queries get weight 1 per distinct term, so the
dot product Qdrant computes is the BM25 score. Terms are hashed into a fixed space, which keeps
the vocabulary out of our state and makes incremental updates trivial.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from functools import lru_cache

import snowballstemmer

# BM25 parameters. AVG_DOC_TOKENS is a fixed estimate rather than a corpus statistic so that
# adding one document never changes the vectors of the others (incremental indexing).
K1 = 1.2
B = 0.75
AVG_DOC_TOKENS = 120.0

_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "could",
        "do",
        "does",
        "did",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "ours",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "too",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "should",
        "shall",
        "just",
        "also",
        "about",
        "over",
        "under",
        "been",
        "being",
        "any",
        "all",
        "each",
        "other",
        "some",
        "such",
        "only",
        "own",
        "same",
        "very",
        "s",
        "t",
        "don",
    ]
)
_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


def terms(text: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed tokens; hyphenated words also yield their parts."""
    out: list[str] = []
    for token in _TOKEN.findall(text.lower()):
        token = token.replace("'", "")
        parts = token.split("-")
        candidates = [token.replace("-", ""), *parts] if len(parts) > 1 else [token]
        for word in candidates:
            if word and word not in _STOPWORDS:
                out.append(_stem(word))
    return out


def term_index(term: str) -> int:
    # crc32 is stable across processes (unlike hash()), and 2**31 buckets make collisions rare.
    return zlib.crc32(term.encode()) & 0x7FFFFFFF


def document_vector(text: str) -> tuple[list[int], list[float]]:
    counts = Counter(term_index(term) for term in terms(text))
    length = sum(counts.values())
    norm = K1 * (1 - B + B * length / AVG_DOC_TOKENS)
    indices = sorted(counts)
    values = [counts[i] * (K1 + 1) / (counts[i] + norm) for i in indices]
    return indices, values


def query_vector(text: str) -> tuple[list[int], list[float]]:
    indices = sorted({term_index(term) for term in terms(text)})
    return indices, [1.0] * len(indices)
