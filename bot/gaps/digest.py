"""The weekly gaps digest: once a week, at a configured day and hour (UTC), the top groups of
the gaps recorded since the last digest go to the admin channel, posted by exactly one replica.

- Exactly one: the replica that wins `SET advisor:gaps:digest:<ISO week> NX EX` posts; the
  others see the key and do nothing. A failure while building or posting deletes the key, so
  the next tick (of any replica) tries again.
- Nothing new, nothing posted: the period starts at the previous digest (or a week before this
  one's slot), and an empty period posts nothing.
- Only near its slot: a replica that starts more than `GRACE` after this week's slot waits for
  next week's, instead of posting a late digest mid-week.

`tick()` does one check with the injected clock, so tests step through weeks without waiting;
`run()` calls it every `interval` seconds until its stop event is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

from redis.asyncio import Redis

from bot.config import Weekday
from bot.gaps.render import report_text
from bot.gaps.service import GapService, utc_now
from bot.models import Frozen

log = logging.getLogger(__name__)

WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEK = timedelta(days=7)
GRACE = timedelta(hours=24)
TOP_GROUPS = 5
CLAIM_PREFIX = "advisor:gaps:digest"
LAST_KEY = f"{CLAIM_PREFIX}:last"
CLAIM_TTL_SECONDS = 8 * 24 * 3600  # outlives the week it names
DigestOutcome = Literal["not_due", "taken", "nothing_new", "posted"]
Poster = Callable[[str], Awaitable[None]]
TITLE = "*What the guidance missed this week*"


class DigestSchedule(Frozen):
    weekday: Weekday
    hour: int

    def slot(self, now: datetime) -> datetime:
        """The latest scheduled time at or before `now`."""
        now = now.astimezone(UTC)
        days_back = (now.weekday() - WEEKDAYS.index(self.weekday)) % 7
        slot = now.replace(hour=self.hour, minute=0, second=0, microsecond=0) - timedelta(
            days=days_back
        )
        return slot - WEEK if slot > now else slot


class WeeklyDigest:
    def __init__(
        self,
        service: GapService,
        redis: Redis,
        schedule: DigestSchedule,
        channel_id: str,
        *,
        clock: Callable[[], datetime] = utc_now,
        top: int = TOP_GROUPS,
    ) -> None:
        self.service = service
        self.redis = redis
        self.schedule = schedule
        self.channel_id = channel_id
        self.clock = clock
        self.top = top
        self._owner = secrets.token_hex(6)

    async def tick(self, post: Poster) -> DigestOutcome:
        now = self.clock()
        slot = self.schedule.slot(now)
        if now - slot > GRACE:
            return "not_due"
        claim = f"{CLAIM_PREFIX}:{slot.strftime('%G-W%V')}"
        if not await self.redis.set(claim, self._owner, nx=True, ex=CLAIM_TTL_SECONDS):
            return "taken"
        try:
            last = await self.redis.get(LAST_KEY)
            since = datetime.fromtimestamp(float(last), UTC) if last else slot - WEEK
            report = await self.service.report(since, now)
            if report.total == 0:
                log.info("gaps digest for %s: nothing new since %s", claim, since.isoformat())
                return "nothing_new"
            await post(f"{TITLE}\n{report_text(report, self.top)}")
            await self.redis.set(LAST_KEY, str(now.timestamp()), ex=CLAIM_TTL_SECONDS * 8)
        except BaseException:
            await self.redis.delete(claim)
            raise
        log.info("gaps digest for %s posted: %d gaps", claim, report.total)
        return "posted"

    async def run(self, post: Poster, stop: asyncio.Event, interval: float = 60.0) -> None:
        while not stop.is_set():
            try:
                await self.tick(post)
            except Exception:
                log.exception("the gaps digest failed; it is tried again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
