"""The SOP's clocks as pure rules: when each reminder and escalation falls due, and what makes it one occurrence.

Each rule returns a ``Due``: a key naming one occurrence (sent at most once, remembered durably by the
caller), and the instant from which it may go out. Every such instant is inside business hours
(``domain.court_days.BusinessHours``): what falls due at night, on a weekend or on a holiday waits for
the next business morning. Nothing here reads the clock or the store.

Readings of the SOP and of issue 16 (the design was silent):

* **Acknowledgment [6.3].** A package is unacknowledged until JB staff press Acknowledge. Officers
  added to a package after it was acknowledged are unacknowledged until the JB acknowledges them
  (Acknowledge on their card, which the reminder is a copy of); those added before the package's
  acknowledgment are covered by it, and while the package itself is unacknowledged its own reminder
  covers them. One batch of officers added at one time is one occurrence.
* **Ready but not approved [6.6].** The clock starts when the officer became ready (the readiness
  memory's instant); becoming ready again later is a new occurrence.
* **An extension ending.** Due at the business morning of the day ``days_before`` before the
  extension's last day (1: "ends tomorrow"); when that day is not a business day it waits for the
  next business morning, which may be the last day itself. An extension granted after that
  moment (granted today, ending tomorrow) reminds nobody: the JB just decided it.
* **No e-ticket [6.4].** Due ``days`` calendar days after the expected start date, at that day's
  business morning, when no event of the officer's membership occurred since it began monitoring.
* **Answer deadline (4 V.S.A. § 1105(b)).** "N court days remain" reads like the alert's own
  countdown: N days left on the court's calendar (``domain.calendar.days_left``). Each step is due
  at the business morning of the deadline minus N days; "passed" at the morning after the
  deadline. A step whose day had come by the day the incident was raised is not a step of it: the
  alert itself showed those days left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from domain.calendar import answer_deadline, as_utc, court_date
from domain.court_days import BusinessHours
from domain.records import Incident, Officer, OfficerState, Package


class ClockKind(str, Enum):
    """The SOP's clocks, and the other things the bot does once on time."""

    PACKAGE_UNACKNOWLEDGED = "package_unacknowledged"
    OFFICERS_UNACKNOWLEDGED = "officers_unacknowledged"
    READY_UNAPPROVED = "ready_unapproved"
    EXTENSION_ENDING = "extension_ending"
    NO_ETICKET = "no_eticket"
    ANSWER_DEADLINE = "answer_deadline"
    DIGEST = "digest"
    ALERTS_REFRESHED = "alerts_refreshed"


PASSED = 0
"""The last step of the answer deadline: it has passed (days left below zero)."""


@dataclass(frozen=True)
class Due:
    """One occurrence of a clock: its key (sent once), its kind, and when it may go out."""

    key: str
    kind: ClockKind
    due_at: datetime

    def is_due(self, now: datetime) -> bool:
        """Whether the occurrence's time has come."""
        return as_utc(now) >= as_utc(self.due_at)


def _stamp(instant: datetime) -> str:
    return as_utc(instant).isoformat()


def package_unacknowledged(package: Package, hours: BusinessHours, business_days: int) -> Due | None:
    """The reminder of a package nobody acknowledged, ``business_days`` after it was submitted."""
    if package.acknowledged is not None:
        return None
    return Due(
        f"{ClockKind.PACKAGE_UNACKNOWLEDGED.value}:{package.judiciary_code}",
        ClockKind.PACKAGE_UNACKNOWLEDGED,
        hours.business_days_after(package.submitted.at, business_days),
    )


def officers_added_since_acknowledged(package: Package, officers: list[Officer]) -> list[Officer]:
    """Officers in monitoring added after the package was acknowledged and not acknowledged themselves (none
    while the package is unacknowledged: its own reminder covers them)."""
    if package.acknowledged is None:
        return []
    return [o for o in officers if o.state is OfficerState.MONITORING and not o.acknowledged_with(package)]


def unacknowledged_batches(package: Package, officers: list[Officer]) -> list[tuple[Officer, ...]]:
    """The officers added after the acknowledgment and not acknowledged yet, one batch per /add-officer, oldest first."""
    batches: dict[str, list[Officer]] = {}
    for officer in officers_added_since_acknowledged(package, officers):
        batches.setdefault(_stamp(officer.added.at), []).append(officer)
    return [tuple(batch) for _, batch in sorted(batches.items())]


def officers_unacknowledged(
    package: Package, officers: list[Officer], hours: BusinessHours, business_days: int
) -> list[tuple[Due, tuple[Officer, ...]]]:
    """One reminder per batch of officers added after the acknowledgment, ``business_days`` after the batch."""
    found = []
    for batch in unacknowledged_batches(package, officers):
        key = f"{ClockKind.OFFICERS_UNACKNOWLEDGED.value}:{package.judiciary_code}:{_stamp(batch[0].added.at)}"
        due_at = hours.business_days_after(batch[0].added.at, business_days)
        found.append((Due(key, ClockKind.OFFICERS_UNACKNOWLEDGED, due_at), tuple(batch)))
    return found


def ready_unapproved(officer: Officer, ready_since: datetime, hours: BusinessHours, business_days: int) -> Due:
    """The reminder of an officer ready for approval since ``ready_since`` and still not approved."""
    return Due(
        f"{ClockKind.READY_UNAPPROVED.value}:{officer.key}:{_stamp(ready_since)}",
        ClockKind.READY_UNAPPROVED,
        hours.business_days_after(ready_since, business_days),
    )


def extension_ending(officer: Officer, today: date, hours: BusinessHours, days_before: int) -> Due | None:
    """The reminder that an officer's extended monitoring ends soon (None: no extension running, or none to give)."""
    extension = officer.extension
    if officer.state is not OfficerState.MONITORING or extension is None or today > extension.until:
        return None
    due_at = hours.morning_of(extension.until - timedelta(days=days_before))
    if as_utc(due_at) < as_utc(extension.granted.at):
        return None
    key = (
        f"{ClockKind.EXTENSION_ENDING.value}:{officer.key}:{extension.until.isoformat()}:{_stamp(extension.granted.at)}"
    )
    return Due(key, ClockKind.EXTENSION_ENDING, due_at)


def no_eticket(officer: Officer, had_eticket: bool, hours: BusinessHours, days: int) -> Due | None:
    """The PoC's reminder of an officer with no e-ticket ``days`` after their expected start date."""
    if officer.state is not OfficerState.MONITORING or had_eticket:
        return None
    key = f"{ClockKind.NO_ETICKET.value}:{officer.key}:{officer.start_date.isoformat()}:{_stamp(officer.added.at)}"
    return Due(key, ClockKind.NO_ETICKET, hours.morning_of(officer.start_date + timedelta(days=days)))


@dataclass(frozen=True)
class DeadlineStep:
    """One step of an incident's answer deadline: ``days_left`` remain (``PASSED``: the deadline has passed)."""

    due: Due
    days_left: int
    deadline: date


def deadline_steps(
    incident: Incident, tz: ZoneInfo, hours: BusinessHours, steps_days_left: tuple[int, ...]
) -> list[DeadlineStep]:
    """The escalation steps of an open incident, earliest first (none when the issue date is unknown)."""
    if not incident.is_open or incident.issued_at is None:
        return []
    deadline = answer_deadline(incident.issued_at, tz)
    raised_on = court_date(incident.raised_at, tz)
    found = []
    for days in [*sorted(steps_days_left, reverse=True), PASSED]:
        day = deadline + timedelta(days=1) if days == PASSED else deadline - timedelta(days=days)
        if day <= raised_on:
            continue
        label = "passed" if days == PASSED else str(days)
        key = f"{ClockKind.ANSWER_DEADLINE.value}:{incident.id}:{label}"
        found.append(DeadlineStep(Due(key, ClockKind.ANSWER_DEADLINE, hours.morning_of(day)), days, deadline))
    return found


def week_of(day: date) -> date:
    """The Monday of the court week ``day`` is in."""
    return day - timedelta(days=day.weekday())


def digest_due(today: date, hours: BusinessHours, audience_key: str) -> Due:
    """This week's digest to one audience: Monday at the opening hour, or the next business morning."""
    monday = week_of(today)
    return Due(
        f"{ClockKind.DIGEST.value}:{monday.isoformat()}:{audience_key}", ClockKind.DIGEST, hours.morning_of(monday)
    )
