"""Grouping questions by topic: average-linkage agglomerative clustering on normalised
embeddings, stopped when the two closest groups are less similar than a threshold. Pure.

Average linkage (the mean cosine similarity between every pair across two groups) rather than
single linkage, so one question that sits between two topics does not chain them together.
Questions are at most a few thousand (the gap log is bounded), so the O(n^2) similarity matrix
and O(n) merges, each an argmax over the matrix, stay well under a second.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float64]


def normalise(vectors: Sequence[Sequence[float]]) -> Matrix:
    matrix = np.asarray(vectors, dtype=np.float64)
    if matrix.ndim != 2:
        return np.zeros((0, 0))
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(matrix / norms, dtype=np.float64)


def group_by_similarity(vectors: Matrix, threshold: float) -> list[list[int]]:
    """Indices of `vectors` (rows, normalised) in groups, largest group first, each group in
    index order; two groups merge while their average similarity is at least `threshold`."""
    n = len(vectors)
    if n == 0:
        return []
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    sizes = np.ones(n)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    while len(members) > 1:
        flat = int(np.argmax(similarity))
        i, j = divmod(flat, n)
        if similarity[i, j] < threshold:
            break
        # Lance-Williams update for average linkage: j is folded into i.
        merged = (sizes[i] * similarity[i] + sizes[j] * similarity[j]) / (sizes[i] + sizes[j])
        similarity[i, :] = merged
        similarity[:, i] = merged
        similarity[i, i] = -np.inf
        similarity[j, :] = -np.inf
        similarity[:, j] = -np.inf
        sizes[i] += sizes[j]
        members[i].extend(members.pop(j))
    groups = [sorted(group) for group in members.values()]
    return sorted(groups, key=lambda group: (-len(group), group[0]))


def medoid(vectors: Matrix, group: Sequence[int]) -> int:
    """The member most similar, on average, to the rest: the group's most typical question."""
    sub = vectors[list(group)]
    return int(group[int(np.argmax((sub @ sub.T).sum(axis=1)))])


def purity(groups: Sequence[Sequence[int]], labels: Sequence[Hashable]) -> float:
    """Share of items whose group's most common label is their own (1.0: no group mixes
    topics). Singletons score 1, so read it together with `completeness`."""
    total = sum(len(group) for group in groups)
    if total == 0:
        return 1.0
    majority = sum(Counter(labels[i] for i in group).most_common(1)[0][1] for group in groups)
    return majority / total


def completeness(groups: Sequence[Sequence[int]], labels: Sequence[Hashable]) -> float:
    """Share of items that sit in the group holding most of their topic (1.0: no topic is
    split). Purity's counterpart: one big group scores 1 here and badly on purity."""
    total = sum(len(group) for group in groups)
    if total == 0:
        return 1.0
    best: Counter[Hashable] = Counter()
    for group in groups:
        for label, count in Counter(labels[i] for i in group).items():
            best[label] = max(best[label], count)
    return sum(best.values()) / total
