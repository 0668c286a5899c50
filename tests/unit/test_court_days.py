"""Court business days and hours (domain/court_days.py): Vermont's legal holidays, 8:00 to 17:00 court time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from domain.court_days import (
    BusinessHours,
    add_business_days,
    holiday_name,
    is_business_day,
    is_legal_holiday,
    next_business_day,
)

TZ = ZoneInfo("America/New_York")
HOURS = BusinessHours(TZ)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def test_vermonts_own_holidays_are_not_business_days() -> None:
    assert holiday_name(date(2026, 3, 3)) == "Town Meeting Day"
    assert holiday_name(date(2026, 8, 17)) == "Bennington Battle Day (observed)"
    assert holiday_name(date(2026, 11, 26)) == "Thanksgiving Day"
    for day in (date(2026, 3, 3), date(2026, 8, 17), date(2026, 11, 26), date(2026, 12, 25), date(2026, 7, 3)):
        assert is_legal_holiday(day) and not is_business_day(day), day
    assert not is_legal_holiday(date(2026, 10, 12))  # Columbus Day is not one of Vermont's
    assert is_business_day(date(2026, 11, 27))  # the day after Thanksgiving is a court day


def test_weekends_are_not_business_days_and_counting_skips_them() -> None:
    assert not is_business_day(date(2026, 11, 21)) and not is_business_day(date(2026, 11, 22))
    assert next_business_day(date(2026, 11, 20)) == date(2026, 11, 23)  # Friday → Monday
    assert next_business_day(date(2026, 11, 25)) == date(2026, 11, 27)  # over Thanksgiving
    assert add_business_days(date(2026, 11, 24), 2) == date(2026, 11, 27)
    assert add_business_days(date(2026, 11, 24), 0) == date(2026, 11, 24)


def test_open_from_eight_to_five_court_time_on_business_days() -> None:
    monday = date(2026, 11, 23)
    assert not HOURS.is_open(at(monday, 7, 59))
    assert HOURS.is_open(at(monday, 8, 0))
    assert HOURS.is_open(at(monday, 16, 59))
    assert not HOURS.is_open(at(monday, 17, 0))
    assert not HOURS.is_open(at(monday, 22, 0))
    assert not HOURS.is_open(at(date(2026, 11, 21), 10))  # Saturday
    assert not HOURS.is_open(at(date(2026, 11, 26), 10))  # Thanksgiving
    # in UTC: 13:30Z on Nov 23 is 8:30 EST; the server's zone plays no part
    assert HOURS.is_open(datetime(2026, 11, 23, 13, 30, tzinfo=UTC))


def test_what_falls_due_outside_hours_waits_for_the_next_business_morning() -> None:
    assert HOURS.next_opening(at(date(2026, 11, 23), 6)) == at(date(2026, 11, 23), 8)
    assert HOURS.next_opening(at(date(2026, 11, 23), 22)) == at(date(2026, 11, 24), 8)
    assert HOURS.next_opening(at(date(2026, 11, 20), 17)) == at(date(2026, 11, 23), 8)  # Friday 17:00 → Monday
    assert HOURS.next_opening(at(date(2026, 11, 25), 18)) == at(date(2026, 11, 27), 8)  # over Thanksgiving
    inside = at(date(2026, 11, 24), 11, 15)
    assert HOURS.next_opening(inside) == inside
    assert HOURS.morning_of(date(2026, 11, 22)) == at(date(2026, 11, 23), 8)  # due on a Sunday
    assert HOURS.seconds_to_next_opening(at(date(2026, 11, 23), 7)) == 3600.0


def test_business_days_after_keep_the_hour_and_start_counting_at_the_next_opening() -> None:
    assert HOURS.business_days_after(at(date(2026, 11, 23), 10), 2) == at(date(2026, 11, 25), 10)
    assert HOURS.business_days_after(at(date(2026, 11, 20), 18), 2) == at(date(2026, 11, 25), 8)
    assert HOURS.business_days_after(at(date(2026, 11, 21), 12), 2) == at(date(2026, 11, 25), 8)
    assert HOURS.business_days_after(at(date(2026, 11, 25), 16), 2) == at(date(2026, 11, 30), 16)  # Thanksgiving
    # across the end of daylight saving time the wall-clock hour is kept
    assert HOURS.business_days_after(at(date(2026, 10, 30), 9), 1) == at(date(2026, 11, 2), 9)
