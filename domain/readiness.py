"""Whether an officer in monitoring is ready for approval, and why not (DESIGN "Ready for approval"; SOP 3, 6.6).

Ready is computed, never stored. It holds when the officer is in ``monitoring`` and all of:

1. at least ``min_accepted`` of their e-tickets were accepted into Odyssey (voided ones left out);
2. today, on the court calendar, is at least ``min_days`` days after the court date of issue of
   the first accepted e-ticket (by issue time);
3. their ``clean_streak`` most recent e-tickets by issue time, voided left out, each have no
   incident, open or resolved (a ticket rejected and later accepted keeps its incident);
4. none of their incidents is open;
5. no extension runs (an extension runs through the end of its ``until`` date).

Decisions (the design was silent):

* The officer's e-tickets are those among ``tickets_events`` of the officer's Judiciary Code whose
  latest event names the officer's number (case-insensitive); other events are ignored.
* Their incidents are those of the same Judiciary Code and officer number. Status ``voided`` does
  not count as an incident of a ticket (only a voided ticket's incidents are voided, and a voided
  ticket is left out anyway).
* A ticket with no known issue instant is ordered by its earliest event's ``occurred_at``
  (``Ticket.issue_time``); the same instant stands in for its issue date in condition 2.
* Fewer than ``clean_streak`` e-tickets (voided left out) do not make a clean streak.
* An officer who is not in monitoring (approved or withdrawn) is never ready; the first condition,
  ``state``, says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from zoneinfo import ZoneInfo

from domain.calendar import as_utc, court_date, days_since, format_date
from domain.records import Incident, IncidentStatus, Officer, OfficerState, TicketEvent
from domain.tickets import Ticket, summarize_tickets


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
    ``latest_issued`` are court dates of issue (voided e-tickets left out); ``summary`` is
    "ready for approval" or the missing texts joined by commas ("2 of 3 accepted, 4 of 7 days").
    """

    ready: bool
    conditions: tuple[Condition, ...]
    missing: tuple[str, ...]
    accepted_count: int
    first_accepted_issued: date | None
    latest_issued: date | None
    open_incidents: int
    summary: str

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


def _state_condition(officer: Officer) -> Condition:
    if officer.state is OfficerState.MONITORING:
        return Condition(ConditionKey.STATE, True, "in monitoring")
    if officer.state is OfficerState.APPROVED:
        when = "" if officer.approval_date is None else f" on {format_date(officer.approval_date)}"
        return Condition(ConditionKey.STATE, False, f"already approved{when}")
    return Condition(ConditionKey.STATE, False, "withdrawn from the Information Package")


def _officer_tickets(officer: Officer, tickets_events: Sequence[TicketEvent]) -> list[Ticket]:
    own_events = [event for event in tickets_events if event.judiciary_code == officer.judiciary_code]
    number = officer.officer_number.upper()
    return [ticket for ticket in summarize_tickets(own_events) if ticket.officer_number.upper() == number]


def _streak_condition(streak: Sequence[Ticket], incident_tickets: set[str], clean_streak: int) -> Condition:
    if clean_streak <= 0:
        return Condition(ConditionKey.CLEAN_STREAK, True, "no clean streak required")
    flagged = sum(1 for ticket in streak if ticket.key in incident_tickets)
    if flagged:
        text = (
            f"{flagged} of the last {_plural(len(streak), 'e-ticket', 'e-tickets')} "
            f"{'has an incident' if flagged == 1 else 'have incidents'}"
        )
        return Condition(ConditionKey.CLEAN_STREAK, False, text)
    if len(streak) < clean_streak:
        text = f"{len(streak)} of {clean_streak} e-tickets clean in a row"
        return Condition(ConditionKey.CLEAN_STREAK, False, text)
    return Condition(ConditionKey.CLEAN_STREAK, True, f"last {_plural(clean_streak, 'e-ticket', 'e-tickets')} clean")


def _extension_condition(officer: Officer, today: date) -> Condition:
    extension = officer.extension
    if extension is None:
        return Condition(ConditionKey.EXTENSION, True, "no extension")
    if today <= extension.until:
        return Condition(ConditionKey.EXTENSION, False, f"monitoring extended through {format_date(extension.until)}")
    return Condition(ConditionKey.EXTENSION, True, f"extension ended {format_date(extension.until)}")


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
    """Assess whether an officer in monitoring is ready for approval on the court date ``today``."""
    tickets = [ticket for ticket in _officer_tickets(officer, tickets_events) if not ticket.voided]
    tickets.sort(key=lambda ticket: (as_utc(ticket.issue_time), as_utc(ticket.first_seen), ticket.key))
    accepted = [ticket for ticket in tickets if ticket.accepted]

    own_incidents = [
        incident
        for incident in incidents
        if incident.judiciary_code == officer.judiciary_code
        and incident.officer_number.upper() == officer.officer_number.upper()
    ]
    open_count = sum(1 for incident in own_incidents if incident.is_open)
    incident_tickets = {
        incident.ticket_key for incident in own_incidents if incident.status is not IncidentStatus.VOIDED
    }

    first_accepted_issued = court_date(accepted[0].issue_time, tz) if accepted else None
    latest_issued = court_date(tickets[-1].issue_time, tz) if tickets else None

    accepted_condition = Condition(
        ConditionKey.ACCEPTED, len(accepted) >= min_accepted, _count_text(len(accepted), min_accepted, "accepted")
    )
    if first_accepted_issued is None:
        days_condition = Condition(ConditionKey.DAYS, min_days <= 0, f"0 of {min_days} days (no accepted e-ticket yet)")
    else:
        elapsed = max(0, days_since(first_accepted_issued, today))
        days_condition = Condition(ConditionKey.DAYS, elapsed >= min_days, _count_text(elapsed, min_days, "days"))
    streak = tickets[-clean_streak:] if clean_streak > 0 else []
    open_condition = Condition(
        ConditionKey.OPEN_INCIDENTS,
        open_count == 0,
        "no open incidents" if open_count == 0 else _plural(open_count, "open incident", "open incidents"),
    )

    conditions = (
        _state_condition(officer),
        accepted_condition,
        days_condition,
        _streak_condition(streak, incident_tickets, clean_streak),
        open_condition,
        _extension_condition(officer, today),
    )
    missing = tuple(condition.text for condition in conditions if not condition.met)
    ready = not missing
    return Readiness(
        ready=ready,
        conditions=conditions,
        missing=missing,
        accepted_count=len(accepted),
        first_accepted_issued=first_accepted_issued,
        latest_issued=latest_issued,
        open_incidents=open_count,
        summary="ready for approval" if ready else ", ".join(missing),
    )
