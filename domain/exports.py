"""Spreadsheets out (issue 17): what a download holds, as plain data, and the period of the JB's export.

A use case builds one of these views (``PackageExport`` for a PoC's Chart 1, ``ProgrammeExport`` for
the JB's workbook); ``sheets/`` turns a view into file bytes. ``Downloads`` is what a card offers:
the links, or why there are none.

Decisions (the issue left them open):

* The JB's export covers a *period* of court days, the last 90 by default. It applies to the audit
  log and to incidents (those raised in the period, plus every incident still open); packages and
  officers are always all of them, as they stand today.
* A download link is a bearer link: whoever opens it within its ten minutes gets the file (with the
  named person's rights, checked again on download). So links are offered only in a 1:1 chat, never
  on a card that other members of a channel or group chat can see.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from domain.calendar import AnswerWindow
from domain.records import AuditEntry, Incident, Officer, Package
from domain.validation import FieldErrors

DEFAULT_PERIOD_DAYS = 90
"""The JB's export holds the audit log of the last 90 court days unless the link asks for another period."""

MAX_PERIOD_DAYS = 3660
"""The longest period one export may cover (ten years and a few leap days)."""


class ExportFormat(str, Enum):
    """The file a download holds."""

    XLSX = "xlsx"
    CSV = "csv"


class ExportSubject(str, Enum):
    """What a download exports: one agency's Information Package, or every agency's records (JB)."""

    PACKAGE = "package"
    ALL = "all"


class DownloadsOff(str, Enum):
    """Why a card offers no download buttons."""

    NOT_CONFIGURED = "not_configured"  # PUBLIC_BASE_URL or EXPORTS_SECRET is unset
    NOT_PRIVATE = "not_private"  # a channel or group chat: a link would work for every member who opens it


@dataclass(frozen=True)
class DownloadLink:
    """One signed link to ``GET /api/exports/<token>``."""

    format: ExportFormat
    url: str


@dataclass(frozen=True)
class Downloads:
    """What a card offers: the links (valid ``minutes`` minutes), or ``off`` with why, and ``missing`` settings."""

    links: tuple[DownloadLink, ...] = ()
    off: DownloadsOff | None = None
    missing: tuple[str, ...] = ()
    minutes: int = 10


@dataclass(frozen=True)
class PackageExport:
    """One agency's Information Package as Chart 1 with approval dates (the PoC's digital copy)."""

    package: Package
    officers: tuple[Officer, ...]
    generated: datetime
    tz: ZoneInfo
    format: ExportFormat = ExportFormat.XLSX


@dataclass(frozen=True)
class OfficerLine:
    """One officer membership in the JB's export: the record, its agency and where it stands toward approval."""

    officer: Officer
    agency_name: str
    progress: str  # "Ready for approval: …", "2 of 3 accepted, 4 of 7 days", or "" when not in monitoring
    open_incidents: int


@dataclass(frozen=True)
class IncidentLine:
    """One incident in the JB's export with its ticket's issue date and the defendant's answer deadline."""

    incident: Incident
    window: AnswerWindow


@dataclass(frozen=True)
class AuditLine:
    """One audit entry with its action in words."""

    entry: AuditEntry
    what: str


@dataclass(frozen=True)
class Period:
    """Court days ``start`` through ``end``, both included."""

    start: date
    end: date

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The first instant of ``start`` and the first instant after ``end``, on the court's calendar."""
        first = datetime.combine(self.start, time(), tz)
        after = datetime.combine(self.end + timedelta(days=1), time(), tz)
        return first, after

    @property
    def days(self) -> int:
        """How many court days the period covers."""
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class ProgrammeExport:
    """The JB's export: every package and officer, the period's incidents (and all open ones) and audit log."""

    packages: tuple[Package, ...]
    officers: tuple[OfficerLine, ...]
    incidents: tuple[IncidentLine, ...]
    audit: tuple[AuditLine, ...]
    period: Period
    generated: datetime
    tz: ZoneInfo


def parse_period(query: Mapping[str, str], today: date) -> Period:
    """The period a JB export link asks for: ``?days=N`` (the last N court days, today included), or
    ``?from=YYYY-MM-DD`` with an optional ``&to=YYYY-MM-DD`` (default today); nothing: the last 90 days.

    Raises ``FieldErrors`` naming the parameter.
    """
    days_text, start_text, end_text = query.get("days"), query.get("from"), query.get("to")
    if days_text is not None and (start_text is not None or end_text is not None):
        raise FieldErrors({"days": "Give either days or from/to, not both."})
    if start_text is None and end_text is not None:
        raise FieldErrors({"from": "to needs a from date, like from=2026-01-01&to=2026-06-30."})
    if start_text is not None:
        start = _query_date(start_text, "from")
        end = _query_date(end_text, "to") if end_text is not None else today
        if end < start:
            raise FieldErrors({"to": "to must not be before from."})
        period = Period(start, end)
    else:
        days = DEFAULT_PERIOD_DAYS
        if days_text is not None:
            if not (days_text.isascii() and days_text.isdigit()) or not 1 <= int(days_text) <= MAX_PERIOD_DAYS:
                raise FieldErrors({"days": f"days must be a whole number from 1 to {MAX_PERIOD_DAYS}."})
            days = int(days_text)
        period = Period(today - timedelta(days=days - 1), today)
    if period.days > MAX_PERIOD_DAYS:
        raise FieldErrors({"from": f"A period may cover at most {MAX_PERIOD_DAYS} days."})
    return period


def _query_date(text: str, name: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise FieldErrors({name: f"{name} must be a date written like 2026-11-24."}) from None
