"""Prometheus metrics in a registry of their own.

Each `Metrics()` owns a fresh `CollectorRegistry` (never the process-wide default), so the
composition root decides what is exported and tests never see each other's counts. Call sites
use the small `observe_*` methods, not the metric objects, so names and labels live here only.
"""

from __future__ import annotations

from typing import Literal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from bot.models import AnswerMode

_LATENCY_BUCKETS = (0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60)
_SIMILARITY_BUCKETS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
_REINDEX_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800)

FollowUpEvent = Literal["scheduled", "cancelled", "answered"]
ReindexOutcome = Literal["published", "unchanged", "dry_run", "busy", "gate_failed", "failed"]


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.questions = Counter(
            "advisor_questions_answered",
            "Questions answered, by answer mode.",
            ["mode"],
            registry=r,
        )
        self.answer_latency = Histogram(
            "advisor_answer_latency_seconds",
            "From question to the complete answer.",
            ["mode"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.first_text = Histogram(
            "advisor_time_to_first_text_seconds",
            "From question to the first answer text.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.top_similarity = Histogram(
            "advisor_retrieval_top_similarity",
            "Cosine similarity of the best retrieved passage (compare with ADVISOR_MIN_SCORE).",
            buckets=_SIMILARITY_BUCKETS,
            registry=r,
        )
        self.reranks = Counter(
            "advisor_reranks",
            "Hybrid queries sent to the reranker, by outcome (reranked, or failed and kept in "
            "the fused order).",
            ["outcome"],
            registry=r,
        )
        self.no_match = Counter(
            "advisor_no_match", "Questions the guidance did not cover (mode no_match).", registry=r
        )
        self.feedback = Counter(
            "advisor_feedback", "Feedback votes, by rating.", ["rating"], registry=r
        )
        self.reindex_duration = Histogram(
            "advisor_reindex_duration_seconds",
            "Reindex runs, by outcome.",
            ["outcome"],
            buckets=_REINDEX_BUCKETS,
            registry=r,
        )
        self.reindex_runs = Counter(
            "advisor_reindex_runs", "Reindex requests, by outcome.", ["outcome"], registry=r
        )
        self.verdicts = Counter(
            "advisor_verdicts",
            "Answers that led with a checklist verdict, by outcome and confidence.",
            ["outcome", "confidence"],
            registry=r,
        )
        self.reader_fallbacks = Counter(
            "advisor_situation_reader_fallbacks",
            "LLM situation readings that failed and fell back to the offline reader.",
            registry=r,
        )
        self.contradictions = Counter(
            "advisor_verdict_contradictions",
            "Generated answers that recommended something the checklist verdict rules out.",
            registry=r,
        )
        self.invented_citations = Counter(
            "advisor_invented_citations",
            "[n] markers removed from generated answers because they named no passage.",
            registry=r,
        )
        self.gaps = Counter(
            "advisor_gaps",
            "Gaps recorded (what the guidance misses), by kind.",
            ["kind"],
            registry=r,
        )
        self.slack_errors = Counter(
            "advisor_slack_api_errors",
            "Failed Slack Web API calls, by method and error.",
            ["method", "error"],
            registry=r,
        )

        self.followups = Counter(
            "advisor_decision_followups",
            "Decision follow-ups: scheduled, cancelled before they were sent, and answered "
            "(the first answer to each).",
            ["event"],
            registry=r,
        )
        self.escalations = Counter(
            "advisor_escalations",
            "Threads handed to a human expert, by what asked for it (button or message).",
            ["source"],
            registry=r,
        )
        self.escalations_resolved = Counter(
            "advisor_escalations_resolved",
            "Escalations marked resolved, by who resolved them (expert or asker).",
            ["role"],
            registry=r,
        )

    def observe_answer(self, mode: AnswerMode, seconds: float, first_text: float | None) -> None:
        self.questions.labels(mode=mode).inc()
        self.answer_latency.labels(mode=mode).observe(seconds)
        if first_text is not None:
            self.first_text.observe(first_text)
        if mode == "no_match":
            self.no_match.inc()

    def observe_verdict(self, outcome: str, confidence: str) -> None:
        self.verdicts.labels(outcome=outcome, confidence=confidence).inc()

    def observe_similarity(self, similarity: float) -> None:
        self.top_similarity.observe(similarity)

    def count_rerank(self, outcome: str) -> None:
        self.reranks.labels(outcome=outcome).inc()

    def count_feedback(self, rating: str) -> None:
        self.feedback.labels(rating=rating).inc()

    def observe_reindex(self, outcome: ReindexOutcome, seconds: float | None) -> None:
        self.reindex_runs.labels(outcome=outcome).inc()
        if seconds is not None:
            self.reindex_duration.labels(outcome=outcome).observe(seconds)

    def count_gap(self, kind: str) -> None:
        self.gaps.labels(kind=kind).inc()

    def count_slack_error(self, method: str, error: str) -> None:
        self.slack_errors.labels(method=method, error=error).inc()

    def count_followup(self, event: FollowUpEvent) -> None:
        self.followups.labels(event=event).inc()

    def count_escalation(self, source: str) -> None:
        self.escalations.labels(source=source).inc()

    def count_escalation_resolved(self, role: str) -> None:
        self.escalations_resolved.labels(role=role).inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type, for a /metrics handler."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
