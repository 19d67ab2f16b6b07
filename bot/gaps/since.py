"""`--since`: how far back to look, as a duration ("7d", "12h", "2w", "90m") or a date
("2026-11-01", UTC). Bad input gets an error that says what is accepted."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from bot.errors import UserFacingError

_DURATION = re.compile(r"^(\d{1,6})\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
LONGEST = timedelta(days=366)
HINT = "a duration such as 7d, 12h, 2w or 90m, or a date such as 2026-11-01"


class SinceError(UserFacingError):
    pass


def parse_since(text: str, now: datetime) -> datetime:
    """The start of the period `text` names, ending at `now` (timezone-aware)."""
    value = text.strip().casefold()
    if not value:
        raise SinceError(f"--since is empty; give {HINT}.")
    match = _DURATION.match(value)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        if amount == 0:
            raise SinceError(f"--since {text!r} is an empty period; give {HINT}.")
        span = timedelta(**{_UNITS[unit]: amount})
        if span > LONGEST:
            raise SinceError(
                f"--since {text!r} is longer than a year; gaps are kept at most 365 days."
            )
        return now - span
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise SinceError(f"--since {text!r} is not understood; give {HINT}.") from None
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if start > now:
        raise SinceError(f"--since {text!r} is in the future.")
    return start
