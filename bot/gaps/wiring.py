"""Builds the gaps service and the weekly digest from the composition root's `Deps`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.gaps.digest import DigestSchedule, WeeklyDigest
from bot.gaps.service import GapService

if TYPE_CHECKING:
    from bot.deps import Deps


def build_gap_service(deps: Deps) -> GapService | None:
    """None without Redis (nothing is recorded then)."""
    if deps.gaps is None:
        return None
    return GapService(deps.gaps, deps.retriever, similarity=deps.settings.gaps.group_similarity)


def build_digest(deps: Deps, service: GapService | None) -> WeeklyDigest | None:
    """None (no digest) without an admin channel or without Redis."""
    channel_id = deps.settings.admin.admin_channel_id
    if service is None or deps.redis is None or channel_id is None:
        return None
    gaps = deps.settings.gaps
    schedule = DigestSchedule(weekday=gaps.digest_day, hour=gaps.digest_hour)
    return WeeklyDigest(service, deps.redis, schedule, channel_id)
