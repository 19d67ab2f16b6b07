"""What the Slack layer needs to escalate: the use case, the expert group's members (cached),
and the channel where escalations are also listed. Absent (None) when no experts are set."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.escalation.service import EscalationService

logger = logging.getLogger(__name__)

GROUP_CACHE_SECONDS = 300.0


class GroupMembers:
    """Members of the experts' user group (usergroups.users.list), cached for a few minutes:
    one call per resolve would be wasteful, and group changes are rare."""

    def __init__(
        self,
        group_id: str | None,
        *,
        ttl_seconds: float = GROUP_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.group_id = group_id
        self._ttl = ttl_seconds
        self._clock = clock
        self._cached: tuple[float, frozenset[str]] | None = None

    async def members(self, client: AsyncWebClient) -> frozenset[str]:
        """The group's user ids; empty without a group. When Slack cannot be asked, the last
        list read (possibly none): an expert may then be refused, never a stranger let in."""
        if self.group_id is None:
            return frozenset()
        now = self._clock()
        if self._cached is not None and now - self._cached[0] < self._ttl:
            return self._cached[1]
        try:
            response = await client.usergroups_users_list(usergroup=self.group_id)
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            logger.warning("Could not read user group %s: %s", self.group_id, error)
            return self._cached[1] if self._cached is not None else frozenset()
        users = response.get("users") or []
        members = frozenset(str(u) for u in users if isinstance(u, str))
        self._cached = (now, members)
        return members


@dataclass(frozen=True)
class Escalations:
    service: EscalationService
    group: GroupMembers = field(default_factory=lambda: GroupMembers(None))
    channel_id: str | None = None  # where escalations are also listed
