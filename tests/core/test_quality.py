"""Retrieval quality on knowledge/questions.yaml with the bundled local embedder."""

from __future__ import annotations

import pytest

from bot.deps import Deps
from bot.retrieval.evaluation import QUESTIONS_FILE, evaluate, load_questions
from bot.retrieval.ingest import scan_folder
from tests.conftest import KNOWLEDGE

pytestmark = pytest.mark.slow


def test_question_set_is_large_paraphrased_and_points_at_real_documents() -> None:
    questions = load_questions(KNOWLEDGE / QUESTIONS_FILE).questions
    assert len(questions) >= 40
    assert sum(q.paraphrased for q in questions) >= 15
    sources = {doc.source for doc in scan_folder(KNOWLEDGE).documents}
    for question in questions:
        assert set(question.expected) <= sources, question.question
    # Every document is the expected answer of at least one question.
    assert sources <= {s for q in questions for s in q.expected}


def test_knowledge_folder_reads_cleanly() -> None:
    scan = scan_folder(KNOWLEDGE)
    assert 10 <= len(scan.documents) <= 20
    assert scan.skipped == ()
    for doc in scan.documents:
        assert doc.title and doc.tags and doc.sources, doc.source


async def test_hybrid_hit_at_3_is_at_least_0_9(knowledge_deps: Deps) -> None:
    questions = load_questions(KNOWLEDGE / QUESTIONS_FILE)

    async def search(text: str) -> list[str]:
        result = await knowledge_deps.retriever.retrieve(text, limit=10)
        return [p.chunk.source for p in result.passages]

    result = await evaluate(search, questions, k=3)
    assert result.hit_at_k >= 0.9, result.misses


OFF_TOPIC = [
    "What is the best recipe for sourdough pizza in Naples?",
    "How do I renew my passport?",
    "Who won the football world cup in 2018?",
    "How do I fix a leaking kitchen tap?",
    "Recommend a good science fiction novel",
    "What is the capital of Australia?",
    "Can you translate 'good morning' into Japanese?",
    "What time does the office close on Fridays?",
]


async def test_no_match_threshold_separates_on_topic_from_off_topic(knowledge_deps: Deps) -> None:
    """ADVISOR_MIN_SCORE must keep every real question (paraphrases included) and reject
    questions the guidance has nothing to say about."""
    min_score = knowledge_deps.settings.retrieval.min_score
    rejected = []
    for question in load_questions(KNOWLEDGE / QUESTIONS_FILE).questions:
        result = await knowledge_deps.retriever.retrieve(question.question)
        if result.best_similarity < min_score:
            rejected.append((question.question, round(result.best_similarity, 3)))
    accepted = []
    for text in OFF_TOPIC:
        result = await knowledge_deps.retriever.retrieve(text)
        if result.best_similarity >= min_score:
            accepted.append((text, round(result.best_similarity, 3)))
    assert rejected == []
    assert accepted == []
