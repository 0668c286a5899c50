"""Unit tests of the court calendar (domain/calendar.py) and of how the bot gets today's court date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import (
    ANSWER_DAYS,
    answer_deadline,
    answer_window,
    as_utc,
    court_date,
    days_left,
    days_since,
    format_date,
    format_days_left,
    format_instant,
)
from services.context import AppContext
from settings import Settings
from tests.support.memory_db import MemoryDatabase, RecordingNotifier

TZ = ZoneInfo("America/New_York")


async def today_at(tmp_path: Path, now: datetime, env: dict[str, str] | None = None) -> date:
    """AppContext.today() (what the use cases call) with the clock stopped at ``now``."""
    settings = Settings.from_env({"DATA_DIR": str(tmp_path / "data"), **(env or {})})
    return AppContext(settings, MemoryDatabase(), RecordingNotifier(), clock=lambda: now).today()


async def test_utc_early_morning_is_still_yesterday_in_vermont(tmp_path: Path) -> None:
    assert await today_at(tmp_path, datetime(2026, 11, 25, 3, 30, tzinfo=UTC)) == date(2026, 11, 24)
    assert await today_at(tmp_path, datetime(2026, 11, 25, 5, 0, tzinfo=UTC)) == date(2026, 11, 25)


async def test_today_follows_the_timezone_setting(tmp_path: Path) -> None:
    # 06:30 UTC is 01:30 in New York (Nov 25) but still 22:30 on Nov 24 in Los Angeles
    now = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)
    assert await today_at(tmp_path, now) == date(2026, 11, 25)
    assert await today_at(tmp_path, now, {"TIMEZONE": "America/Los_Angeles"}) == date(2026, 11, 24)


def test_court_date_in_summer_uses_daylight_time() -> None:
    # EDT is UTC-4: 03:59 UTC is 23:59 the day before, 04:00 UTC is midnight.
    assert court_date(datetime(2026, 7, 2, 3, 59, tzinfo=UTC), TZ) == date(2026, 7, 1)
    assert court_date(datetime(2026, 7, 2, 4, 0, tzinfo=UTC), TZ) == date(2026, 7, 2)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError):
        court_date(datetime(2026, 11, 24, 12, 0), TZ)
    with pytest.raises(ValueError):
        format_instant(datetime(2026, 11, 24, 12, 0), TZ)


def test_answer_deadline_is_issue_court_date_plus_21_days() -> None:
    issued = datetime(2026, 11, 25, 4, 30, tzinfo=UTC)  # 23:30 Eastern on Nov 24
    assert ANSWER_DAYS == 21
    assert answer_deadline(issued, TZ) == date(2026, 12, 15)


def test_answer_deadline_across_daylight_saving_change() -> None:
    issued = datetime(2026, 10, 30, 23, 0, tzinfo=ZoneInfo("America/New_York"))
    assert answer_deadline(issued, TZ) == date(2026, 11, 20)


def test_days_left_and_since() -> None:
    assert days_left(date(2026, 12, 15), date(2026, 11, 24)) == 21
    assert days_left(date(2026, 12, 15), date(2026, 12, 15)) == 0
    assert days_left(date(2026, 12, 15), date(2026, 12, 17)) == -2
    assert days_since(date(2026, 11, 10), date(2026, 11, 17)) == 7


def test_format_date_without_locale_or_leading_zero() -> None:
    assert format_date(date(2026, 11, 24)) == "Tue Nov 24, 2026"
    assert format_date(date(2026, 12, 1)) == "Tue Dec 1, 2026"


def test_format_instant_in_court_zone() -> None:
    assert format_instant(datetime(2026, 11, 24, 20, 5, tzinfo=UTC), TZ) == "Nov 24, 2026 3:05 PM EST"
    assert format_instant(datetime(2026, 7, 4, 4, 0, tzinfo=UTC), TZ) == "Jul 4, 2026 12:00 AM EDT"
    assert format_instant(datetime(2026, 7, 4, 16, 0, tzinfo=UTC), TZ) == "Jul 4, 2026 12:00 PM EDT"


def test_format_days_left_words() -> None:
    assert format_days_left(21) == "21 days left"
    assert format_days_left(1) == "1 day left"
    assert format_days_left(0) == "due today"
    assert format_days_left(-1) == "1 day past"
    assert format_days_left(-3) == "3 days past"


def test_answer_window_known_and_unknown() -> None:
    issued = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    window = answer_window(issued, date(2026, 11, 24), TZ)
    assert window.known
    assert (window.issue_date, window.deadline, window.days_left) == (date(2026, 11, 24), date(2026, 12, 15), 21)
    assert window.text == "Issued Tue Nov 24, 2026; answer due Tue Dec 15, 2026 (21 days left)"
    unknown = answer_window(None, date(2026, 11, 24), TZ)
    assert not unknown.known
    assert "unknown" in unknown.text


def test_every_hour_of_a_year_maps_to_the_new_york_date() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for hour in range(0, 24 * 366, 7):
        instant = start + timedelta(hours=hour)
        assert court_date(instant, TZ) == instant.astimezone(TZ).date()


def test_as_utc_makes_differences_absolute_across_dst() -> None:
    before = datetime(2026, 10, 31, 12, 0, tzinfo=TZ)
    after = datetime(2026, 11, 2, 11, 0, tzinfo=TZ)
    assert after - before == timedelta(hours=47)  # Python's wall-clock arithmetic for one tzinfo
    assert as_utc(after) - as_utc(before) == timedelta(hours=48)
    with pytest.raises(ValueError):
        as_utc(datetime(2026, 11, 2))
