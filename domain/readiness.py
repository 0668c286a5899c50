"""Whether an officer in monitoring is ready for approval, and why not (DESIGN "Ready for approval"; SOP 3, 6.6).

Ready is computed, never stored. It holds when the officer is in ``monitoring`` and all of:

1. at least ``min_accepted`` of their e-tickets were accepted into Odyssey (SOP 6.6: "no less than
   3 e-tickets into their Odyssey case management system");
2. today, on the court calendar, is at least ``min_days`` days after the court date of issue of
   the first accepted e-ticket, by issue time (SOP 6.6: "over the period of one week");
3. their ``clean_streak`` most recent *accepted* e-tickets, by issue time, each have no incident,
   open or resolved (SOP 3: "consistently submits 3 to 5 e-tickets without incident"; a ticket
   rejected and later accepted keeps its incident);
4. none of their incidents is open (SOP 6.5: the JB fixes faulty e-tickets);
5. no extension runs (SOP 6.6: the JB may extend the monitoring period; an extension runs through
   the end of its ``until`` date).

An officer's e-tickets are the tickets whose state (``domain.tickets``) credits them to the
officer's membership now (the latest amendment decides), voided ones left out, issued on or after
the membership began monitoring (``Officer.added``: the package's submission, or the officer's
re-add after a withdrawal; SOP 6.2–6.4: the JB monitors from the Information Package on). One
issued before the officer's expected start date (SOP 6.1 2.d) counts, and the card flags it.

The figures readiness needs are kept per officer (``OfficerFigures``, stored) and brought up to date
with each ticket's change (``update_figures``), so assessing costs the same with 5 e-tickets or
50,000: counts, and the few newest and oldest e-tickets in order. When changes have used up a
list (more than ``KEEP_MARGIN`` of its e-tickets voided or moved away since it was built) the
figures are rebuilt from the officer's ticket states (``figures_from_states``).

Decisions (the design was silent):

* "On or after the membership began" compares instants: an e-ticket issued on the morning of the
  day the package was submitted that afternoon was not monitored and does not count.
* Before the expected start date compares court dates.
* Incidents that count against an e-ticket are its open and resolved ones, whatever officer number
  they name (an ``unknown_officer`` incident of a ticket later amended to the officer counts); voided
  and superseded ones do not. Open incidents are all of the membership's, counted e-tickets or not.
* A ticket with no known issue instant is ordered by its earliest event's ``occurred_at``
  (``TicketState.issue_time``); the same instant stands in for its issue date in condition 2.
* Fewer than ``clean_streak`` accepted e-tickets do not meet condition 3, however good they were.
* An officer who is not in monitoring (approved or withdrawn) is never ready; the first condition,
  ``state``, says why.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dt_time
from enum import Enum
from operator import attrgetter
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import PlainSerializer, PlainValidator

from domain.calendar import as_utc, court_date, days_since, format_date
from domain.records import Incident, Instant, Officer, OfficerState, Record, TicketEvent, officer_key
from domain.tickets import TicketState, TicketSummary, derive_states, with_recorded_incidents


class ConditionKey(str, Enum):
    """The conditions of readiness, in the order they are shown."""

    STATE = "state"
    ACCEPTED = "accepted"
    DAYS = "days"
    CLEAN_STREAK = "clean_streak"
    OPEN_INCIDENTS = "open_incidents"
    EXTENSION = "extension"


@dataclass(frozen=True)
class Condition:
    """One condition of readiness: whether it holds and what it says ("2 of 3 accepted")."""

    key: ConditionKey
    met: bool
    text: str


@dataclass(frozen=True)
class Readiness:
    """Whether an officer is ready for approval, with every condition explained.

    ``missing`` holds the texts of the unmet conditions; ``first_accepted_issued`` and
    ``latest_issued`` are court dates of issue of the officer's e-tickets (voided ones left out);
    ``issued_before_start`` counts those issued before the expected start date (they count, flagged);
    ``summary`` is "ready for approval" or the missing texts joined by commas ("2 of 3 accepted, 4 of 7 days").
    """

    ready: bool
    conditions: tuple[Condition, ...]
    missing: tuple[str, ...]
    accepted_count: int
    first_accepted_issued: date | None
    latest_issued: date | None
    open_incidents: int
    summary: str
    issued_before_start: int = 0

    def condition(self, key: ConditionKey) -> Condition:
        """The condition with this key."""
        for condition in self.conditions:
            if condition.key is key:
                return condition
        raise KeyError(key)


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _count_text(count: int, needed: int, noun: str) -> str:
    """ "2 of 3 accepted" while short, "5 accepted (3 needed)" past the mark."""
    if count <= needed:
        return f"{count} of {needed} {noun}"
    return f"{count} {noun} ({needed} needed)"


def _state_text(officer: Officer) -> str:
    if officer.state is OfficerState.MONITORING:
        return "in monitoring"
    if officer.state is OfficerState.APPROVED:
        when = "" if officer.approval_date is None else f" on {format_date(officer.approval_date)}"
        return f"already approved{when}"
    return "withdrawn from the Information Package"


def _streak_text(streak: Sequence[Entry], clean_streak: int) -> str:
    """Condition 3 in a clerk's words, with the rule's own number: "last 3 accepted e-tickets had no problem",
    "2 of 3 e-tickets accepted without a problem" (too few accepted yet), "1 of the last 3 accepted e-tickets
    had a problem" (a resolved problem still counts)."""
    if clean_streak <= 0:
        return "no check of the latest e-tickets"
    flagged = sum(1 for entry in streak if entry.flagged)
    if flagged:
        if len(streak) == 1:
            return "the last accepted e-ticket had a problem"
        return f"{flagged} of the last {len(streak)} accepted e-tickets had a problem"
    if len(streak) < clean_streak:
        return f"{len(streak)} of {_plural(clean_streak, 'e-ticket', 'e-tickets')} accepted without a problem"
    if clean_streak == 1:
        return "last accepted e-ticket had no problem"
    return f"last {clean_streak} accepted e-tickets had no problem"


def _extension_text(officer: Officer, today: date) -> str:
    extension = officer.extension
    if extension is None:
        return "no extension"
    if today <= extension.until:
        return f"monitoring extended through {format_date(extension.until)}"
    return f"extension ended {format_date(extension.until)}"


# ---- the figures readiness reads, kept per officer -------------------------------------------------

KEEP_MARGIN = 8
"""How many e-tickets beyond the clean streak each list of ``OfficerFigures`` keeps, so that a few
voided or moved-away e-tickets never force a rebuild."""


@dataclass(frozen=True, order=True)
class Entry:
    """One of an officer's e-tickets in the figures: when it was issued, which, and whether an incident counts against it."""

    issue_time: datetime
    ticket_key: str
    flagged: bool = False

    @property
    def rank(self) -> tuple[datetime, str]:
        """Its place "by issue time" (the ticket key breaks ties)."""
        return self.issue_time, self.ticket_key


def _entry_to_stored(entry: Entry) -> list[Any]:
    return [entry.issue_time.isoformat(), entry.ticket_key, entry.flagged]


def _entry_from_stored(value: Any) -> Entry:
    if isinstance(value, Entry):
        return value
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise ValueError("a stored entry is an array [issue time, ticket key, flagged]")
    return Entry(as_utc(datetime.fromisoformat(value[0])), str(value[1]), bool(value[2]))


StoredEntry = Annotated[Entry, PlainValidator(_entry_from_stored), PlainSerializer(_entry_to_stored, when_used="json")]


class OfficerFigures(Record):
    """What readiness needs of one membership's e-tickets, kept up to date with each ticket's change (stored).

    Built for the membership as it was (``since``: when monitoring began; ``start_date``), the court's
    time zone and ``keep``: when any of these changes the figures are rebuilt. ``recent`` holds the newest accepted
    e-tickets newest first, ``earliest`` the oldest accepted ones oldest first, ``latest`` the
    newest e-tickets whatever Odyssey said, newest first; each is the true head of its order, at
    most ``keep`` long.
    """

    judiciary_code: str
    officer_number: str
    since: Instant
    start_date: date
    timezone: str
    keep: int
    counted: int = 0
    accepted: int = 0
    before_start: int = 0
    recent: tuple[StoredEntry, ...] = ()
    earliest: tuple[StoredEntry, ...] = ()
    latest: tuple[StoredEntry, ...] = ()

    @property
    def key(self) -> str:
        """The officer membership's key."""
        return officer_key(self.judiciary_code, self.officer_number)

    def built_for(self, officer: Officer, tz: ZoneInfo, keep: int) -> bool:
        """Whether these figures count the membership as it now is (else they must be rebuilt)."""
        return (
            self.key == officer.key
            and self.since == officer.added.at
            and self.start_date == officer.start_date
            and self.timezone == tz.key
            and self.keep == keep
        )


@dataclass(frozen=True)
class Counted:
    """How one ticket counts for one officer: its entry, whether accepted, whether issued before the start date."""

    entry: Entry
    accepted: bool
    before_start: bool


def keep_for(clean_streak: int) -> int:
    """How long the figures' lists are for this clean streak."""
    return max(clean_streak, 1) + KEEP_MARGIN


def _start_instant(officer: Officer, tz: ZoneInfo) -> datetime:
    """The first instant of the officer's expected start date on the court calendar."""
    return datetime.combine(officer.start_date, dt_time(0), tz)


def counted_for(officer: Officer, state: TicketState | TicketSummary | None, tz: ZoneInfo) -> Counted | None:
    """How a ticket counts for this membership, or None when it does not (another officer's, voided, issued before monitoring).

    Monitoring begins with the Information Package (SOP 6.2–6.4: the JB monitors the e-tickets of the
    officers the package names), so a ticket issued before ``Officer.added`` does not count; a voided
    one counts neither way (4 V.S.A. § 1106(d)); one issued before the expected start date (SOP 6.1
    item 2.d), on the court calendar, counts, flagged.
    """
    if state is None or state.voided or state.officer_key != officer.key:
        return None
    issue_time = as_utc(state.issue_time)
    if issue_time < officer.added.at:
        return None
    return Counted(
        Entry(issue_time, state.key, state.flagged), state.accepted, issue_time < _start_instant(officer, tz)
    )


def figures_from_states(
    officer: Officer, states: Iterable[TicketState | TicketSummary], tz: ZoneInfo, *, keep: int
) -> OfficerFigures:
    """The figures of one membership from scratch, from ticket states or their summaries (any order; others' ignored).

    One pass, and only the heads of the orders are sorted: a rebuild costs little more than reading the tickets.
    """
    since, start, key = officer.added.at, _start_instant(officer, tz), officer.key
    counted = accepted_count = before_start = 0
    every: list[Entry] = []
    accepted: list[Entry] = []
    for state in states:
        if state.voided or state.officer_key != key:
            continue
        issue_time = as_utc(state.issue_time)
        if issue_time < since:
            continue
        entry = Entry(issue_time, state.key, state.flagged)
        counted += 1
        before_start += issue_time < start
        every.append(entry)
        if state.accepted:
            accepted_count += 1
            accepted.append(entry)
    rank = attrgetter("issue_time", "ticket_key")
    return OfficerFigures(
        judiciary_code=officer.judiciary_code,
        officer_number=officer.officer_number,
        since=officer.added.at,
        start_date=officer.start_date,
        timezone=tz.key,
        keep=keep,
        counted=counted,
        accepted=accepted_count,
        before_start=before_start,
        recent=tuple(heapq.nlargest(keep, accepted, key=rank)),
        earliest=tuple(heapq.nsmallest(keep, accepted, key=rank)),
        latest=tuple(heapq.nlargest(keep, every, key=rank)),
    )


def _without(head: tuple[Entry, ...], ticket: str) -> tuple[Entry, ...]:
    return tuple(entry for entry in head if entry.ticket_key != ticket)


def _with(head: tuple[Entry, ...], entry: Entry, total: int, keep: int, *, newest_first: bool) -> tuple[Entry, ...]:
    """``head`` (the true head of a set of ``total`` entries) with ``entry`` added to the set.

    The entry joins when ``head`` holds the whole set, or when it ranks before the head's last
    entry; otherwise it lies beyond the head, among entries the head does not hold, and the head
    stays true without it.
    """
    if len(head) < total and head:
        last = head[-1].rank
        if (entry.rank <= last) if newest_first else (entry.rank >= last):
            return head
    elif len(head) < total:
        return head
    joined = sorted((*head, entry), key=lambda item: item.rank, reverse=newest_first)
    return tuple(joined[:keep])


def update_figures(
    figures: OfficerFigures, before: Counted | None, after: Counted | None, *, clean_streak: int
) -> OfficerFigures | None:
    """The figures once one ticket went from counting as ``before`` to ``after`` (None: did not / does not count).

    Returns None when a list no longer holds what readiness needs: rebuild with ``figures_from_states``.
    """
    if before == after:
        return figures
    counted, accepted, before_start = figures.counted, figures.accepted, figures.before_start
    recent, earliest, latest = figures.recent, figures.earliest, figures.latest
    keep = figures.keep
    if before is not None:
        ticket = before.entry.ticket_key
        counted -= 1
        before_start -= before.before_start
        latest = _without(latest, ticket)
        if before.accepted:
            accepted -= 1
            recent, earliest = _without(recent, ticket), _without(earliest, ticket)
    if after is not None:
        latest = _with(latest, after.entry, counted, keep, newest_first=True)
        counted += 1
        before_start += after.before_start
        if after.accepted:
            recent = _with(recent, after.entry, accepted, keep, newest_first=True)
            earliest = _with(earliest, after.entry, accepted, keep, newest_first=False)
            accepted += 1
    if len(recent) < min(clean_streak, accepted) or len(earliest) < min(1, accepted) or len(latest) < min(1, counted):
        return None
    return figures.model_copy(
        update={
            "counted": counted,
            "accepted": accepted,
            "before_start": before_start,
            "recent": recent,
            "earliest": earliest,
            "latest": latest,
        }
    )


def _first_accepted_issued(figures: OfficerFigures, tz: ZoneInfo) -> date | None:
    return court_date(figures.earliest[0].issue_time, tz) if figures.earliest else None


def _met(
    officer: Officer,
    figures: OfficerFigures,
    open_incidents: int,
    today: date,
    tz: ZoneInfo,
    min_accepted: int,
    min_days: int,
    clean_streak: int,
) -> tuple[bool, bool, bool, bool, bool, bool]:
    """Which conditions of readiness hold, in ``ConditionKey`` order (the rule itself; ``readiness_from_figures`` words it).

    State: only an officer in monitoring can be approved (SOP 6.6). Accepted: at least
    ``min_accepted`` transmitted into Odyssey (SOP 6.6). Days: over at least ``min_days`` from the
    first accepted one's issue date (SOP 6.6, "over the period of one week"). Clean streak: the
    ``clean_streak`` most recent accepted e-tickets without incident (SOP 3, "3 to 5 e-tickets
    without incident"). Open incidents: none unresolved (SOP 6.5). Extension: none running (SOP 6.6).
    """
    first = _first_accepted_issued(figures, tz)
    streak = figures.recent[:clean_streak] if clean_streak > 0 else ()
    extension = officer.extension
    return (
        officer.state is OfficerState.MONITORING,
        figures.accepted >= min_accepted,
        min_days <= 0 if first is None else max(0, days_since(first, today)) >= min_days,
        clean_streak <= 0 or (len(streak) >= clean_streak and not any(entry.flagged for entry in streak)),
        open_incidents == 0,
        extension is None or today > extension.until,
    )


def ready_from_figures(
    officer: Officer,
    figures: OfficerFigures,
    open_incidents: int,
    today: date,
    tz: ZoneInfo,
    *,
    min_accepted: int = 3,
    min_days: int = 7,
    clean_streak: int = 3,
) -> bool:
    """Whether the officer is ready for approval on ``today``: ``readiness_from_figures(...).ready``, without the words."""
    return all(_met(officer, figures, open_incidents, today, tz, min_accepted, min_days, clean_streak))


def readiness_from_figures(
    officer: Officer,
    figures: OfficerFigures,
    open_incidents: int,
    today: date,
    tz: ZoneInfo,
    *,
    min_accepted: int = 3,
    min_days: int = 7,
    clean_streak: int = 3,
) -> Readiness:
    """Assess whether an officer in monitoring is ready for approval on the court date ``today``, from their figures."""
    met = dict(
        zip(
            ConditionKey,
            _met(officer, figures, open_incidents, today, tz, min_accepted, min_days, clean_streak),
            strict=True,
        )
    )
    first_accepted_issued = _first_accepted_issued(figures, tz)
    latest_issued = court_date(figures.latest[0].issue_time, tz) if figures.latest else None
    if first_accepted_issued is None:
        days_text = f"0 of {min_days} days (no accepted e-ticket yet)"
    else:
        days_text = _count_text(max(0, days_since(first_accepted_issued, today)), min_days, "days")
    open_text = (
        "no open incidents" if open_incidents == 0 else _plural(open_incidents, "open incident", "open incidents")
    )
    conditions = (
        Condition(ConditionKey.STATE, met[ConditionKey.STATE], _state_text(officer)),
        Condition(
            ConditionKey.ACCEPTED, met[ConditionKey.ACCEPTED], _count_text(figures.accepted, min_accepted, "accepted")
        ),
        Condition(ConditionKey.DAYS, met[ConditionKey.DAYS], days_text),
        Condition(
            ConditionKey.CLEAN_STREAK,
            met[ConditionKey.CLEAN_STREAK],
            _streak_text(figures.recent[:clean_streak] if clean_streak > 0 else (), clean_streak),
        ),
        Condition(ConditionKey.OPEN_INCIDENTS, met[ConditionKey.OPEN_INCIDENTS], open_text),
        Condition(ConditionKey.EXTENSION, met[ConditionKey.EXTENSION], _extension_text(officer, today)),
    )
    missing = tuple(condition.text for condition in conditions if not condition.met)
    ready = not missing
    return Readiness(
        ready=ready,
        conditions=conditions,
        missing=missing,
        accepted_count=figures.accepted,
        first_accepted_issued=first_accepted_issued,
        latest_issued=latest_issued,
        open_incidents=open_incidents,
        summary="ready for approval" if ready else ", ".join(missing),
        issued_before_start=figures.before_start,
    )


def assess_readiness(
    officer: Officer,
    tickets_events: Sequence[TicketEvent],
    incidents: Sequence[Incident],
    today: date,
    tz: ZoneInfo,
    *,
    min_accepted: int = 3,
    min_days: int = 7,
    clean_streak: int = 3,
) -> Readiness:
    """Readiness from scratch: ticket states derived from these events, linked to these incidents.

    The running bot keeps ``OfficerFigures`` instead; this is the same rule over a whole history
    (for tests, and to check the kept figures against).
    """
    by_ticket: dict[str, list[Incident]] = {}
    for incident in incidents:
        by_ticket.setdefault(incident.ticket_key, []).append(incident)
    states = [
        with_recorded_incidents(state, by_ticket.get(key, ())) for key, state in derive_states(tickets_events).items()
    ]
    figures = figures_from_states(officer, states, tz, keep=keep_for(clean_streak))
    open_count = sum(1 for incident in incidents if incident.is_open and incident.officer_key == officer.key)
    return readiness_from_figures(
        officer,
        figures,
        open_count,
        today,
        tz,
        min_accepted=min_accepted,
        min_days=min_days,
        clean_streak=clean_streak,
    )
