"""The gaps settings: readable names for days, channel ids checked, errors naming the variable."""

from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.errors import ConfigError


def test_defaults() -> None:
    settings = load_settings(env_file=None)
    assert settings.admin.admin_channel_id is None  # no digest
    gaps = settings.gaps
    assert (gaps.digest_day, gaps.digest_hour) == ("mon", 9)
    assert (gaps.ttl_days, gaps.max_records, gaps.pending_hours) == (90, 2000, 24)


@pytest.mark.parametrize(("value", "day"), [("Friday", "fri"), ("SUN", "sun"), (" tue ", "tue")])
def test_days_by_name(monkeypatch: pytest.MonkeyPatch, value: str, day: str) -> None:
    monkeypatch.setenv("ADVISOR_GAPS_DIGEST_DAY", value)
    assert load_settings(env_file=None).gaps.digest_day == day


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADVISOR_GAPS_DIGEST_DAY", "funday"),
        ("ADVISOR_GAPS_DIGEST_HOUR", "24"),
        ("ADVISOR_GAPS_TTL_DAYS", "0"),
        ("ADVISOR_GAPS_GROUP_SIMILARITY", "1.5"),
        ("ADVISOR_ADMIN_CHANNEL_ID", "#advisor-admins"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_settings(env_file=None)


def test_a_channel_id_turns_the_digest_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_ADMIN_CHANNEL_ID", "C0123ABCD")
    assert load_settings(env_file=None).admin.admin_channel_id == "C0123ABCD"
