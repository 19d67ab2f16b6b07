"""The gaps report, one service for `advisor gaps`, `/finetune-admin gaps` and the weekly digest:
the gaps of a period grouped by topic, with counts, an example question, and the closest
document in the live index.

Questions are embedded with the embedder the app already loaded (the one the index uses), so
the group's mean vector can be sent to the index as it is to find the closest document.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import numpy as np

from bot.errors import UserFacingError
from bot.gaps.grouping import Matrix, group_by_similarity, medoid, normalise
from bot.gaps.recorder import GapRecorder
from bot.memory.gaps import GAP_KINDS, GapRecord
from bot.models import Frozen
from bot.retrieval import sparse
from bot.retrieval.retriever import Retriever

log = logging.getLogger(__name__)

QUESTIONS_PER_GROUP = 5
REASONS_PER_GROUP = 3


class ClosestDocument(Frozen):
    source: str
    title: str
    section: str
    similarity: float  # cosine similarity of the group's mean question to the passage


class GapGroup(Frozen):
    count: int
    by_kind: dict[str, int]
    example: str  # the group's most typical question
    questions: tuple[str, ...]  # distinct questions, newest first, at most QUESTIONS_PER_GROUP
    reasons: tuple[str, ...]  # what "not helpful" voters and escalations said
    missing: tuple[str, ...]  # checklist questions most often left open, for provisional gaps
    closest: ClosestDocument | None
    first_seen: datetime
    last_seen: datetime


class GapReport(Frozen):
    since: datetime
    until: datetime
    total: int
    by_kind: dict[str, int]
    pending: int  # provisional verdicts still waiting for their missing facts
    groups: tuple[GapGroup, ...]
    index_version: str | None
    note: str | None = None  # why no closest documents are shown, when none are


def utc_now() -> datetime:
    return datetime.now(UTC)


class GapService:
    def __init__(
        self,
        recorder: GapRecorder,
        retriever: Retriever,
        *,
        similarity: float,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.recorder = recorder
        self.retriever = retriever
        self.similarity = similarity
        self.clock = clock

    async def report(self, since: datetime, until: datetime | None = None) -> GapReport:
        until = until or self.clock()
        await self.recorder.promote_due()
        records = await self.recorder.log.since(since.timestamp(), until.timestamp())
        pending = await self.recorder.log.count_pending()
        index_version: str | None = None
        note: str | None = None
        try:
            index_version = (await self.retriever.live_info()).version
        except UserFacingError as exc:
            note = f"No closest documents: {exc.message}"
        groups: list[GapGroup] = []
        if records:
            texts = sorted({_key(record.question) for record in records})
            vectors = normalise(await self.retriever.embedder.embed_documents(texts))
            clusters = await asyncio.to_thread(group_by_similarity, vectors, self.similarity)
            by_text: dict[str, list[GapRecord]] = {}
            for record in records:
                by_text.setdefault(_key(record.question), []).append(record)
            for cluster in clusters:
                members = [record for i in cluster for record in by_text[texts[i]]]
                closest = None
                if index_version is not None:
                    closest = await self._closest(vectors, cluster, texts[medoid(vectors, cluster)])
                groups.append(_group(members, texts[medoid(vectors, cluster)], closest))
        groups.sort(key=lambda group: (-group.count, -group.last_seen.timestamp()))
        return GapReport(
            since=since,
            until=until,
            total=len(records),
            by_kind=_kinds(records),
            pending=pending,
            groups=tuple(groups),
            index_version=index_version,
            note=note,
        )

    async def _closest(
        self, vectors: Matrix, cluster: Sequence[int], example: str
    ) -> ClosestDocument | None:
        centre = normalise([vectors[list(cluster)].mean(axis=0).tolist()])[0]
        try:
            hits = await self.retriever.index.search(
                centre.tolist(), sparse.query_vector(example), 1, mode="hybrid"
            )
        except UserFacingError:
            log.warning("gaps: the index could not be searched", exc_info=True)
            return None
        if not hits.passages:
            return None
        best = hits.passages[0]
        return ClosestDocument(
            source=best.chunk.source,
            title=best.chunk.title,
            section=best.chunk.section,
            similarity=round(float(np.clip(best.similarity, -1.0, 1.0)), 4),
        )


def _key(question: str) -> str:
    """Questions that differ only in spacing and case are the same question."""
    return " ".join(question.split())


def _kinds(records: Sequence[GapRecord]) -> dict[str, int]:
    counts = Counter(record.kind for record in records)
    return {kind: counts[kind] for kind in GAP_KINDS if counts[kind]}


def _group(records: list[GapRecord], example: str, closest: ClosestDocument | None) -> GapGroup:
    newest = sorted(records, key=lambda record: record.created_at, reverse=True)
    questions = list(dict.fromkeys(_key(record.question) for record in newest))
    reasons = list(dict.fromkeys(record.reason for record in newest if record.reason))
    missing = Counter(question_id for record in records for question_id in record.missing)
    return GapGroup(
        count=len(records),
        by_kind=_kinds(records),
        example=example,
        questions=tuple(questions[:QUESTIONS_PER_GROUP]),
        reasons=tuple(reasons[:REASONS_PER_GROUP]),
        missing=tuple(question_id for question_id, _ in missing.most_common(3)),
        closest=closest,
        first_seen=datetime.fromtimestamp(newest[-1].created_at, UTC),
        last_seen=datetime.fromtimestamp(newest[0].created_at, UTC),
    )
