"""Court business days and hours: when the bot may remind or escalate (issue 16, "The SOP's clocks keep time").

A court business day is Monday to Friday, without Vermont's legal holidays (``holidays.US(subdiv="VT")``:
New Year's Day, Martin Luther King Jr. Day, Presidents' Day, Town Meeting Day, Memorial Day,
Juneteenth, Independence Day, Bennington Battle Day, Labor Day, Veterans Day, Thanksgiving and
Christmas, each on its observed day too). Business hours are ``open_hour`` to ``close_hour`` court
time (8:00 to 17:00 by default, ``BUSINESS_HOURS_START`` / ``BUSINESS_HOURS_END``).

"Business days after" an instant is measured in business time: an instant outside business hours
counts from the next business morning, and N business days later is the same wall-clock time N
business days on (submitted Monday 10:00 → two business days → Wednesday 10:00; submitted Friday
at 18:00 → Wednesday 8:00). Such an instant is always inside business hours.

Nothing here reads the clock; instants are aware datetimes, dates are court dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from domain.calendar import as_utc


@lru_cache(maxsize=64)
def _holidays_of(year: int) -> frozenset[date]:
    return frozenset(holidays.US(subdiv="VT", years=year, observed=True).keys())


def is_legal_holiday(day: date) -> bool:
    """Whether the date is one of Vermont's legal holidays (or the day one is observed)."""
    return day in _holidays_of(day.year)


def holiday_name(day: date) -> str | None:
    """The holiday's name, for messages and tests (None on an ordinary day)."""
    names = holidays.US(subdiv="VT", years=day.year, observed=True)
    return names.get(day)


def is_business_day(day: date) -> bool:
    """Monday to Friday, and not a Vermont legal holiday."""
    return day.weekday() < 5 and not is_legal_holiday(day)


def next_business_day(day: date) -> date:
    """The first business day after ``day``."""
    day += timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def add_business_days(day: date, count: int) -> date:
    """The ``count``-th business day after ``day`` (``day`` itself when count is 0)."""
    for _ in range(count):
        day = next_business_day(day)
    return day


@dataclass(frozen=True)
class BusinessHours:
    """When the court is open for notices: business days, ``open_hour``:00 to ``close_hour``:00 court time."""

    tz: ZoneInfo
    open_hour: int = 8
    close_hour: int = 17

    def _at(self, day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=self.tz)

    def is_open(self, instant: datetime) -> bool:
        """Whether a notice may go out at this instant."""
        local = instant.astimezone(self.tz)
        return is_business_day(local.date()) and self.open_hour <= local.hour < self.close_hour

    def next_opening(self, instant: datetime) -> datetime:
        """The instant itself when open; else the next business morning at ``open_hour`` court time."""
        if self.is_open(instant):
            return instant
        local = instant.astimezone(self.tz)
        day = local.date()
        if is_business_day(day) and local.hour < self.open_hour:
            return self._at(day, self.open_hour)
        return self._at(next_business_day(day), self.open_hour)

    def business_days_after(self, instant: datetime, count: int) -> datetime:
        """``count`` business days of business time after ``instant`` (see the module's note)."""
        start = self.next_opening(instant).astimezone(self.tz)
        later = add_business_days(start.date(), count)
        return datetime.combine(later, start.time(), tzinfo=self.tz)

    def morning_of(self, day: date) -> datetime:
        """When a thing due on ``day`` may go out: ``open_hour`` that day, or the next business morning."""
        return self.next_opening(self._at(day, self.open_hour))

    def seconds_to_next_opening(self, instant: datetime) -> float:
        """How long until the next business morning (0 while open)."""
        return max(0.0, (as_utc(self.next_opening(instant)) - as_utc(instant)).total_seconds())
