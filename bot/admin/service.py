"""The admin use cases: reindex (locked, gated, full build), rollback and status.

Slack and any other front end call these; they hold no Slack types. Reindex always builds a new
collection (unchanged vectors are reused by content hash, so this is cheap) and moves the alias
only after the quality gate passes, so questions are answered from the old index until then.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path

from bot.admin.access import AdminPolicy
from bot.admin.gate import GateResult, QualityGate, QualityGateError, load_gate_questions
from bot.admin.lock import LockHolder, ReindexBusyError, ReindexLock
from bot.config import RetrievalSettings
from bot.memory.feedback import FeedbackStore
from bot.models import Frozen
from bot.ops.health import Check, HealthChecks
from bot.ops.metrics import Metrics
from bot.retrieval.embed import Embedder
from bot.retrieval.indexer import BeforePublish, ProgressFn, ReindexReport, reindex
from bot.retrieval.retriever import Retriever
from bot.retrieval.store import IndexInfo, KnowledgeStore

log = logging.getLogger(__name__)

FEEDBACK_WINDOW = 200  # status counts the ratings among this many most recent votes


class ReindexResult(Frozen):
    report: ReindexReport
    gate: GateResult | None  # None: dry run, or no questions.yaml in the folder
    live: IndexInfo | None  # what answers questions now


class RollbackResult(Frozen):
    live: IndexInfo


class AdminStatus(Frozen):
    index: IndexInfo | None
    embedder: str
    checks: tuple[Check, ...]
    feedback: dict[str, int]  # rating -> votes among the last FEEDBACK_WINDOW
    running: LockHolder | None


class AdminService:
    def __init__(
        self,
        *,
        store: KnowledgeStore,
        embedder: Embedder,
        retriever: Retriever,
        knowledge_dir: Path,
        retrieval: RetrievalSettings,
        lock: ReindexLock,
        gate: QualityGate,
        policy: AdminPolicy,
        health: HealthChecks,
        metrics: Metrics,
        feedback: FeedbackStore | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.retriever = retriever
        self.knowledge_dir = knowledge_dir
        self.retrieval = retrieval
        self.lock = lock
        self.gate = gate
        self.policy = policy
        self.health = health
        self.metrics = metrics
        self.feedback = feedback

    async def reindex(
        self, by: str, dry_run: bool = False, progress: ProgressFn | None = None
    ) -> ReindexResult:
        """Raises ReindexBusyError, QualityGateError, or whatever stopped the build; in every
        failure case the previous index is still live."""
        started = time.perf_counter()
        log.info("reindex requested by %s (dry_run=%s)", by, dry_run)
        if dry_run:
            # Read-only, so no lock: it can run next to a real build.
            report = await self._run(by, dry_run=True, progress=progress)
            self.metrics.observe_reindex("dry_run", time.perf_counter() - started)
            return ReindexResult(report=report, gate=None, live=await self.store.info())
        gate_result: GateResult | None = None
        try:
            async with self.lock.hold(by):
                questions = load_gate_questions(self.knowledge_dir)

                async def before_publish(collection: str) -> None:
                    nonlocal gate_result
                    if questions is not None:
                        gate_result = await self.gate.check(collection, questions)

                report = await self._run(by, False, progress, before_publish)
        except ReindexBusyError:
            self.metrics.observe_reindex("busy", None)
            raise
        except QualityGateError:
            self.metrics.observe_reindex("gate_failed", time.perf_counter() - started)
            raise
        except BaseException:
            self.metrics.observe_reindex("failed", time.perf_counter() - started)
            raise
        finally:
            self.retriever.forget_info()
        self.metrics.observe_reindex("published", report.duration_seconds)
        log.info("reindex by %s published version %s", by, report.version)
        return ReindexResult(report=report, gate=gate_result, live=await self.store.info())

    async def _run(
        self,
        by: str,
        dry_run: bool,
        progress: ProgressFn | None,
        before_publish: BeforePublish | None = None,
    ) -> ReindexReport:
        return await reindex(
            self.store,
            self.embedder,
            self.knowledge_dir,
            chunk_chars=self.retrieval.chunk_chars,
            max_file_bytes=self.retrieval.max_file_bytes,
            full=True,
            dry_run=dry_run,
            built_by=by,
            progress=progress,
            before_publish=before_publish,
        )

    async def rollback(self, by: str) -> RollbackResult:
        """Point the alias back at the previous collection (under the reindex lock)."""
        log.info("rollback requested by %s", by)
        async with self.lock.hold(by):
            previous = await self.store.rollback()
        self.retriever.forget_info()
        info = await self.store.info(previous)
        assert info is not None  # rollback only returns an existing collection
        log.info("rollback by %s: %s is live again", by, previous)
        return RollbackResult(live=info)

    async def status(self) -> AdminStatus:
        try:
            info = await self.store.info()
        except Exception:
            log.warning("status: cannot read the index", exc_info=True)
            info = None
        checks = (
            await self.health.redis(),
            await self.health.qdrant(),
            await self.health.llm(),
        )
        redis_ok = checks[0].ok
        return AdminStatus(
            index=info,
            embedder=self.embedder.name,
            checks=checks,
            feedback=await self._feedback_counts() if redis_ok else {},
            running=await self.lock.holder() if redis_ok else None,
        )

    async def _feedback_counts(self) -> dict[str, int]:
        if self.feedback is None:
            return {}
        records = await self.feedback.recent(FEEDBACK_WINDOW)
        return dict(Counter(record.rating for record in records))
