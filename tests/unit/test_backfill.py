"""Data recorded before ticket states existed still works: states derived at open (once) or when a ticket's event arrives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from domain.records import EventType, Incident, IncidentKind, TicketEvent
from presentation.notifier import Notifier
from presentation.presenter import Presenter
from services import approval, tickets
from services.context import AppContext
from settings import Settings
from storage.engine import Put
from storage.repositories import Database
from tests.support import seed
from tests.support.factories import JB_AAD
from tests.support.memory_db import MemoryDatabase, RecordingNotifier

NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
ISSUED = datetime(2026, 11, 10, 14, 0, tzinfo=UTC)


def clean(ticket: str, issued: datetime) -> list[TicketEvent]:
    return [
        TicketEvent(
            event_id=f"{ticket}-{kind.value}",
            type=kind,
            ticket_number=ticket,
            officer_number="A1234",
            judiciary_code="9000",
            occurred_at=issued + timedelta(hours=hours),
            issued_at=issued,
        )
        for kind, hours in ((EventType.SUBMITTED, 1), (EventType.ACCEPTED, 2))
    ]


def payment_before_receipt() -> tuple[TicketEvent, Incident]:
    """A payment recorded by the old code, and the incident it raised then."""
    payment = TicketEvent(
        event_id="pay",
        type=EventType.PAYMENT_RECEIVED,
        ticket_number="P-1",
        officer_number="A1234",
        judiciary_code="9000",
        occurred_at=ISSUED + timedelta(hours=3),
    )
    incident = Incident(
        id="old-1",
        kind=IncidentKind.PAYMENT_BEFORE_RECEIPT,
        judiciary_code="9000",
        officer_number="A1234",
        ticket_number="P-1",
        event_id="pay",
        raised_at=ISSUED + timedelta(hours=3),
    )
    return payment, incident


async def test_a_store_written_before_ticket_states_gets_them_at_open(tmp_path: Path) -> None:
    db = await Database.open(tmp_path)
    payment, incident = payment_before_receipt()
    ops = [db.packages.put(seed.package()), db.officers.put(seed.officer())]
    ops += [db.events.put(event) for day in (10, 11, 12) for event in clean(f"T-{day}", ISSUED.replace(day=day))]
    ops.append(db.events.put(payment))
    old_doc = incident.model_dump(mode="json") | {
        "officer_key": incident.officer_key,
        "ticket_key": incident.ticket_key,
    }
    ops.append(Put("incidents", incident.id, old_doc))  # as the old code stored it: no officer-and-status field
    await db.commit(ops)
    await db.close()

    db = await Database.open(tmp_path)
    settings = Settings.from_env({"JB_STAFF_IDS": JB_AAD, "DATA_DIR": str(tmp_path)})
    app = AppContext(settings, db, Notifier(db, Presenter(settings.timezone), settings.jb_staff_ids), clock=lambda: NOW)
    assert await tickets.backfill_states(app) == 4
    assert await tickets.backfill_states(app) == 0  # once
    officer = db.officers.get("9000", "A1234")
    assert officer is not None
    state = db.ticket_states.get("9000:P-1")
    assert state is not None and state.incidents == {"payment_before_receipt": "old-1"} and state.flagged
    assert db.figures.get(officer.key) == approval.rebuilt_figures(app, officer)
    assert [i.id for i in db.incidents.open_of_officer(officer.key)] == ["old-1"]
    readiness = approval.assess(app, officer)
    assert readiness.accepted_count == 3 and readiness.open_incidents == 1

    upload = clean("P-1", ISSUED)[
        0
    ]  # the upload, an hour after issue, arrives late: the payment was not before receipt
    await tickets.record_events(app, [upload])
    closed = db.incidents.get("old-1")
    assert closed is not None and closed.status.value == "superseded"
    assert approval.assess(app, officer).ready
    await db.close()


async def test_a_ticket_recorded_before_states_is_derived_when_its_next_event_arrives() -> None:
    db = MemoryDatabase()
    await db.seed(seed.package(), seed.officer())
    payment, incident = payment_before_receipt()
    await db.commit([db.events.put(payment), db.incidents.put(incident)])
    settings = Settings.from_env({"JB_STAFF_IDS": JB_AAD})
    app = AppContext(settings=settings, db=db, notifier=RecordingNotifier(), clock=lambda: NOW)
    await tickets.record_events(app, [clean("P-1", ISSUED)[0]])
    state = db.ticket_states.get("9000:P-1")
    assert state is not None and [step.event_id for step in state.steps] == ["pay", "P-1-submitted"]
    assert db.incidents.rows["old-1"].status.value == "superseded"
