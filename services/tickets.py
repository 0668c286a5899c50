"""Ticket events in, incidents and alerts out (SOP 6.4–6.7; 4 V.S.A. §§ 1102, 1105, 1106).

``record_events`` applies one request's events in order and commits everything (events,
incidents, closed incidents, queued alerts) in ONE atomic write, so a request is all or nothing;
then it re-checks the readiness of the officers whose tickets changed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.incidents import close_for_voided, incident_dates, incidents_for_event, mark_resolved
from domain.policy import Action, Requester, who_may
from domain.records import SYSTEM, EventType, Incident, IncidentKind, IncidentStatus, Stamp, TicketEvent
from domain.views import IncidentView
from services import approval
from services.access import allowed
from services.audit import audit_op, audit_refusal
from services.context import AppContext, new_id
from services.notices import Audience, CopiesUpdate, IncidentAlert, Notice, incident_subject
from services.outcomes import AlreadyDone, Done, Happening, NotFound, NotPossible, Outcome, Refused, Shown
from services.ports import Change
from storage.errors import StorageError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventResult:
    """What became of one event of a request: recorded or a duplicate, and the incidents it raised."""

    event_id: str
    status: str  # "recorded" | "duplicate"
    incidents: tuple[Incident, ...] = ()


def alert_view(app: AppContext, incident: Incident) -> IncidentView:
    """What an incident's alert shows now (officer, agency, answer deadline as of today)."""
    return IncidentView(
        incident=incident,
        officer=app.db.officers.get(incident.judiciary_code, incident.officer_number),
        package=app.db.packages.get(incident.judiciary_code),
        window=incident_dates(incident, app.today(), app.settings.timezone),
    )


def alert_audiences(app: AppContext, incident: Incident) -> tuple[Audience, ...]:
    """Who hears of an incident: the agency's channel, its PoC and the JB (the JB alone when no package has
    that Judiciary Code). An unknown officer's alert reaches the PoC too, who can add the officer from it."""
    package = app.db.packages.get(incident.judiciary_code)
    if package is None:
        return (Audience.jb(),)
    return (Audience.agency(incident.judiciary_code), Audience.person(package.poc.aad_id), Audience.jb())


def officer_to_add(app: AppContext, requester: Requester, incident_id: object) -> Outcome:
    """Add this officer, pressed on an unknown-officer alert: ``Shown(IncidentView)`` when the person may add
    officers to that agency and the alert still stands; ``NotFound``, ``Refused`` or ``NotPossible`` otherwise."""
    incident = app.db.incidents.get(incident_id) if isinstance(incident_id, str) else None
    if incident is None:
        return NotFound("incident")
    package = app.db.packages.get(incident.judiciary_code)
    if package is None or not allowed(app, requester, Action.ADD_OFFICER, package):
        return Refused(who_may(Action.ADD_OFFICER))
    view = alert_view(app, incident)
    if incident.kind is not IncidentKind.UNKNOWN_OFFICER:
        return NotPossible(view, "This alert is not about an officer missing from the Information Package.")
    return Shown(view)


@dataclass
class _Plan:
    """What one request's events come to, decided from the records as they stand (no await inside)."""

    results: list[EventResult] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    updates: list[CopiesUpdate] = field(default_factory=list)
    incidents: int = 0
    touched_officers: set[str] = field(default_factory=set)

    @property
    def duplicates(self) -> list[str]:
        """The event ids answered ``duplicate``."""
        return [result.event_id for result in self.results if result.status == "duplicate"]


async def record_events(app: AppContext, events: Sequence[TicketEvent]) -> list[EventResult]:
    """Record a request's events in order; one result per event. Raises StorageUnavailable (nothing kept).

    An event answered ``duplicate`` is only answered so once its first copy is durable: if another
    request recorded it a moment ago and that write is still on its way to disk, this one waits for
    it, then decides again from the records as they stand; if that write failed (and was undone),
    this request fails with the same StorageUnavailable. After the write, the readiness of every
    officer whose tickets changed is re-checked; a failure there is logged and left to the hourly
    re-check, never failing the request that was recorded.
    """
    settled: set[str] = set()
    while True:
        plan = _plan(app, events)
        unsettled = [event_id for event_id in plan.duplicates if event_id not in settled]
        if not unsettled:
            break
        await app.db.events.settled(*unsettled)  # durable now, and events are never rewritten
        settled.update(unsettled)
    if plan.changes:
        await app.commit(plan.changes, plan.notices, plan.updates)
    recorded = sum(1 for result in plan.results if result.status == "recorded")
    logger.info(
        "ticket events recorded=%d duplicate=%d incidents=%d",
        recorded,
        len(plan.results) - recorded,
        plan.incidents,
    )
    await _recheck_quietly(app, plan.touched_officers)
    return plan.results


def _plan(app: AppContext, events: Sequence[TicketEvent]) -> _Plan:
    """Apply the incident rules to each event in order against the stored records and the earlier events."""
    db = app.db
    now = app.now()
    plan = _Plan()
    batch_events: dict[str, list[TicketEvent]] = {}
    batch_incidents: dict[str, Incident] = {}
    for event in events:
        if db.events.seen(event.event_id):
            plan.results.append(EventResult(event.event_id, "duplicate"))
            continue
        earlier = db.events.of_ticket(event.ticket_key) + batch_events.get(event.ticket_key, [])
        membership = db.officers.get(event.judiciary_code, event.officer_number)
        raised = incidents_for_event(event, earlier, membership, new_id=new_id, now=now)
        closed: list[Incident] = []
        if event.type is EventType.VOIDED:
            open_ones = {i.id: i for i in db.incidents.of_ticket(event.ticket_key) if i.is_open}
            open_ones |= {i.id: i for i in batch_incidents.values() if i.ticket_key == event.ticket_key and i.is_open}
            closed = close_for_voided(list(open_ones.values()), Stamp(actor=SYSTEM, at=now))
        batch_events.setdefault(event.ticket_key, []).append(event)
        plan.changes.append(db.events.put(event))
        for incident in [*raised, *closed]:
            batch_incidents[incident.id] = incident
        plan.touched_officers.add(event.officer_key)
        plan.results.append(EventResult(event.event_id, "recorded", tuple(raised)))
    for incident in batch_incidents.values():
        plan.changes.append(db.incidents.put(incident))
        alert = IncidentAlert(alert_view(app, incident))
        if incident.is_open:
            summary = f"E-ticket {incident.ticket_number}: {incident.kind.value}"
            plan.notices.append(
                Notice(alert_audiences(app, incident), alert, summary, subject=incident_subject(incident.id))
            )
        else:
            plan.updates.append(CopiesUpdate(incident_subject(incident.id), alert))
    plan.incidents = len(batch_incidents)
    return plan


async def _recheck_quietly(app: AppContext, officer_keys: set[str]) -> None:
    """Re-check readiness of these officers; a storage failure waits for the hourly re-check."""
    if not officer_keys:
        return
    try:
        await approval.recheck(app, officer_keys)
    except StorageError as error:
        logger.warning("readiness re-check after events failed: %s (%s)", type(error).__name__, error)


async def resolve_incident(
    app: AppContext, requester: Requester, incident_id: object, *, shown: str | None = None
) -> Outcome:
    """Mark an incident resolved (its agency's PoC or JB staff); updates every copy of its alert."""
    db = app.db
    incident = db.incidents.get(incident_id) if isinstance(incident_id, str) else None
    if incident is None:
        return NotFound("incident")
    if not allowed(app, requester, Action.RESOLVE, db.packages.get(incident.judiciary_code)):
        target = f"officer:{incident.judiciary_code}:{incident.officer_number}"
        await audit_refusal(app, requester.actor, "incident.resolve.denied", target)
        return Refused(who_may(Action.RESOLVE))
    if not incident.is_open and incident.closed is not None:
        await db.incidents.settled(incident.id)  # "already resolved" only once that is on disk
        what = Happening.VOIDED if incident.status is IncidentStatus.VOIDED else Happening.RESOLVED
        return AlreadyDone(alert_view(app, db.incidents.get(incident.id) or incident), incident.closed, what)
    resolved = mark_resolved(incident, Stamp(actor=requester.actor, at=app.now()))
    view = alert_view(app, resolved)
    changes: list[Change] = [
        db.incidents.put(resolved),
        audit_op(
            app,
            requester.actor,
            "incident.resolve",
            f"officer:{incident.judiciary_code}:{incident.officer_number}",
            before={"incident": incident.id, "status": incident.status.value},
            after={"incident": incident.id, "status": resolved.status.value, "ticket": incident.ticket_number},
        ),
    ]
    await app.commit(changes, (), [CopiesUpdate(incident_subject(incident.id), IncidentAlert(view))], shown=shown)
    logger.info("incident=%s resolved", incident.id)
    await _recheck_quietly(app, {resolved.officer_key})
    return Done(view)
