"""The lifecycle service, built two ways: from the composition root's `Deps` (Slack, `advisor
run`, `advisor status`/`rollback`), or standalone for `advisor reindex`, which must not pay for
the whole engine (a no-op run finishes in well under a second) and connects to Redis only when
it is about to write."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from bot.admin.access import AdminPolicy
from bot.admin.lock import ReindexLock
from bot.admin.service import AdminService
from bot.admin.settings import AdminSettings
from bot.config import Settings
from bot.ops.health import HealthChecks

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bot.deps import Deps
    from bot.memory.embedded_redis import EmbeddedRedis
    from bot.ops.metrics import Metrics

log = logging.getLogger(__name__)


def build_admin(
    deps: Deps, settings: AdminSettings, metrics: Metrics | None = None
) -> AdminService:
    """`metrics` defaults to `deps.metrics`."""
    lock = (
        ReindexLock(deps.redis, ttl_seconds=settings.reindex_lock_ttl_seconds)
        if deps.redis is not None
        else None
    )

    async def lock_source() -> ReindexLock | None:
        return lock

    from bot.admin.gate import QualityGate

    return AdminService(
        index=deps.index,
        embedder=deps.embedder,
        retriever=deps.retriever,
        knowledge_dir=deps.settings.core.knowledge_dir,
        retrieval=deps.settings.retrieval,
        lock=lock_source,
        gate=lambda: QualityGate(deps.index, deps.embedder, settings.quality_gate_margin),
        policy=AdminPolicy(settings.admin_user_ids, settings.admins_include_workspace_admins),
        health=HealthChecks(redis=deps.redis, index=deps.index, chat=deps.chat),
        metrics=metrics or deps.metrics,
        feedback=deps.feedback,
    )


class _LazyRedis:
    """Connects (or starts the embedded server) on first use only."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.client: Redis | None = None
        self.embedded: EmbeddedRedis | None = None
        self._tried = False

    async def lock(self) -> ReindexLock | None:
        if not self._tried:
            self._tried = True
            from bot.memory.connection import connect_redis
            from bot.memory.embedded_redis import EmbeddedRedisError

            try:
                self.client, self.embedded = await connect_redis(
                    self._settings.redis, self._settings.core.data_dir
                )
            except EmbeddedRedisError as exc:
                log.warning("no Redis for the reindex lock: %s", exc.message)
        if self.client is None:
            return None
        return ReindexLock(self.client, ttl_seconds=self._settings.admin.reindex_lock_ttl_seconds)

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        if self.embedded is not None:
            self.embedded.stop()


@contextlib.asynccontextmanager
async def standalone_admin(settings: Settings) -> AsyncIterator[AdminService]:
    """The service with only what a reindex needs: index, embedder (loaded lazily), Redis for
    the lock (connected lazily)."""
    from bot.admin.gate import QualityGate
    from bot.retrieval.embed import build_embedder
    from bot.retrieval.index.factory import open_index

    index = open_index(settings)
    redis = _LazyRedis(settings)
    embedder = build_embedder(settings)
    admin = settings.admin
    try:
        yield AdminService(
            index=index,
            embedder=embedder,
            knowledge_dir=settings.core.knowledge_dir,
            retrieval=settings.retrieval,
            lock=redis.lock,
            gate=lambda: QualityGate(index, embedder, admin.quality_gate_margin),
            policy=AdminPolicy(admin.admin_user_ids, admin.admins_include_workspace_admins),
            health=HealthChecks(redis=None, index=index),
            metrics=None,  # a terminal run reports on the terminal, not to Prometheus
        )
    finally:
        await redis.aclose()
        await index.close()
