"""Read models: what a use case hands the presenter about a record, as plain data.

A view is the record with what is derived from it (readiness, the answer deadline, the package it
belongs to); cards are drawn from views, and use cases return them inside their outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from domain.calendar import AnswerWindow
from domain.readiness import Readiness
from domain.records import Actor, Incident, Officer, Package, Stamp


@dataclass(frozen=True)
class OfficerView:
    """What a readiness card shows about one officer membership."""

    officer: Officer
    package: Package | None
    readiness: Readiness
    incidents_total: int
    tz: ZoneInfo


@dataclass(frozen=True)
class ReadinessRule:
    """The readiness rule as the settings set it (SOP 6.6: no less than 3 e-tickets over one week)."""

    min_accepted: int
    min_days: int
    clean_streak: int


@dataclass(frozen=True)
class ExtensionForm:
    """Extend monitoring's form for one officer: the date it may start from is today on the court calendar."""

    officer: OfficerView
    today: date


@dataclass(frozen=True)
class FailedNotice:
    """A notice Teams refused for good, as JB staff see it in /status."""

    id: str
    summary: str
    where: str
    when: str
    error: str


@dataclass(frozen=True)
class ReasonForm:
    """A step JB staff take with a reason: "return_to_monitoring", "end_extension" or "resend"."""

    what: str
    officer: OfficerView | None = None
    notice: FailedNotice | None = None


@dataclass(frozen=True)
class OfficerForm:
    """The correction form of one officer's details (names, DPS username, expected start date)."""

    officer: Officer
    package: Package | None
    today: date


@dataclass(frozen=True)
class PocEmailForm:
    """/set-poc when Teams gave no e-mail for the new Point-of-Contact: the form asking JB staff for it (SOP 6.1).

    ``new_poc`` is the person Teams' roster named; ``email_hint`` an e-mail they typed before as a PoC, if any.
    """

    package: Package
    new_poc: Actor
    email_hint: str | None = None


@dataclass(frozen=True)
class IncidentView:
    """What an alert shows about one incident: the ticket's officer and agency, and the answer deadline."""

    incident: Incident
    officer: Officer | None
    package: Package | None
    window: AnswerWindow


@dataclass(frozen=True)
class PackageView:
    """An Information Package with every officer in it."""

    package: Package
    officers: tuple[Officer, ...]


@dataclass(frozen=True)
class OfficersAddedView:
    """Officers added to an existing package in one go, and whether the JB acknowledged them (SOP 6.3)."""

    package: Package
    added: tuple[Officer, ...]
    by: Stamp
    acknowledged: Stamp | None = None

    @property
    def numbers(self) -> tuple[str, ...]:
        """The officer numbers of the batch, as its buttons carry them."""
        return tuple(officer.officer_number for officer in self.added)


@dataclass(frozen=True)
class Row:
    """One line of a list: its section, a bold title and a detail line; ``tone`` colours the detail."""

    section: str
    title: str
    detail: str
    tone: str = "default"  # "default" | "good" | "attention" | "warning"
    button: RowButton | None = None


@dataclass(frozen=True)
class RowButton:
    """A button on one row of a list (e.g. Acknowledge on a package awaiting it): its title, verb and ids."""

    title: str
    verb: str
    data: dict[str, str]


@dataclass(frozen=True)
class ListPage:
    """One page of a list (1-based ``page``); ``query`` repeats the command's argument for the page buttons."""

    list_name: str  # "status" | "audit"
    title: str
    subtitle: str
    rows: tuple[Row, ...]
    page: int
    pages: int
    total: int
    query: str
    empty_text: str


def page_count(total: int, size: int) -> int:
    """How many pages of ``size`` hold ``total`` items (at least one, so an empty list has a page)."""
    return max(1, -(-total // size))


def paginate(
    list_name: str, title: str, subtitle: str, rows: Sequence[Row], page: int, size: int, query: str, empty_text: str
) -> ListPage:
    """Cut ``rows`` into pages of ``size`` and return page ``page`` (clamped into range)."""
    pages = page_count(len(rows), size)
    page = min(max(1, page), pages)
    start = (page - 1) * size
    return ListPage(
        list_name, title, subtitle, tuple(rows[start : start + size]), page, pages, len(rows), query, empty_text
    )


def paginate_made(
    list_name: str,
    title: str,
    subtitle: str,
    makers: Sequence[Callable[[], Row]],
    page: int,
    size: int,
    query: str,
    empty_text: str,
) -> ListPage:
    """As ``paginate``, with each row made only when it is on the page (a long list costs one page of rows)."""
    pages = page_count(len(makers), size)
    page = min(max(1, page), pages)
    start = (page - 1) * size
    rows = tuple(make() for make in makers[start : start + size])
    return ListPage(list_name, title, subtitle, rows, page, pages, len(makers), query, empty_text)


def agency_name(package: Package | None, judiciary_code: str) -> str:
    """ "Williston Police Department (9000)", or "Judiciary Code 9000" when no package is stored."""
    return f"{package.agency.agency_name} ({judiciary_code})" if package else f"Judiciary Code {judiciary_code}"
