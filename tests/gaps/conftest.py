"""Gap tests use the shared Slack harness and a fake clock that steps through weeks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tests.support.slack_fixtures import harness, make_harness  # noqa: F401 - fixtures


@dataclass
class FakeClock:
    """One clock for the recorder (epoch seconds) and the digest (datetimes)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def time(self) -> float:
        return self.now.timestamp()

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
