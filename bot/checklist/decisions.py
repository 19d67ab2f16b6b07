"""The decisions use case: recent decisions with how they turned out, and a summary per outcome.

One implementation for `/finetune-check history` (one channel) and `advisor decisions` (every
channel). The list is cut to `limit`; the summary counts every decision still kept in scope.
"""

from __future__ import annotations

from bot.checklist.definition import Frozen
from bot.checklist.history import Decision, DecisionHistory
from bot.checklist.outcomes import OutcomeSummary, summarise


class DecisionReport(Frozen):
    decisions: tuple[Decision, ...]  # newest first
    summary: tuple[OutcomeSummary, ...]  # most decisions first


async def decision_report(
    history: DecisionHistory,
    *,
    team_id: str | None = None,
    channel_id: str | None = None,
    limit: int | None = None,
) -> DecisionReport:
    """A channel's decisions when `team_id` and `channel_id` are given, otherwise all of them."""
    if team_id is not None and channel_id is not None:
        kept = await history.recent(team_id, channel_id, limit=history.max_entries)
    else:
        kept = await history.everything()
    listed = kept[:limit] if limit is not None else kept
    return DecisionReport(decisions=tuple(listed), summary=tuple(summarise(kept)))
