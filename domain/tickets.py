"""One e-ticket's story, summarized from its events (in the order they were recorded).

Decisions (the design was silent):

* The issue instant is the ``issued_at`` of the *latest* event that carried one (an amended
  complaint, 4 V.S.A. § 1106(d), may correct it); ``None`` when no event carried it.
* Where the issue instant is unknown, ordering "by issue time" falls back to the earliest
  ``occurred_at`` of the ticket's events (``Ticket.issue_time``); it is never shown as an issue date.
* A ticket is voided once any of its events is ``voided``; it then counts neither way.
* "Accepted" means Odyssey accepted it at least once (a ticket rejected and then accepted is
  accepted, and keeps its "rejected" incident).
* The ticket's officer number and violation are those of the latest event carrying them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.calendar import as_utc
from domain.records import EventType, TicketEvent, Violation, ticket_key


@dataclass(frozen=True)
class Ticket:
    """What the recorded events say about one e-ticket."""

    judiciary_code: str
    ticket_number: str
    officer_number: str
    issued_at: datetime | None
    first_seen: datetime
    submitted: bool
    accepted: bool
    voided: bool
    violation: Violation | None

    @property
    def key(self) -> str:
        """The ticket's storage key (Judiciary Code and upper-case ticket number)."""
        return ticket_key(self.judiciary_code, self.ticket_number)

    @property
    def issue_time(self) -> datetime:
        """The instant used to order tickets "by issue time": issued_at, else the first event's time."""
        return self.issued_at if self.issued_at is not None else self.first_seen

    @property
    def received(self) -> bool:
        """Whether the JB has received the e-ticket (it was submitted or accepted)."""
        return self.submitted or self.accepted


def known_issued_at(events: Iterable[TicketEvent]) -> datetime | None:
    """The issue instant carried by the latest of these events that carried one, else None."""
    found: datetime | None = None
    for event in events:
        if event.issued_at is not None:
            found = event.issued_at
    return found


def summarize_ticket(events: Sequence[TicketEvent]) -> Ticket:
    """Summarize one ticket from its events, in recorded order (raises ValueError when empty)."""
    if not events:
        raise ValueError("a ticket needs at least one event")
    types = {event.type for event in events}
    last = events[-1]
    violation: Violation | None = None
    for event in events:
        if event.violation is not None:
            violation = event.violation
    return Ticket(
        judiciary_code=last.judiciary_code,
        ticket_number=last.ticket_number,
        officer_number=last.officer_number,
        issued_at=known_issued_at(events),
        first_seen=min((event.occurred_at for event in events), key=as_utc),
        submitted=EventType.SUBMITTED in types,
        accepted=EventType.ACCEPTED in types,
        voided=EventType.VOIDED in types,
        violation=violation,
    )


def group_by_ticket(events: Iterable[TicketEvent]) -> dict[str, list[TicketEvent]]:
    """The events grouped by ticket key, each group in the given order, groups in first-seen order."""
    groups: dict[str, list[TicketEvent]] = {}
    for event in events:
        groups.setdefault(event.ticket_key, []).append(event)
    return groups


def summarize_tickets(events: Iterable[TicketEvent]) -> list[Ticket]:
    """One summary per ticket among these events, in first-seen order."""
    return [summarize_ticket(group) for group in group_by_ticket(events).values()]
