"""Ticket events in, incidents and alerts out (SOP 6.4–6.7; 4 V.S.A. §§ 1102, 1105, 1106).

``record_events`` applies one request's events in order and commits everything (events,
incidents, closed incidents, queued alerts) in ONE atomic write, so a request is all or nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cards.alerts import incident_card
from cards.common import message_card
from domain.calendar import format_instant
from domain.incidents import close_for_voided, incident_dates, incidents_for_event, mark_resolved
from domain.records import SYSTEM, Actor, EventType, Incident, IncidentKind, IncidentStatus, Officer, Stamp, TicketEvent
from services.audit import audit_op
from services.context import AppContext, new_id
from services.notices import Audience, notice_ops, update_ops
from storage.engine import Op

logger = logging.getLogger(__name__)


def incident_subject(incident_id: str) -> str:
    """The outbox subject tying together every copy of one incident's alert."""
    return f"incident:{incident_id}"


def alert_card(app: AppContext, incident: Incident) -> dict[str, Any]:
    """The current alert card of an incident."""
    officer = app.db.officers.get(incident.judiciary_code, incident.officer_number)
    package = app.db.packages.get(incident.judiciary_code)
    window = incident_dates(incident, app.today(), app.settings.timezone)
    return incident_card(incident, officer, package, window, app.settings.timezone)


def alert_audiences(app: AppContext, incident: Incident) -> list[Audience]:
    """Who hears of an incident: the agency's channel, its PoC and the JB; unknown officers go to the JB only."""
    package = app.db.packages.get(incident.judiciary_code)
    if incident.kind is IncidentKind.UNKNOWN_OFFICER or package is None:
        return [Audience.jb()]
    return [Audience.agency(incident.judiciary_code), Audience.person(package.poc.aad_id), Audience.jb()]


async def record_events(app: AppContext, events: Sequence[TicketEvent]) -> list[dict[str, Any]]:
    """Record a request's events in order; one result per event. Raises StorageUnavailable (nothing kept)."""
    db = app.db
    now = app.now()
    ops: list[Op] = []
    results: list[dict[str, Any]] = []
    batch_events: dict[str, list[TicketEvent]] = {}
    batch_incidents: dict[str, Incident] = {}
    touched_officers: set[str] = set()
    for event in events:
        if db.events.seen(event.event_id):
            results.append({"event_id": event.event_id, "status": "duplicate", "incidents": []})
            continue
        earlier = db.events.of_ticket(event.ticket_key) + batch_events.get(event.ticket_key, [])
        membership = db.officers.get(event.judiciary_code, event.officer_number)
        raised = incidents_for(app, event, earlier, membership)
        closed: list[Incident] = []
        if event.type is EventType.VOIDED:
            open_ones = {i.id: i for i in db.incidents.of_ticket(event.ticket_key) if i.is_open}
            open_ones |= {i.id: i for i in batch_incidents.values() if i.ticket_key == event.ticket_key and i.is_open}
            closed = close_for_voided(list(open_ones.values()), Stamp(actor=SYSTEM, at=now))
        batch_events.setdefault(event.ticket_key, []).append(event)
        ops.append(db.events.put(event))
        for incident in [*raised, *closed]:
            batch_incidents[incident.id] = incident
        touched_officers.add(event.officer_key)
        results.append(
            {
                "event_id": event.event_id,
                "status": "recorded",
                "incidents": [
                    {
                        "id": i.id,
                        "kind": i.kind.value,
                        "ticket_number": i.ticket_number,
                        "officer_number": i.officer_number,
                    }
                    for i in raised
                ],
            }
        )
    for incident in batch_incidents.values():
        ops.append(db.incidents.put(incident))
        card = alert_card(app, incident)
        if incident.is_open:
            ops += notice_ops(
                app,
                alert_audiences(app, incident),
                card,
                summary=f"E-ticket {incident.ticket_number}: {incident.kind.value}",
                subject=incident_subject(incident.id),
            )
        else:
            ops += update_ops(app, incident_subject(incident.id), card)
    if ops:
        await db.commit(ops)
        app.wake_outbox()
    recorded = sum(1 for result in results if result["status"] == "recorded")
    logger.info(
        "ticket events recorded=%d duplicate=%d incidents=%d", recorded, len(results) - recorded, len(batch_incidents)
    )
    for hook in app.after_events:
        await hook(touched_officers)
    return results


def incidents_for(
    app: AppContext, event: TicketEvent, earlier: list[TicketEvent], membership: Officer | None
) -> list[Incident]:
    """The incidents one event raises (the domain rule, with the app's clock and ids)."""
    return incidents_for_event(event, earlier, membership, new_id=new_id, now=app.now())


@dataclass(frozen=True)
class ResolveOutcome:
    """What pressing Mark resolved did: the card to show, and a message for the one who pressed."""

    card: dict[str, Any]
    changed: bool
    message: str | None = None
    message_kind: str = "attention"


def already_closed(app: AppContext, incident: Incident) -> str:
    """What a late press of Mark resolved is told: who closed the incident, and when."""
    if incident.closed is None:
        return "This incident is already closed."
    when = format_instant(incident.closed.at, app.settings.timezone)
    if incident.status is IncidentStatus.VOIDED:
        return f"Already closed: the ticket was voided ({when})."
    return f"Already resolved by {incident.closed.actor.name or 'someone'} on {when}. Nothing was changed."


async def resolve_incident(
    app: AppContext, actor: Actor, incident_id: str, *, is_jb_staff: bool, pressed_activity: str | None
) -> ResolveOutcome:
    """Mark an incident resolved (its agency's PoC or JB staff); updates every copy of its alert."""
    db = app.db
    incident = db.incidents.get(incident_id) if isinstance(incident_id, str) else None
    if incident is None:
        return ResolveOutcome(
            message_card("Incident not found", "This alert refers to an incident I have no record of."), False
        )
    card = alert_card(app, incident)
    package = db.packages.get(incident.judiciary_code)
    is_poc = package is not None and package.poc.aad_id == actor.aad_id
    if not (is_jb_staff or is_poc):
        return ResolveOutcome(
            card,
            False,
            "Only the agency's Point-of-Contact or JB e-ticket staff can mark this resolved. Nothing was changed.",
        )
    if not incident.is_open:
        return ResolveOutcome(card, False, already_closed(app, incident), "good")
    resolved = mark_resolved(incident, Stamp(actor=actor, at=app.now()))
    new_card = alert_card(app, resolved)
    ops: list[Op] = [
        db.incidents.put(resolved),
        audit_op(
            app,
            actor,
            "incident.resolve",
            f"officer:{incident.judiciary_code}:{incident.officer_number}",
            before={"incident": incident.id, "status": incident.status.value},
            after={"incident": incident.id, "status": resolved.status.value, "ticket": incident.ticket_number},
        ),
        *update_ops(app, incident_subject(incident.id), new_card, exclude_activity=pressed_activity),
    ]
    await db.commit(ops)
    app.wake_outbox()
    logger.info("incident=%s resolved", incident.id)
    for hook in app.after_events:
        await hook({resolved.officer_key})
    return ResolveOutcome(new_card, True)
