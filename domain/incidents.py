"""What a ticket's events raise, judged on its state (DESIGN "Incidents", "Events in the order they happened";
SOP 6.4, 6.5; 4 V.S.A. §§ 1102, 1105, 1106).

``judge`` is a pure function of a ticket's state (``domain.tickets``: its events in the order they
happened) and the officer memberships of its agency; it returns every verdict that holds, each
under a key. ``rejudge`` compares them with the incidents already raised for the ticket: a verdict
with no incident raises one; an open incident whose verdict no longer holds is closed as
``superseded`` (a late event that happened earlier changed the answer) or, on a voided ticket,
as ``voided``; incidents that still hold take the ticket's current facts (issue instant, officer,
detail). Because verdicts depend on the state alone, the same events in any arrival order leave
the same incidents open.

| kind | holds when | key (one incident per key) |
| --- | --- | --- |
| ``rejected`` | an event is ``rejected`` | the rejected event: each rejection is its own problem |
| ``late_upload`` | the first upload came more than 48 hours after the issue instant [SOP 6.4] (48 h exactly is on time) | the ticket |
| ``upload_before_issue`` | the first upload came before the issue instant: a clock or data error [SOP 6.4] | the ticket |
| ``payment_before_receipt`` | the earliest payment happened before the JB received the e-ticket (earliest ``submitted`` or ``accepted``), or it was never received [SOP 6.5] | the ticket |
| ``outside_jurisdiction`` | an event charges a violation outside the JB's jurisdiction [§ 1102(b), (c)] | the event that began it: an amendment repeating the problem is the same incident; one that fixed it and a later one reintroducing it is a new one |
| ``missing_municipal_penalties`` | an event charges a civil ordinance violation without both penalties [§ 1102(d)] | as ``outside_jurisdiction`` |
| ``unknown_officer`` | an officer number an event names is in no package of that Judiciary Code, or is withdrawn there (unless the ticket is known to have been issued before the withdrawal: cached e-tickets are uploaded late, SOP 6.4) | the officer number |
| ``event_on_voided`` | an event other than ``amended`` happened after the ticket was voided [§ 1106(d); SOP 6.5: the JB must see a payment on a voided ticket] | that event |

Decisions (the design was silent):

* On a voided ticket only ``event_on_voided`` holds: its other incidents are closed as voided (a
  voided ticket counts neither way) and none of them is raised again.
* A second ``voided`` event after the first is an event on a voided ticket too (only ``amended`` is not).
* A penalty is missing when it is absent (``None``); 0 is a stated penalty.
* An incident someone marked resolved stays resolved whatever later events say; it takes the
  ticket's current issue instant and officer. Superseded incidents whose verdict holds again are
  raised anew (a new incident, a new alert).
* Incidents follow the ticket to its current officer (an amendment moves them); ``unknown_officer``
  ones stay with the number they are about.
* Membership is read when the ticket is judged (when one of its events arrives): an officer added
  to the package since makes an ``unknown_officer`` incident of that ticket superseded at its next event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.calendar import AnswerWindow, answer_window, as_utc
from domain.records import (
    SYSTEM,
    EventType,
    Incident,
    IncidentKind,
    IncidentStatus,
    Officer,
    OfficerState,
    Stamp,
    Violation,
    ViolationCategory,
)
from domain.tickets import Step, TicketState, counts_against

UPLOAD_WINDOW = timedelta(hours=48)
"""An e-ticket must be uploaded within 48 hours of issue (SOP 6.4); exactly 48 hours is on time."""

INCIDENT_TEXT: dict[IncidentKind, str] = {
    IncidentKind.REJECTED: "Odyssey rejected the e-ticket",
    IncidentKind.LATE_UPLOAD: "Uploaded more than 48 hours after it was issued (SOP 6.4)",
    IncidentKind.UPLOAD_BEFORE_ISSUE: "Uploaded before the time it was issued: a clock or data error (SOP 6.4)",
    IncidentKind.PAYMENT_BEFORE_RECEIPT: "A payment arrived before the Judicial Bureau received the e-ticket (SOP 6.5)",
    IncidentKind.OUTSIDE_JURISDICTION: "The violation is outside the Judicial Bureau's jurisdiction (4 V.S.A. § 1102)",
    IncidentKind.MISSING_MUNICIPAL_PENALTIES: (
        "A civil ordinance violation without both the full and the waiver penalty (4 V.S.A. § 1102(d))"
    ),
    IncidentKind.UNKNOWN_OFFICER: "The officer number is not in this agency's Information Package, or was withdrawn",
    IncidentKind.EVENT_ON_VOIDED: "An event came for an e-ticket that had been voided (4 V.S.A. § 1106(d))",
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


@dataclass(frozen=True)
class Verdict:
    """One thing wrong with a ticket, as its events now say: the kind, whose it is, and the detail shown."""

    kind: IncidentKind
    officer_number: str
    detail: str


Membership = Callable[[str], Officer | None]
"""The membership of an officer number in the ticket's agency, or None."""


def _rejections(state: TicketState, ordered: Sequence[Step]) -> dict[str, Verdict]:
    """Each rejection by Odyssey is an incident, with Odyssey's reason (SOP 6.5: the JB monitors rejected e-tickets)."""
    return {
        f"{IncidentKind.REJECTED.value}:{step.event_id}": Verdict(
            IncidentKind.REJECTED, state.officer_number, (step.reason or "").strip() or "Odyssey gave no reason"
        )
        for step in ordered
        if step.type is EventType.REJECTED
    }


def _upload_timing(state: TicketState) -> dict[str, Verdict]:
    """The first upload must come within 48 hours of issue and cannot come before it (SOP 6.4)."""
    if state.first_upload is None or state.issued_at is None:
        return {}
    delay = as_utc(state.first_upload) - as_utc(state.issued_at)
    if delay > UPLOAD_WINDOW:
        detail = f"Uploaded {_format_duration(delay)} after issue; 48 h allowed (SOP 6.4)"
        return {IncidentKind.LATE_UPLOAD.value: Verdict(IncidentKind.LATE_UPLOAD, state.officer_number, detail)}
    if delay < timedelta(0):
        detail = (
            f"Uploaded {_format_duration(-delay)} before the issue time the e-ticket carries: "
            "check the device's clock or the issue time (SOP 6.4)"
        )
        kind = IncidentKind.UPLOAD_BEFORE_ISSUE
        return {kind.value: Verdict(kind, state.officer_number, detail)}
    return {}


def _payment_before_receipt(state: TicketState) -> dict[str, Verdict]:
    """A payment before the JB received the e-ticket is a mismatch the JB monitors (SOP 6.5)."""
    if state.paid_at is None:
        return {}
    if state.first_receipt is not None and as_utc(state.first_receipt) <= as_utc(state.paid_at):
        return {}
    kind = IncidentKind.PAYMENT_BEFORE_RECEIPT
    detail = "A payment was received before the Judicial Bureau received the e-ticket (SOP 6.5)"
    return {kind.value: Verdict(kind, state.officer_number, detail)}


def _violation_problems(state: TicketState, ordered: Sequence[Step]) -> dict[str, Verdict]:
    """Complaints outside the JB's jurisdiction, or civil ordinance ones lacking a penalty (4 V.S.A. § 1102(b)–(d)).

    Over the events carrying a violation, in the order they happened: a problem begins at an event
    whose violation has it while the one before did not; each beginning is one incident.
    """
    found: dict[str, Verdict] = {}
    for kind, check in (
        (IncidentKind.OUTSIDE_JURISDICTION, jurisdiction_problem),
        (IncidentKind.MISSING_MUNICIPAL_PENALTIES, penalties_problem),
    ):
        before: str | None = None
        for step in ordered:
            if step.violation is None:
                continue
            problem = check(step.violation)
            if problem is not None and before is None:
                found[f"{kind.value}:{step.event_id}"] = Verdict(kind, state.officer_number, problem)
            before = problem
    return found


def _unknown_officer_problem(
    number: str, judiciary_code: str, membership: Officer | None, issued_at: datetime | None
) -> str | None:
    """Why an officer number is not one the JB monitors in this agency (SOP 6.1, 6.2: the package names them), or None."""
    if membership is None:
        return f"Officer number {number} is in no Information Package of Judiciary Code {judiciary_code}"
    if membership.state is OfficerState.WITHDRAWN:
        withdrawn_at = None if membership.withdrawn is None else membership.withdrawn.at
        if withdrawn_at is not None and issued_at is not None and as_utc(issued_at) < as_utc(withdrawn_at):
            return None
        return f"Officer number {number} was withdrawn from the Information Package of Judiciary Code {judiciary_code}"
    return None


def _unknown_officers(state: TicketState, membership: Membership) -> dict[str, Verdict]:
    """Every officer number the ticket's events name must be a monitored membership of its agency (SOP 6.1, 6.2)."""
    found: dict[str, Verdict] = {}
    for number in state.officers_named():
        problem = _unknown_officer_problem(number, state.judiciary_code, membership(number), state.issued_at)
        if problem is not None:
            found[f"{IncidentKind.UNKNOWN_OFFICER.value}:{number}"] = Verdict(
                IncidentKind.UNKNOWN_OFFICER, number, problem
            )
    return found


_AFTER_VOID_WORDS: dict[EventType, str] = {
    EventType.SUBMITTED: "It was uploaded",
    EventType.ACCEPTED: "Odyssey accepted it",
    EventType.REJECTED: "Odyssey rejected it",
    EventType.PAYMENT_RECEIVED: "A payment was received",
    EventType.VOIDED: "It was voided again",
}


def _events_on_voided(state: TicketState, ordered: Sequence[Step]) -> dict[str, Verdict]:
    """After a complaint is voided (4 V.S.A. § 1106(d)) nothing but an amendment should happen to it (SOP 6.5)."""
    void = next((step for step in ordered if step.type is EventType.VOIDED), None)
    if void is None:
        return {}
    kind = IncidentKind.EVENT_ON_VOIDED
    found: dict[str, Verdict] = {}
    for step in ordered:
        if step.order <= void.order or step.type is EventType.AMENDED:
            continue
        words = _AFTER_VOID_WORDS[step.type]
        reason = (step.reason or "").strip()
        detail = f"{words} after the e-ticket was voided" + (f" (reason: {reason})" if reason else "")
        found[f"{kind.value}:{step.event_id}"] = Verdict(kind, state.officer_number, detail)
    return found


def judge(state: TicketState, membership: Membership) -> dict[str, Verdict]:
    """Every verdict that holds for the ticket as its events now stand, by key (see the table above)."""
    ordered = state.ordered()
    if state.voided:
        return _events_on_voided(state, ordered)
    return {
        **_rejections(state, ordered),
        **_upload_timing(state),
        **_payment_before_receipt(state),
        **_violation_problems(state, ordered),
        **_unknown_officers(state, membership),
    }


@dataclass(frozen=True)
class Judgement:
    """A ticket re-judged: its state linked to its incidents, the incidents raised, and the ones changed."""

    state: TicketState
    raised: tuple[Incident, ...]
    changed: tuple[Incident, ...]


def _with_facts(incident: Incident, state: TicketState, verdict: Verdict | None) -> Incident:
    """The incident with the ticket's current facts: issue instant, officer (and detail while it holds and is open)."""
    update: dict[str, object] = {"issued_at": state.issued_at}
    if incident.kind is not IncidentKind.UNKNOWN_OFFICER:
        update["officer_number"] = state.officer_number
    if verdict is not None and incident.is_open:
        update["detail"] = verdict.detail
    return incident.model_copy(update=update)


def rejudge(
    state: TicketState,
    verdicts: Mapping[str, Verdict],
    recorded: Mapping[str, Incident],
    *,
    event_id: str,
    now: datetime,
    new_id: Callable[[], str],
) -> Judgement:
    """Compare the verdicts with the ticket's recorded incidents (by verdict key); raise, close and bring up to date.

    ``event_id`` is the event being recorded: the one a new incident is raised by.
    """
    stamp = Stamp(actor=SYSTEM, at=now)
    linked = dict(state.incidents)
    raised: list[Incident] = []
    changed: list[Incident] = []
    final: list[Incident] = []
    for key, verdict in verdicts.items():
        incident = recorded.get(key)
        if incident is None or incident.status is IncidentStatus.SUPERSEDED:
            fresh = Incident(
                id=new_id(),
                kind=verdict.kind,
                judiciary_code=state.judiciary_code,
                officer_number=verdict.officer_number,
                ticket_number=state.ticket_number,
                event_id=event_id,
                raised_at=now,
                issued_at=state.issued_at,
                detail=verdict.detail,
            )
            linked[key] = fresh.id
            raised.append(fresh)
            final.append(fresh)
            continue
        current = _with_facts(incident, state, verdict)
        if current != incident:
            changed.append(current)
        final.append(current)
    for key, incident in recorded.items():
        if key in verdicts:
            continue
        current = _with_facts(incident, state, None)
        if current.is_open:
            voided = state.voided and current.kind is not IncidentKind.EVENT_ON_VOIDED
            status = IncidentStatus.VOIDED if voided else IncidentStatus.SUPERSEDED
            current = current.model_copy(update={"status": status, "closed": stamp})
        if current != incident:
            changed.append(current)
        final.append(current)
    flagged = any(counts_against(incident) for incident in final)
    return Judgement(state.model_copy(update={"incidents": linked, "flagged": flagged}), tuple(raised), tuple(changed))


def mark_resolved(incident: Incident, stamp: Stamp) -> Incident:
    """The incident resolved by ``stamp``; raises ValueError when it is no longer open."""
    if not incident.is_open:
        raise ValueError(f"incident {incident.id} is already {incident.status.value}")
    return incident.model_copy(update={"status": IncidentStatus.RESOLVED, "closed": stamp})


def incident_dates(incident: Incident, today: date, tz: ZoneInfo) -> AnswerWindow:
    """The incident's ticket issue date and the defendant's answer deadline with days left (§ 1105(b))."""
    return answer_window(incident.issued_at, today, tz)
