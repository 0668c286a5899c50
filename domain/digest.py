"""The weekly digest as a read model: the programme (or one agency) at a glance, as plain data.

A use case (``services.digest``) fills it from the repositories; ``cards.digest`` draws it with two
charts (officers by state, incidents per week), each with a fact-set fallback. The pure parts (grouping
incidents by kind with their nearest answer deadlines, counting incidents per court week) are here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from domain.calendar import answer_deadline, court_date, days_left
from domain.records import Incident, IncidentKind, Officer

LIST_LIMIT = 12
"""At most this many officers per list on the card (Teams cards hold 28 KB); the rest are counted."""
NEAREST_PER_KIND = 3
WEEKS_CHARTED = 6


@dataclass(frozen=True)
class OfficerLine:
    """An officer in a digest list: who, which agency, and where they stand ("2 of 3 accepted, 4 of 7 days")."""

    officer: Officer
    agency: str
    detail: str


@dataclass(frozen=True)
class NearDeadline:
    """One open incident's answer deadline (4 V.S.A. § 1105(b)) and the days left to it."""

    ticket_number: str
    judiciary_code: str
    deadline: date
    days_left: int


@dataclass(frozen=True)
class IncidentGroup:
    """Open incidents of one kind: how many, and the nearest deadlines among them (issue date known)."""

    kind: IncidentKind
    count: int
    nearest: tuple[NearDeadline, ...]


@dataclass(frozen=True)
class WeekCount:
    """Incidents raised in one court week (``week`` is its Monday)."""

    week: date
    count: int


@dataclass(frozen=True)
class Listed:
    """A list cut to ``LIST_LIMIT`` lines, and how many there are in all."""

    lines: tuple[OfficerLine, ...]
    total: int

    @classmethod
    def of(cls, lines: Sequence[OfficerLine], limit: int = LIST_LIMIT) -> Listed:
        """The first ``limit`` lines and the full count."""
        return cls(tuple(lines[:limit]), len(lines))


@dataclass(frozen=True)
class DigestView:
    """Everything the digest card shows: for all agencies (``judiciary_code`` None) or one."""

    scope: str
    judiciary_code: str | None
    today: date
    approved_since: date
    by_state: tuple[tuple[str, int], ...]
    monitoring: Listed
    ready: Listed
    approved: Listed
    incidents: tuple[IncidentGroup, ...]
    per_week: tuple[WeekCount, ...]
    waiting_notices: int
    failed_notices: int

    @property
    def open_incidents(self) -> int:
        """How many incidents are open."""
        return sum(group.count for group in self.incidents)


def week_start(day: date) -> date:
    """The Monday of the court week ``day`` falls in."""
    return day - timedelta(days=day.weekday())


def charted_weeks(today: date, weeks: int = WEEKS_CHARTED) -> list[date]:
    """The Mondays of the last ``weeks`` court weeks, this one last."""
    this_week = week_start(today)
    return [this_week - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


def incidents_per_week(incidents: Sequence[Incident], today: date, tz: ZoneInfo) -> tuple[WeekCount, ...]:
    """Incidents raised in each of the last weeks (by the court date they were raised), oldest first."""
    weeks = charted_weeks(today)
    counts = Counter(week_start(court_date(incident.raised_at, tz)) for incident in incidents)
    return tuple(WeekCount(week, counts.get(week, 0)) for week in weeks)


def group_open_incidents(incidents: Sequence[Incident], today: date, tz: ZoneInfo) -> tuple[IncidentGroup, ...]:
    """Open incidents by kind (most first), each with its nearest answer deadlines."""
    by_kind: dict[IncidentKind, list[Incident]] = {}
    for incident in incidents:
        if incident.is_open:
            by_kind.setdefault(incident.kind, []).append(incident)
    groups = []
    for kind, members in by_kind.items():
        dated = [
            NearDeadline(
                incident.ticket_number,
                incident.judiciary_code,
                deadline := answer_deadline(incident.issued_at, tz),
                days_left(deadline, today),
            )
            for incident in members
            if incident.issued_at is not None
        ]
        dated.sort(key=lambda near: (near.deadline, near.ticket_number))
        groups.append(IncidentGroup(kind, len(members), tuple(dated[:NEAREST_PER_KIND])))
    groups.sort(key=lambda group: (-group.count, group.kind.value))
    return tuple(groups)
