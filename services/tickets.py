"""Ticket events in, incidents and alerts out (SOP 6.4–6.7; 4 V.S.A. §§ 1102, 1105, 1106).

``record_events`` applies one request's events in order, each to its ticket's stored state
(``domain.tickets``: events in the order they happened), re-judges that ticket
(``domain.incidents``), brings the figures of the officers it counts for up to date
(``domain.readiness``), and commits everything (events, states, incidents raised, closed or
brought up to date, figures, queued alerts and updates of every copy of an alert) in ONE atomic
write, so a request is all or nothing; then it re-checks the readiness of the officers touched.
Nothing reads an officer's history: an event costs what its own ticket costs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

from domain.incidents import incident_dates, judge, mark_resolved, rejudge
from domain.policy import Action, Requester, who_may
from domain.readiness import OfficerFigures, counted_for, update_figures
from domain.records import Incident, IncidentKind, IncidentStatus, Officer, Stamp, TicketEvent
from domain.tickets import TicketState, TicketSummary, apply_event, derive_state, with_recorded_incidents
from domain.views import IncidentView
from services import approval
from services.access import allowed
from services.audit import audit_op, audit_refusal
from services.context import AppContext, new_id
from services.notices import Audience, CopiesUpdate, IncidentAlert, Notice, incident_subject
from services.outcomes import (
    AlreadyDone,
    Done,
    EventConflict,
    EventResult,
    EventsRecorded,
    Happening,
    NotFound,
    NotPossible,
    Outcome,
    Refused,
    Shown,
)
from services.ports import ArchivedTicket, Change
from storage.errors import StorageError

logger = logging.getLogger(__name__)

__all__ = ["EventConflict", "EventResult", "EventsRecorded", "backfill_states", "record_events", "resolve_incident"]

BACKFILL_SLICE = 500
"""Tickets given their state per write when states are derived for tickets recorded before them."""


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


def _conflict(
    app: AppContext, events: Sequence[TicketEvent], archived: Mapping[str, TicketEvent]
) -> EventConflict | None:
    """The first event reusing a recorded event_id with another payload, or None (the idempotency key must not lose data)."""
    for index, event in enumerate(events):
        stored = app.db.events.get(event.event_id) or archived.get(event.event_id)
        if stored is not None and not stored.same_payload(event):
            return EventConflict(index, event.event_id)
    return None


class _Recording:
    """One request's events applied in order over the stored states: every change, before any is committed."""

    def __init__(self, app: AppContext, archived: Mapping[str, ArchivedTicket]) -> None:
        self.app = app
        self.db = app.db
        self.archived = archived
        self.now = app.now()
        self.tz = app.settings.timezone
        self.streak = app.settings.ready_clean_streak
        self.events: list[TicketEvent] = []
        self.states: dict[str, TicketState] = {}
        self.incidents: dict[str, Incident] = {}
        self.raised: set[str] = set()
        self.figures: dict[str, OfficerFigures] = {}
        self.touched: set[str] = set()

    def _state(self, ticket_key: str) -> tuple[TicketState | None, bool]:
        """The ticket's state so far, and whether it was stored (False: derived now from events recorded before states)."""
        if ticket_key in self.states:
            return self.states[ticket_key], True
        stored = self.db.ticket_states.get(ticket_key)
        if stored is None and ticket_key in self.archived:
            back = self.archived[ticket_key]  # a late event: the ticket comes back from the archive, events and all
            self.events += back.events
            return back.state, True
        if stored is not None or self.db.ticket_states.backfilled():
            return stored, True
        earlier = self.db.events.of_ticket(ticket_key)
        if not earlier:
            return None, True
        return with_recorded_incidents(derive_state(earlier), self.db.incidents.of_ticket(ticket_key)), False

    def _incident(self, incident_id: str) -> Incident | None:
        return self.incidents.get(incident_id) or self.db.incidents.get(incident_id)

    def apply(self, event: TicketEvent) -> tuple[Incident, ...]:
        """Record one event: its ticket's new state, the ticket re-judged, the figures of whom it counts for; what it raised."""
        before, was_stored = self._state(event.ticket_key)
        after = apply_event(before, event)
        code = after.judiciary_code
        verdicts = judge(after, lambda number: self.db.officers.get(code, number))
        recorded = {key: found for key, ref in after.incidents.items() if (found := self._incident(ref)) is not None}
        judgement = rejudge(after, verdicts, recorded, event_id=event.event_id, now=self.now, new_id=new_id)
        self.events.append(event)
        self.states[after.key] = judgement.state
        for incident in recorded.values():
            self.touched.add(incident.officer_key)
        for incident in (*judgement.raised, *judgement.changed):
            self.incidents[incident.id] = incident
            self.touched.add(incident.officer_key)
        self.raised.update(incident.id for incident in judgement.raised)
        self._count(before if was_stored else None, judgement.state, rebuild=not was_stored)
        return judgement.raised

    def _count(self, before: TicketState | None, after: TicketState, *, rebuild: bool) -> None:
        """Bring the figures of the officers the ticket counted and counts for up to date."""
        keys = {after.officer_key} | ({before.officer_key} if before is not None else set())
        for key in sorted(keys):
            code, _, number = key.partition(":")
            officer = self.db.officers.get(code, number)
            if officer is None:
                continue
            self.touched.add(key)
            figures = self.figures.get(key) or approval.stored_figures(self.app, officer)
            updated = None
            if figures is not None and not rebuild:
                updated = update_figures(
                    figures,
                    counted_for(officer, before, self.tz),
                    counted_for(officer, after, self.tz),
                    clean_streak=self.streak,
                )
            self.figures[key] = updated or approval.rebuilt_figures(self.app, officer, self._states_of(officer))

    def _states_of(self, officer: Officer) -> list[TicketSummary]:
        """What readiness reads of the tickets credited to the officer, this request's changes included."""
        found = {summary.key: summary for summary in self.db.ticket_states.summaries_of(officer.key)}
        for key, state in self.states.items():
            if state.officer_key == officer.key:
                found[key] = state.summary()
            else:
                found.pop(key, None)
        return list(found.values())

    def changes(self) -> list[Change]:
        """Every write of the request: events, ticket states, incidents and figures."""
        db = self.db
        return [
            *(db.events.put(event) for event in self.events),
            *(db.ticket_states.put(state) for state in self.states.values()),
            *(db.incidents.put(incident) for incident in self.incidents.values()),
            *(db.figures.put(figures) for figures in self.figures.values()),
        ]

    def notices(self) -> tuple[list[Notice], list[CopiesUpdate]]:
        """An alert for each incident raised and still open; an update of every copy of each earlier one that changed."""
        notices: list[Notice] = []
        updates: list[CopiesUpdate] = []
        for incident in self.incidents.values():
            alert = IncidentAlert(alert_view(self.app, incident))
            if incident.id not in self.raised:
                updates.append(CopiesUpdate(incident_subject(incident.id), alert))
            elif incident.is_open:
                summary = f"E-ticket {incident.ticket_number}: {incident.kind.value}"
                notices.append(
                    Notice(alert_audiences(self.app, incident), alert, summary, subject=incident_subject(incident.id))
                )
        return notices, updates


async def record_events(app: AppContext, events: Sequence[TicketEvent]) -> EventsRecorded | EventConflict:
    """Record a request's events in order; one result per event. Raises StorageUnavailable (nothing kept).

    An event whose ``event_id`` was recorded before with the same payload is a duplicate and changes
    nothing; with another payload the request is refused (``EventConflict``) and nothing of it is
    recorded. After the write, the readiness of every officer touched is re-checked; a failure
    there is logged and left to the hourly re-check, never failing the request that was recorded.
    """
    db = app.db
    waited: set[str] = set()
    looked: set[str] = set()
    found: dict[str, ArchivedTicket] = {}
    while True:
        # a ticket no longer in memory may be in the archive: read it back (a late event re-judges it)
        if missing := {
            e.ticket_key for e in events if e.ticket_key not in looked and not db.ticket_states.has(e.ticket_key)
        }:
            found.update(await db.archive.read(missing))
            looked |= missing
            continue
        # "duplicate" only once the first copy is durable: wait for a write still on its way to disk (and
        # fail with it if it failed), then decide from the records as they stand, with no await after
        if unsettled := [e.event_id for e in events if e.event_id not in waited and db.events.seen(e.event_id)]:
            await db.events.settled(*unsettled)
            waited.update(unsettled)
            continue
        break
    archived = {key: ticket for key, ticket in found.items() if not db.ticket_states.has(key)}
    archived_events = {event.event_id: event for ticket in archived.values() for event in ticket.events}
    conflict = _conflict(app, events, archived_events)
    if conflict is not None:
        logger.warning(
            "ticket events refused: event %d reuses a recorded event_id with another payload", conflict.index
        )
        return conflict
    recording = _Recording(app, archived)
    results: list[EventResult] = []
    for event in events:
        if db.events.seen(event.event_id) or event.event_id in archived_events:
            results.append(EventResult(event.event_id, "duplicate"))
            continue
        raised = recording.apply(event)
        results.append(EventResult(event.event_id, "recorded", raised))
    changes = recording.changes()
    if changes:
        notices, updates = recording.notices()
        await app.commit(changes, notices, updates)
    recorded = sum(1 for result in results if result.status == "recorded")
    logger.info(
        "ticket events recorded=%d duplicate=%d incidents_raised=%d incidents_changed=%d",
        recorded,
        len(results) - recorded,
        len(recording.raised),
        len(recording.incidents) - len(recording.raised),
    )
    await _recheck_quietly(app, recording.touched)
    return EventsRecorded(tuple(results))


async def backfill_states(app: AppContext) -> int:
    """Give each ticket recorded before ticket states existed its state, and each membership its figures (at start, once).

    States are derived from the stored events in the order they were recorded and linked to the
    incidents already raised; nothing is re-judged and no alert is sent. Returns how many tickets
    were given a state.
    """
    db = app.db
    if db.ticket_states.backfilled():
        return 0
    started = time.monotonic()
    missing = [key for key in db.events.ticket_keys() if not db.ticket_states.has(key)]
    for start in range(0, len(missing), BACKFILL_SLICE):
        states = [
            with_recorded_incidents(derive_state(db.events.of_ticket(key)), db.incidents.of_ticket(key))
            for key in missing[start : start + BACKFILL_SLICE]
        ]
        await app.commit([db.ticket_states.put(state) for state in states])
    figures = [db.figures.put(approval.rebuilt_figures(app, officer)) for officer in db.officers.all()]
    await app.commit([*figures, db.ticket_states.mark_backfilled(app.now())])
    logger.info(
        "ticket states derived for %d tickets recorded before them, figures for %d officers, in %.1f s",
        len(missing),
        len(figures),
        time.monotonic() - started,
    )
    return len(missing)


async def _recheck_quietly(app: AppContext, officer_keys: set[str]) -> None:
    """Re-check readiness of these officers; a storage failure waits for the hourly re-check."""
    if not officer_keys:
        return
    try:
        await approval.recheck(app, officer_keys)
    except StorageError as error:
        logger.warning("readiness re-check after events failed: %s", type(error).__name__)


_CLOSED_AS: dict[IncidentStatus, Happening] = {
    IncidentStatus.RESOLVED: Happening.RESOLVED,
    IncidentStatus.VOIDED: Happening.VOIDED,
    IncidentStatus.SUPERSEDED: Happening.SUPERSEDED,
}


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
        current = db.incidents.get(incident.id) or incident
        return AlreadyDone(alert_view(app, current), incident.closed, _CLOSED_AS[incident.status])
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
