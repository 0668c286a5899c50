"""The court's calendar: dates in the Judicial Bureau's time zone, the answer deadline, display formats.

Durations (the 48-hour rule) are measured between absolute instants; every *date* rule (the
21-day answer deadline of 4 V.S.A. § 1105(b), "7 days", approval and extension dates) uses the
court's calendar, the configured ``TIMEZONE`` (America/New_York), never the server's zone.
Nothing here reads the clock: ``now`` and ``today`` are always parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

ANSWER_DAYS = 21
"""Days a defendant has to answer, counted from the date the complaint is issued (4 V.S.A. § 1105(b))."""

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instants must carry a time zone (an aware datetime)")


def as_utc(instant: datetime) -> datetime:
    """The same instant in UTC; use it before subtracting or ordering instants.

    Python subtracts and compares two datetimes that share one ``tzinfo`` object by wall clock,
    which is wrong across a daylight-saving change; in UTC it is always absolute time.
    """
    _require_aware(instant)
    return instant.astimezone(UTC)


def court_date(instant: datetime, tz: ZoneInfo) -> date:
    """The date on the court's calendar at which an aware instant falls."""
    _require_aware(instant)
    return instant.astimezone(tz).date()


def answer_deadline(issued_at: datetime, tz: ZoneInfo) -> date:
    """The defendant's answer deadline: the court date of issue plus 21 days (4 V.S.A. § 1105(b))."""
    return court_date(issued_at, tz) + timedelta(days=ANSWER_DAYS)


def days_left(deadline: date, today: date) -> int:
    """Whole court days from ``today`` to ``deadline``: 0 on the day itself, negative once past."""
    return (deadline - today).days


def days_since(start: date, today: date) -> int:
    """Whole court days from ``start`` to ``today`` (negative when ``start`` is in the future)."""
    return (today - start).days


def format_date(value: date) -> str:
    """A court date as people read it, e.g. "Tue Nov 24, 2026" (independent of the server's locale)."""
    return f"{_WEEKDAYS[value.weekday()]} {_MONTHS[value.month - 1]} {value.day}, {value.year}"


def format_instant(instant: datetime, tz: ZoneInfo) -> str:
    """An instant in the court's zone as people read it, e.g. "Nov 24, 2026 3:05 PM EST"."""
    _require_aware(instant)
    local = instant.astimezone(tz)
    hour12 = local.hour % 12 or 12
    half = "AM" if local.hour < 12 else "PM"
    zone = local.tzname() or ""
    text = f"{_MONTHS[local.month - 1]} {local.day}, {local.year} {hour12}:{local.minute:02d} {half}"
    return f"{text} {zone}".rstrip()


def format_days_left(count: int) -> str:
    """Days left to a deadline in words: "21 days left", "1 day left", "due today", "3 days past"."""
    if count == 0:
        return "due today"
    if count > 0:
        return f"{count} day left" if count == 1 else f"{count} days left"
    past = -count
    return f"{past} day past" if past == 1 else f"{past} days past"


@dataclass(frozen=True)
class AnswerWindow:
    """A ticket's issue date and the defendant's answer deadline, as shown on incident alerts."""

    issue_date: date | None
    deadline: date | None
    days_left: int | None

    @property
    def known(self) -> bool:
        """Whether the issue date is known."""
        return self.issue_date is not None

    @property
    def text(self) -> str:
        """One line for an alert, e.g. "Issued Tue Nov 24, 2026; answer due Tue Dec 15, 2026 (21 days left)"."""
        if self.issue_date is None or self.deadline is None or self.days_left is None:
            return "Issue date unknown, so the answer deadline is unknown"
        return (
            f"Issued {format_date(self.issue_date)}; answer due {format_date(self.deadline)}"
            f" ({format_days_left(self.days_left)})"
        )

    @property
    def dates_text(self) -> str:
        """The same line without the countdown, for an alert that is closed."""
        if self.issue_date is None or self.deadline is None:
            return "Issue date unknown, so the answer deadline is unknown"
        return f"Issued {format_date(self.issue_date)}; answer due {format_date(self.deadline)}"


def answer_window(issued_at: datetime | None, today: date, tz: ZoneInfo) -> AnswerWindow:
    """The issue date, answer deadline and days left for a ticket whose issue instant may be unknown."""
    if issued_at is None:
        return AnswerWindow(issue_date=None, deadline=None, days_left=None)
    deadline = answer_deadline(issued_at, tz)
    return AnswerWindow(issue_date=court_date(issued_at, tz), deadline=deadline, days_left=days_left(deadline, today))
