"""build_admin: the admin service from the composition root's `Deps` and `AdminSettings`."""

from __future__ import annotations

from bot.admin.access import AdminPolicy
from bot.admin.gate import QualityGate
from bot.admin.lock import ReindexLock
from bot.admin.service import AdminService
from bot.admin.settings import AdminSettings
from bot.deps import Deps
from bot.errors import ConfigError
from bot.ops.health import HealthChecks
from bot.ops.metrics import Metrics


def build_admin(
    deps: Deps, settings: AdminSettings, metrics: Metrics | None = None
) -> AdminService:
    """`metrics` defaults to `deps.metrics` once Deps has one, else a fresh registry."""
    if deps.redis is None:
        raise ConfigError("Admin commands need Redis (REDIS_URL, or the embedded default).")
    chosen = metrics or getattr(deps, "metrics", None) or Metrics()
    return AdminService(
        store=deps.store,
        embedder=deps.embedder,
        retriever=deps.retriever,
        knowledge_dir=deps.settings.core.knowledge_dir,
        retrieval=deps.settings.retrieval,
        lock=ReindexLock(deps.redis, ttl_seconds=settings.reindex_lock_ttl_seconds),
        gate=QualityGate(deps.store, deps.embedder, settings.quality_gate_margin),
        policy=AdminPolicy(settings.admin_user_ids, settings.admins_include_workspace_admins),
        health=HealthChecks(redis=deps.redis, qdrant=deps.qdrant, store=deps.store, chat=deps.chat),
        metrics=chosen,
        feedback=deps.feedback,
    )
