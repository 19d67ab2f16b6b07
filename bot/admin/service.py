"""The index lifecycle, one service for every front end: reindex (full, incremental, dry run),
rollback and status. The CLI, Slack `/finetune-admin`, `advisor run` (`make run`) and the
Kubernetes Job all call this; none of them holds a rule of its own. Nothing here imports Slack.

- Reading first: a reindex plans by content hash before anything else, so a run with nothing to
  do (or a dry run) touches no lock, no model and no engine write.
- Anything that writes runs under the cross-process Redis lock whenever Redis is reachable (the
  embedded one included), and plans again under it, since another run may just have published.
- Every build that would be published passes the quality gate when the folder has questions.yaml.
- Status is computed here once; each front end only renders it.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.admin.access import AdminPolicy
from bot.admin.gate import GateResult, QualityGate, QualityGateError, load_gate_questions
from bot.admin.lock import LockHolder, ReindexBusyError, ReindexLock
from bot.config import RetrievalSettings
from bot.errors import UserFacingError
from bot.models import Frozen
from bot.ops.health import Check, HealthChecks
from bot.retrieval.embed import Embedder
from bot.retrieval.index.port import IndexInfo, IndexPort, check_embedder
from bot.retrieval.indexer import (
    BeforePublish,
    ProgressFn,
    ReindexPlan,
    ReindexReport,
    build_and_publish,
    plan_reindex,
)

if TYPE_CHECKING:
    from bot.memory.feedback import FeedbackStore
    from bot.ops.metrics import Metrics, ReindexOutcome
    from bot.retrieval.retriever import Retriever

log = logging.getLogger(__name__)

FEEDBACK_WINDOW = 200  # status counts the ratings among this many most recent votes
# The lock, when there is a Redis to hold it on; called only when a run will write.
LockSource = Callable[[], Awaitable[ReindexLock | None]]
NO_LOCK_NOTE = "Redis was not reachable, so this reindex ran without the cross-process lock."


class ReindexResult(Frozen):
    report: ReindexReport
    gate: GateResult | None  # None: dry run, nothing to do, or no questions.yaml in the folder
    live: IndexInfo | None  # what answers questions now
    locked: bool = False  # the Redis lock was held for the run
    notes: tuple[str, ...] = ()


class RollbackResult(Frozen):
    live: IndexInfo


class AdminStatus(Frozen):
    backend: str  # "edge" or "server"
    index: IndexInfo | None  # the live build
    problem: str | None  # why the index cannot answer (missing, other embedder, unreachable)
    previous: IndexInfo | None
    builds: tuple[IndexInfo, ...]
    embedder: str
    checks: tuple[Check, ...]
    feedback: dict[str, int]  # rating -> votes among the last FEEDBACK_WINDOW
    running: LockHolder | None


class AdminService:
    def __init__(
        self,
        *,
        index: IndexPort,
        embedder: Embedder,
        knowledge_dir: Path,
        retrieval: RetrievalSettings,
        lock: LockSource,
        gate: Callable[[], QualityGate],
        policy: AdminPolicy,
        health: HealthChecks,
        metrics: Metrics | None,
        retriever: Retriever | None = None,
        feedback: FeedbackStore | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.knowledge_dir = knowledge_dir
        self.retrieval = retrieval
        self._lock = lock
        self._gate_factory = gate
        self._gate: QualityGate | None = None
        self.policy = policy
        self.health = health
        self.metrics = metrics
        self.retriever = retriever
        self.feedback = feedback

    @property
    def gate(self) -> QualityGate:
        """Built on first use: a run with nothing to do never loads the gate's question set."""
        if self._gate is None:
            self._gate = self._gate_factory()
        return self._gate

    def _observe(self, outcome: ReindexOutcome, seconds: float | None) -> None:
        if self.metrics is not None:
            self.metrics.observe_reindex(outcome, seconds)

    async def plan(self, folder: Path | None = None, *, full: bool = False) -> ReindexPlan:
        return await plan_reindex(
            self.index,
            self.embedder.name,
            folder or self.knowledge_dir,
            chunk_chars=self.retrieval.chunk_chars,
            max_file_bytes=self.retrieval.max_file_bytes,
            full=full,
        )

    async def reindex(
        self,
        by: str,
        dry_run: bool = False,
        progress: ProgressFn | None = None,
        *,
        full: bool = False,
        folder: Path | None = None,
    ) -> ReindexResult:
        """Raises ReindexBusyError, QualityGateError, or whatever stopped the build; in every
        failure case the previous index is still live."""
        started = time.perf_counter()
        log.info("reindex requested by %s (full=%s, dry_run=%s)", by, full, dry_run)
        plan = await self.plan(folder, full=full)
        if dry_run or plan.noop:
            self._observe("dry_run" if dry_run else "unchanged", None)
            return ReindexResult(report=plan.report(dry_run=dry_run), gate=None, live=plan.live)
        gate_result: GateResult | None = None
        try:
            async with self._held(by) as locked:
                plan = await self.plan(folder, full=full)  # the live build may have changed
                if plan.noop:
                    self._observe("unchanged", None)
                    return ReindexResult(report=plan.report(), gate=None, live=plan.live,
                                         locked=locked)  # fmt: skip
                questions = load_gate_questions(plan.folder)

                async def before_publish(build: str) -> None:
                    nonlocal gate_result
                    if questions is not None:
                        gate_result = await self.gate.check(build, questions)

                gate: BeforePublish = before_publish
                report = await build_and_publish(
                    self.index, self.embedder, plan,
                    built_by=by, progress=progress, before_publish=gate,
                )  # fmt: skip
        except ReindexBusyError:
            self._observe("busy", None)
            raise
        except QualityGateError:
            self._observe("gate_failed", time.perf_counter() - started)
            raise
        except BaseException:
            self._observe("failed", time.perf_counter() - started)
            raise
        finally:
            self._forget()
        self._observe("published", report.duration_seconds)
        log.info("reindex by %s published version %s", by, report.version)
        return ReindexResult(
            report=report,
            gate=gate_result,
            live=await self.index.live(),
            locked=locked,
            notes=() if locked else (NO_LOCK_NOTE,),
        )

    @contextlib.asynccontextmanager
    async def _held(self, by: str) -> AsyncIterator[bool]:
        """Hold the reindex lock when Redis answers; yields whether it is held."""
        from redis.exceptions import RedisError

        lock = await self._lock()
        reachable = lock is not None
        if lock is not None:
            try:
                await lock.ping()
            except (RedisError, OSError):
                log.warning("Redis is not reachable: running without the reindex lock")
                reachable = False
        if lock is None or not reachable:
            yield False
            return
        async with lock.hold(by):
            yield True

    def _forget(self) -> None:
        if self.retriever is not None:
            self.retriever.forget_info()

    async def rollback(self, by: str) -> RollbackResult:
        """Make the previous build live again (under the reindex lock when Redis answers)."""
        log.info("rollback requested by %s", by)
        async with self._held(by):
            live = await self.index.rollback()
        self._forget()
        log.info("rollback by %s: %s is live again", by, live.build)
        return RollbackResult(live=live)

    async def status(self) -> AdminStatus:
        problem: str | None = None
        summary = None
        try:
            summary = await self.index.summary()
            if summary.live is None:
                problem = getattr(self.index, "missing_message", "no live index")
            else:
                check_embedder(summary.live, self.embedder.name)
        except UserFacingError as exc:
            problem = exc.message
        except Exception:
            log.warning("status: cannot read the index", exc_info=True)
            problem = "the index cannot be read (see the log)"
        checks = (await self.health.redis(), await self.health.qdrant(), await self.health.llm())
        redis_ok = checks[0].ok
        running = None
        if redis_ok:
            lock = await self._lock()
            running = await lock.holder() if lock is not None else None
        return AdminStatus(
            backend=self.index.backend,
            index=summary.live if summary else None,
            problem=problem,
            previous=summary.previous if summary else None,
            builds=summary.builds if summary else (),
            embedder=self.embedder.name,
            checks=checks,
            feedback=await self._feedback_counts() if redis_ok else {},
            running=running,
        )

    async def _feedback_counts(self) -> dict[str, int]:
        if self.feedback is None:
            return {}
        records = await self.feedback.recent(FEEDBACK_WINDOW)
        return dict(Counter(record.rating for record in records))
