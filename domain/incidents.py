"""What one ticket event raises (DESIGN "Incidents"; SOP 6.4, 6.5; 4 V.S.A. §§ 1102, 1105, 1106).

``incidents_for_event`` is a pure function of the incoming event, the ticket's earlier events
(already recorded, in order) and the officer's membership in that agency. Which check runs on
which event, and how repeats are avoided (decisions where the design was silent):

| kind | checked on | raised at most |
| --- | --- | --- |
| ``rejected`` | ``rejected`` | once per rejected event (each rejection is its own problem) |
| ``late_upload`` | the ticket's *first* ``submitted`` | once per ticket (a resubmission after a fix is not a late upload) |
| ``payment_before_receipt`` | ``payment_received`` | once per ticket: when no earlier ``submitted`` or ``accepted`` event exists (an ``accepted`` one proves receipt too) and no earlier payment already raised it |
| ``outside_jurisdiction`` | every type but ``voided``, when the event carries a violation | when the ticket's previous known violation (latest earlier event carrying one) was not already outside the JB's jurisdiction: an amended event repeating the problem raises nothing; an amendment that fixed it and a later one that reintroduces it raises again |
| ``missing_municipal_penalties`` | as ``outside_jurisdiction`` | as ``outside_jurisdiction``, for "civil ordinance lacking a penalty" |
| ``unknown_officer`` | the ticket's first event, and any event whose officer number differs from the earlier events' | once per officer number per ticket |

* A penalty is missing when it is absent (``None``); 0 is a stated penalty.
* A withdrawn officer's ticket raises ``unknown_officer`` unless it is known to have been issued
  before the withdrawal (cached e-tickets are uploaded late, SOP 6.4).
* A ``voided`` event raises nothing; it closes the ticket's open incidents (``close_for_voided``).
  Events that arrive after a ticket was voided raise nothing either: a voided ticket counts
  neither way (4 V.S.A. § 1106(d)).
* Issue instant: this event's ``issued_at``, else the latest earlier event's that carried one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.calendar import AnswerWindow, answer_window, as_utc
from domain.records import (
    EventType,
    Incident,
    IncidentKind,
    IncidentStatus,
    Officer,
    OfficerState,
    Stamp,
    TicketEvent,
    Violation,
    ViolationCategory,
)
from domain.tickets import known_issued_at

UPLOAD_WINDOW = timedelta(hours=48)
"""An e-ticket must be uploaded within 48 hours of issue (SOP 6.4); exactly 48 hours is on time."""

INCIDENT_TEXT: dict[IncidentKind, str] = {
    IncidentKind.REJECTED: "Odyssey rejected the e-ticket",
    IncidentKind.LATE_UPLOAD: "Uploaded more than 48 hours after it was issued (SOP 6.4)",
    IncidentKind.PAYMENT_BEFORE_RECEIPT: "A payment arrived before the Judicial Bureau received the e-ticket (SOP 6.5)",
    IncidentKind.OUTSIDE_JURISDICTION: "The violation is outside the Judicial Bureau's jurisdiction (4 V.S.A. § 1102)",
    IncidentKind.MISSING_MUNICIPAL_PENALTIES: (
        "A civil ordinance violation without both the full and the waiver penalty (4 V.S.A. § 1102(d))"
    ),
    IncidentKind.UNKNOWN_OFFICER: "The officer number is not in this agency's Information Package, or was withdrawn",
}
"""Plain words for each kind of incident, for alerts and status lists."""


_STATUTE_MAX = 100


def incident_text(kind: IncidentKind) -> str:
    """The plain-words title of an incident kind."""
    return INCIDENT_TEXT[kind]


def _format_duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _statute_suffix(violation: Violation) -> str:
    statute = (violation.statute or "").strip()
    if not statute:
        return ""
    if len(statute) > _STATUTE_MAX:
        statute = statute[: _STATUTE_MAX - 1] + "…"
    return f" (charged: {statute})"


def jurisdiction_problem(violation: Violation | None) -> str | None:
    """Why a violation is outside the Judicial Bureau's jurisdiction (4 V.S.A. § 1102), or None."""
    if violation is None:
        return None
    if violation.category is ViolationCategory.MUNICIPAL_PARKING:
        return (
            "Municipal parking violations are outside the Judicial Bureau's jurisdiction (4 V.S.A. § 1102(c))"
            + _statute_suffix(violation)
        )
    if violation.category is ViolationCategory.NOT_JB:
        return "The violation is not among the matters of the Judicial Bureau (4 V.S.A. § 1102(b))" + _statute_suffix(
            violation
        )
    return None


def penalties_problem(violation: Violation | None) -> str | None:
    """Which municipal penalties a civil ordinance complaint lacks (4 V.S.A. § 1102(d)), or None."""
    if violation is None or violation.category is not ViolationCategory.CIVIL_ORDINANCE:
        return None
    missing = [
        name
        for name, amount in (("full penalty", violation.full_penalty), ("waiver penalty", violation.waiver_penalty))
        if amount is None
    ]
    if not missing:
        return None
    return (
        "The civil ordinance complaint does not state the "
        + " or the ".join(missing)
        + "; the officer must indicate both (4 V.S.A. § 1102(d))"
        + _statute_suffix(violation)
    )


def _previous_violation(earlier: Sequence[TicketEvent]) -> Violation | None:
    for event in reversed(earlier):
        if event.violation is not None:
            return event.violation
    return None


def _unknown_officer_problem(event: TicketEvent, membership: Officer | None, issued_at: datetime | None) -> str | None:
    if membership is None:
        return (
            f"Officer number {event.officer_number} is in no Information Package of Judiciary Code"
            f" {event.judiciary_code}"
        )
    if membership.state is OfficerState.WITHDRAWN:
        withdrawn_at = None if membership.withdrawn is None else membership.withdrawn.at
        if withdrawn_at is not None and issued_at is not None and as_utc(issued_at) < as_utc(withdrawn_at):
            return None
        return (
            f"Officer number {event.officer_number} was withdrawn from the Information Package of"
            f" Judiciary Code {event.judiciary_code}"
        )
    return None


def incidents_for_event(
    event: TicketEvent,
    earlier: Sequence[TicketEvent],
    membership: Officer | None,
    *,
    new_id: Callable[[], str],
    now: datetime,
) -> list[Incident]:
    """The new incidents one incoming ticket event raises, given the ticket's earlier events and the officer's membership."""
    if event.type is EventType.VOIDED or any(old.type is EventType.VOIDED for old in earlier):
        return []
    issued_at = event.issued_at if event.issued_at is not None else known_issued_at(earlier)
    raised: list[tuple[IncidentKind, str]] = []

    if event.type is EventType.REJECTED:
        reason = (event.reason or "").strip()
        raised.append((IncidentKind.REJECTED, reason or "Odyssey gave no reason"))

    if event.type is EventType.SUBMITTED and issued_at is not None:
        first_submission = not any(old.type is EventType.SUBMITTED for old in earlier)
        delay = as_utc(event.occurred_at) - as_utc(issued_at)
        if first_submission and delay > UPLOAD_WINDOW:
            raised.append(
                (IncidentKind.LATE_UPLOAD, f"Uploaded {_format_duration(delay)} after issue; 48 h allowed (SOP 6.4)")
            )

    if event.type is EventType.PAYMENT_RECEIVED:
        received = any(old.type in (EventType.SUBMITTED, EventType.ACCEPTED) for old in earlier)
        already_paid = any(old.type is EventType.PAYMENT_RECEIVED for old in earlier)
        if not received and not already_paid:
            raised.append(
                (
                    IncidentKind.PAYMENT_BEFORE_RECEIPT,
                    "A payment was received before the Judicial Bureau received the e-ticket (SOP 6.5)",
                )
            )

    if event.violation is not None:
        previous = _previous_violation(earlier)
        for kind, check in (
            (IncidentKind.OUTSIDE_JURISDICTION, jurisdiction_problem),
            (IncidentKind.MISSING_MUNICIPAL_PENALTIES, penalties_problem),
        ):
            problem = check(event.violation)
            if problem is not None and check(previous) is None:
                raised.append((kind, problem))

    officer_numbers = {old.officer_number.upper() for old in earlier}
    if event.officer_number.upper() not in officer_numbers:
        problem = _unknown_officer_problem(event, membership, issued_at)
        if problem is not None:
            raised.append((IncidentKind.UNKNOWN_OFFICER, problem))

    return [
        Incident(
            id=new_id(),
            kind=kind,
            judiciary_code=event.judiciary_code,
            officer_number=event.officer_number,
            ticket_number=event.ticket_number,
            event_id=event.event_id,
            raised_at=now,
            issued_at=issued_at,
            detail=detail,
        )
        for kind, detail in raised
    ]


def close_for_voided(open_incidents: Sequence[Incident], stamp: Stamp) -> list[Incident]:
    """The voided ticket's open incidents, closed with status VOIDED by ``stamp`` (others are left out)."""
    return [
        incident.model_copy(update={"status": IncidentStatus.VOIDED, "closed": stamp})
        for incident in open_incidents
        if incident.is_open
    ]


def mark_resolved(incident: Incident, stamp: Stamp) -> Incident:
    """The incident resolved by ``stamp``; raises ValueError when it is no longer open."""
    if not incident.is_open:
        raise ValueError(f"incident {incident.id} is already {incident.status.value}")
    return incident.model_copy(update={"status": IncidentStatus.RESOLVED, "closed": stamp})


def incident_dates(incident: Incident, today: date, tz: ZoneInfo) -> AnswerWindow:
    """The incident's ticket issue date and the defendant's answer deadline with days left (§ 1105(b))."""
    return answer_window(incident.issued_at, today, tz)
