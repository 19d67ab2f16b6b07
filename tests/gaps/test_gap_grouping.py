"""Grouping gaps by topic with the real embedder: similar phrasings together, unrelated apart
(purity and completeness measured), and the report built on it by the one gaps service."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from redis.asyncio import Redis

from bot.config import GapSettings
from bot.deps import Deps
from bot.gaps.grouping import completeness, group_by_similarity, medoid, normalise, purity
from bot.gaps.recorder import GapRecorder
from bot.gaps.service import GapService
from bot.memory.gaps import GapLog, GapRecord
from tests.gaps.gap_questions import HELD_OUT, TOPICS

DEFAULT_SIMILARITY = GapSettings().group_similarity


def test_orthogonal_clusters_are_found_and_ordered_by_size() -> None:
    vectors = normalise([[1, 0.1, 0], [1, 0, 0.1], [1, 0.05, 0.05], [0, 1, 0], [0, 1, 0.1]])
    assert group_by_similarity(vectors, 0.5) == [[0, 1, 2], [3, 4]]
    assert group_by_similarity(vectors, 0.9999) == [[0], [1], [2], [3], [4]]
    assert group_by_similarity(vectors, -1.0) == [[0, 1, 2, 3, 4]]
    assert group_by_similarity(normalise([]), 0.5) == []
    assert medoid(vectors, [0, 1, 2]) == 2  # the one between the other two


def test_average_linkage_does_not_chain_a_bridge_between_two_topics() -> None:
    # b sits between a and c: single linkage would chain all three at 0.7.
    angle = np.radians([0.0, 45.0, 90.0])
    vectors = normalise(np.stack([np.cos(angle), np.sin(angle)], axis=1).tolist())
    groups = group_by_similarity(vectors, 0.65)
    assert [0, 1, 2] not in groups
    assert len(groups) == 2


def test_purity_and_completeness_read_the_two_failure_modes() -> None:
    labels = ["a", "a", "b", "b"]
    assert purity([[0, 1], [2, 3]], labels) == completeness([[0, 1], [2, 3]], labels) == 1.0
    assert purity([[0, 1, 2, 3]], labels) == 0.5  # everything merged
    assert completeness([[0, 1, 2, 3]], labels) == 1.0
    assert purity([[0], [1], [2], [3]], labels) == 1.0  # everything split
    assert completeness([[0], [1], [2], [3]], labels) == 0.5


async def _measure(deps: Deps, topics: dict[str, tuple[str, ...]]) -> tuple[float, float, int]:
    items = [(topic, q) for topic, questions in topics.items() for q in questions]
    vectors = normalise(await deps.embedder.embed_documents([q for _, q in items]))
    labels = [topic for topic, _ in items]
    groups = group_by_similarity(vectors, DEFAULT_SIMILARITY)
    return purity(groups, labels), completeness(groups, labels), len(groups)


@pytest.mark.slow
async def test_similar_phrasings_land_together_and_unrelated_apart(knowledge_deps: Deps) -> None:
    """The default threshold was chosen on TOPICS (30 questions, 6 topics)."""
    pure, complete, count = await _measure(knowledge_deps, TOPICS)
    print(f"TOPICS: purity {pure:.3f}, completeness {complete:.3f}, {count} groups")
    assert pure >= 0.95
    assert complete >= 0.85


@pytest.mark.slow
async def test_held_out_topics_group_without_mixing(knowledge_deps: Deps) -> None:
    """Questions written after the threshold was chosen: no group may mix topics; splitting a
    topic in two is the milder failure and is allowed up to a point."""
    pure, complete, count = await _measure(knowledge_deps, HELD_OUT)
    print(f"HELD_OUT: purity {pure:.3f}, completeness {complete:.3f}, {count} groups")
    assert pure >= 0.9
    assert complete >= 0.6


@pytest.mark.slow
async def test_the_report_groups_counts_examples_and_closest_documents(
    knowledge_deps: Deps, redis_client: Redis
) -> None:
    log = GapLog(redis_client)
    now = time.time()
    for n, (topic, questions) in enumerate(TOPICS.items()):
        for m, question in enumerate(questions):
            kind = "no_match" if m % 2 else "not_helpful"
            await log.add(
                GapRecord(
                    gap_id=f"{topic}:{m}",
                    kind=kind,
                    question=question,
                    reason="nothing about this" if kind == "not_helpful" else None,
                    created_at=now - 3600 * (n + 1) - m,
                )
            )
    service = GapService(GapRecorder(log), knowledge_deps.retriever, similarity=DEFAULT_SIMILARITY)
    report = await service.report(datetime.now(UTC) - timedelta(days=7))
    assert report.total == 30
    assert report.by_kind == {"no_match": 12, "not_helpful": 18}
    assert len(report.groups) == 6
    topic_of = {q: topic for topic, questions in TOPICS.items() for q in questions}
    for group in report.groups:
        assert group.count == 5
        topics = {topic_of[q] for q in group.questions}
        assert topics == {topic_of[group.example]}  # one topic per group, example included
        assert group.reasons == ("nothing about this",)
        assert group.closest is not None and group.closest.title
    assert report.index_version == await knowledge_deps.index_version()
    by_topic = {topic_of[group.example]: group for group in report.groups}
    # Off-topic questions sit furthest from every document in the knowledge folder.
    catering = by_topic["catering"].closest
    assert catering is not None
    assert catering.similarity == min(g.closest.similarity for g in report.groups if g.closest)
