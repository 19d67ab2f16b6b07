"""The baseline retrieval quality is compared with: plain BM25 over fixed-size character windows.

What a new admin would get from the simplest possible setup: every file's raw text (no cleaning,
no structure) cut into 1,000-character windows overlapping by 200, scored with Okapi BM25
(k1 1.2, b 0.75) over our tokenizer's terms. Measured in the same run as the real index.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bot.retrieval import sparse
from bot.retrieval.evaluation import SEARCH_DEPTH, Hit, ModeReport, QuestionSet, score_mode

WINDOW = 1000
OVERLAP = 200


def windows(text: str, size: int = WINDOW, overlap: int = OVERLAP) -> list[str]:
    step = size - overlap
    return [text[start : start + size] for start in range(0, max(len(text) - overlap, 1), step)]


class BM25:
    def __init__(self, passages: Sequence[Hit], k1: float = 1.2, b: float = 0.75) -> None:
        self.passages = list(passages)
        self.terms = [Counter(sparse.terms(p.text)) for p in self.passages]
        self.lengths = [sum(t.values()) for t in self.terms]
        self.average = sum(self.lengths) / max(len(self.lengths), 1)
        frequency = Counter(term for t in self.terms for term in t)
        total = len(self.passages)
        self.idf = {t: math.log(1 + (total - n + 0.5) / (n + 0.5)) for t, n in frequency.items()}
        self.k1, self.b = k1, b

    def search(self, query: str, limit: int = SEARCH_DEPTH) -> list[Hit]:
        wanted = set(sparse.terms(query))
        scored = []
        for passage, counts, length in zip(self.passages, self.terms, self.lengths, strict=True):
            norm = self.k1 * (1 - self.b + self.b * length / self.average)
            value = sum(
                self.idf[t] * counts[t] * (self.k1 + 1) / (counts[t] + norm)
                for t in wanted
                if t in counts
            )
            scored.append((value, passage))
        scored.sort(key=lambda pair: -pair[0])
        return [passage for value, passage in scored[:limit] if value > 0]


def folder_windows(folder: Path) -> list[Hit]:
    hits: list[Hit] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("utf-8", errors="replace")
        source = path.relative_to(folder).as_posix()
        hits.extend(Hit(source=source, text=window) for window in windows(text))
    return hits


def bm25_baseline(folder: Path, questions: QuestionSet) -> ModeReport:
    index = BM25(folder_windows(folder))
    ranked = [index.search(q.question) for q in questions.questions]
    return score_mode(f"BM25 {WINDOW}/{OVERLAP}", ranked, questions)
