"""Who may run admin commands: listed user ids, and optionally the workspace's admins/owners.

The workspace lookup is passed in (Slack's users.info in the Slack layer), so this stays free of
Slack imports and is tested with a plain function.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

# user id -> the user's profile as users.info returns it ({"is_admin": ..., "is_owner": ...})
UserLookup = Callable[[str], Awaitable[Mapping[str, Any]]]
LOOKUP_TIMEOUT_SECONDS = 2.0  # the lookup runs before a slash command's 3-second ack


class AdminPolicy:
    def __init__(self, user_ids: frozenset[str], include_workspace_admins: bool = False) -> None:
        self.user_ids = user_ids
        self.include_workspace_admins = include_workspace_admins

    async def allows(self, user_id: str, lookup: UserLookup | None = None) -> bool:
        if user_id in self.user_ids:
            return True
        if not self.include_workspace_admins or lookup is None:
            return False
        try:
            async with asyncio.timeout(LOOKUP_TIMEOUT_SECONDS):
                user = await lookup(user_id)
        except Exception:
            # Failing closed: a lookup we cannot make never grants admin rights.
            log.warning("admin check: could not look up user %s", user_id, exc_info=True)
            return False
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
