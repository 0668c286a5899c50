"""Issue 13: the procedure's rules hold whatever order ticket events arrive in, and cost the same after ten years.

One test per case of the issue, tried as a JB clerk would: events recorded through the use case
(``services.tickets.record_events``) against the in-memory repositories, one request each unless
said otherwise, and readiness as the officer's card shows it. Each of these gave a wrong answer
before ticket states existed; the HTTP cases (an instant that cannot be stored, an event_id reused
with another payload) are in tests/http/test_intake_truth.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from cards.readiness import officer_card
from domain.policy import Requester
from domain.records import Actor, EventType, Incident, TicketEvent
from services import approval, packages, tickets
from services.context import AppContext
from services.notices import IncidentAlert
from settings import Settings
from tests.support import seed
from tests.support.factories import JB_AAD, POC_AAD
from tests.support.memory_db import MemoryDatabase, RecordingNotifier

STAFF = Requester(Actor(aad_id=JB_AAD, name="Jamie Staff"), is_staff=True)
POC = Requester(Actor(aad_id=POC_AAD, name="Pat Poc"), is_staff=False)
ISSUED = datetime(2026, 11, 10, 14, 0, tzinfo=UTC)  # the package was submitted on Nov 1 (tests/support/seed.py)


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 17, 0, tzinfo=UTC))


@pytest.fixture
async def app(clock: Clock) -> AppContext:
    db = MemoryDatabase()
    await db.seed(seed.package(), seed.officer("A1234"), seed.officer("B5678"))
    settings = Settings.from_env({"JB_STAFF_IDS": JB_AAD})
    return AppContext(settings=settings, db=db, notifier=RecordingNotifier(), clock=clock)


def db_of(app: AppContext) -> MemoryDatabase:
    assert isinstance(app.db, MemoryDatabase)
    return app.db


def told(app: AppContext) -> RecordingNotifier:
    assert isinstance(app.notifier, RecordingNotifier)
    return app.notifier


def make(
    event_id: str,
    kind: EventType,
    ticket: str,
    occurred_at: datetime,
    *,
    issued_at: datetime | None = None,
    officer: str = "A1234",
    **extra: Any,
) -> TicketEvent:
    return TicketEvent(
        event_id=event_id,
        type=kind,
        ticket_number=ticket,
        officer_number=officer,
        judiciary_code="9000",
        occurred_at=occurred_at,
        issued_at=issued_at,
        **extra,
    )


def clean_ticket(ticket: str, issued: datetime, *, accepted: bool = True, upload_after: timedelta = timedelta(hours=1)):
    """A ticket's events: uploaded ``upload_after`` its issue, then (unless told) accepted an hour later."""
    events = [make(f"{ticket}-s", EventType.SUBMITTED, ticket, issued + upload_after, issued_at=issued)]
    if accepted:
        events.append(make(f"{ticket}-a", EventType.ACCEPTED, ticket, issued + upload_after + timedelta(hours=1)))
    return events


async def record_each(app: AppContext, events: list[TicketEvent]) -> None:
    """Record the events one request each, in this order (the order they arrive in)."""
    for event in events:
        await tickets.record_events(app, [event])


def officer(app: AppContext, number: str = "A1234") -> Any:
    found = app.db.officers.get("9000", number)
    assert found is not None
    return found


def open_kinds(app: AppContext, ticket: str) -> list[str]:
    return sorted(i.kind.value for i in app.db.incidents.open() if i.ticket_number == ticket)


def incidents_of(app: AppContext, ticket: str) -> list[Incident]:
    return [i for i in db_of(app).incidents.rows.values() if i.ticket_number == ticket]


def copies_updated(app: AppContext, incident_id: str) -> list[IncidentAlert]:
    return [
        update.content
        for update in told(app).updates
        if update.subject == f"incident:{incident_id}" and isinstance(update.content, IncidentAlert)
    ]


# ---- approval on a bad record ----------------------------------------------------------------------


async def test_the_clean_streak_is_the_most_recent_accepted_e_tickets_not_the_newest_uploaded(app: AppContext) -> None:
    """Three accepted e-tickets all uploaded late, three newer ones uploaded but not yet accepted: not ready."""
    for day in (10, 11, 12):
        await record_each(app, clean_ticket(f"L-{day}", ISSUED.replace(day=day), upload_after=timedelta(hours=50)))
    for incident in list(app.db.incidents.open()):  # the PoC fixed each one
        await tickets.resolve_incident(app, POC, incident.id)
    for day in (13, 14, 15):
        await record_each(app, clean_ticket(f"N-{day}", ISSUED.replace(day=day), accepted=False))
    readiness = approval.assess(app, officer(app))
    assert readiness.accepted_count == 3
    assert not readiness.ready


# ---- tickets credited to the wrong officer ---------------------------------------------------------


async def test_a_ticket_amended_to_another_officer_counts_for_that_officer_only(app: AppContext) -> None:
    for day in (10, 11, 12):
        await record_each(app, clean_ticket(f"T-{day}", ISSUED.replace(day=day)))
    assert approval.assess(app, officer(app)).ready
    await record_each(app, [make("amend", EventType.AMENDED, "T-12", ISSUED.replace(day=13), officer="B5678")])
    first, second = approval.assess(app, officer(app)), approval.assess(app, officer(app, "B5678"))
    assert (first.accepted_count, second.accepted_count) == (2, 1)
    assert not first.ready


# ---- monitoring that never happened ----------------------------------------------------------------


async def test_an_officer_withdrawn_and_added_again_is_monitored_afresh(app: AppContext, clock: Clock) -> None:
    for day in (10, 11, 12):
        await record_each(app, clean_ticket(f"T-{day}", ISSUED.replace(day=day)))
    assert approval.assess(app, officer(app)).ready
    clock.now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    await approval.withdraw(app, POC, "9000", "A1234")
    clock.now = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    values = {
        "officer_number": "A1234",
        "first_name": "Casey",
        "last_name": "Officer",
        "dps_username": "cofficer",
        "start_date": "2026-11-21",
    }
    await packages.add_officers(app, POC, "9000", [values], officers_trained=True)
    clock.now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    readiness = approval.assess(app, officer(app))
    assert readiness.accepted_count == 0
    assert not readiness.ready


async def test_e_tickets_issued_before_the_package_was_submitted_do_not_count(app: AppContext) -> None:
    before = datetime(2026, 10, 20, 14, 0, tzinfo=UTC)  # the package came on Nov 1
    for days in (0, 1, 2):
        await record_each(app, clean_ticket(f"E-{days}", before + timedelta(days=days)))
    readiness = approval.assess(app, officer(app))
    assert readiness.accepted_count == 0
    assert not readiness.ready


async def test_an_e_ticket_issued_before_the_expected_start_date_counts_and_the_card_flags_it(
    app: AppContext,
) -> None:
    await db_of(app).seed(seed.officer("A1234", start_date=date(2026, 11, 12)))
    for day in (10, 11, 12):
        await record_each(app, clean_ticket(f"T-{day}", ISSUED.replace(day=day)))
    view = approval.view_of(app, officer(app))
    assert view.readiness.ready and view.readiness.accepted_count == 3
    card = str(officer_card(view))
    assert "2 e-tickets were issued before the expected start date, Thu Nov 12, 2026" in card


# ---- order decides the verdict ---------------------------------------------------------------------


async def test_a_payment_recorded_before_its_upload_but_made_after_it_is_not_before_receipt(app: AppContext) -> None:
    upload = make("up", EventType.SUBMITTED, "P-1", ISSUED + timedelta(hours=1), issued_at=ISSUED)
    payment = make("pay", EventType.PAYMENT_RECEIVED, "P-1", ISSUED + timedelta(days=2))
    await record_each(app, [payment, upload])
    assert open_kinds(app, "P-1") == []
    [superseded] = incidents_of(app, "P-1")
    assert superseded.status.value == "superseded"
    [alert] = copies_updated(app, superseded.id)  # every copy of its alert says so
    assert alert.view.incident.status.value == "superseded"


async def test_an_upload_recorded_first_but_made_after_the_payment_is_flagged(app: AppContext) -> None:
    upload = make("up", EventType.SUBMITTED, "P-2", ISSUED + timedelta(days=2), issued_at=ISSUED)
    payment = make("pay", EventType.PAYMENT_RECEIVED, "P-2", ISSUED + timedelta(days=1))
    await record_each(app, [upload, payment])
    assert open_kinds(app, "P-2") == ["payment_before_receipt"]


async def test_a_resubmission_arriving_before_the_first_upload_does_not_make_the_ticket_late(app: AppContext) -> None:
    first = make("s1", EventType.SUBMITTED, "R-1", ISSUED + timedelta(hours=1), issued_at=ISSUED)
    resubmitted = make("s2", EventType.SUBMITTED, "R-1", ISSUED + timedelta(hours=72), issued_at=ISSUED)
    await record_each(app, [resubmitted, first])
    assert open_kinds(app, "R-1") == []


# ---- stale facts -----------------------------------------------------------------------------------


async def test_the_issue_time_is_the_latest_amendments_not_the_last_recorded_events(app: AppContext) -> None:
    corrected = ISSUED - timedelta(days=1)
    submitted = make("s", EventType.SUBMITTED, "A-1", ISSUED + timedelta(hours=1), issued_at=ISSUED)
    amended = make("am", EventType.AMENDED, "A-1", ISSUED + timedelta(days=2), issued_at=corrected)
    accepted = make("acc", EventType.ACCEPTED, "A-1", ISSUED + timedelta(hours=3), issued_at=ISSUED)  # recorded last
    await record_each(app, [submitted, amended, accepted])
    assert approval.assess(app, officer(app)).latest_issued == date(2026, 11, 9)


async def test_an_incident_raised_before_the_issue_date_was_known_learns_it_in_every_copy(app: AppContext) -> None:
    payment = make("pay", EventType.PAYMENT_RECEIVED, "U-1", ISSUED + timedelta(hours=1))
    upload = make("up", EventType.SUBMITTED, "U-1", ISSUED + timedelta(hours=2), issued_at=ISSUED)
    await record_each(app, [payment, upload])
    [incident] = app.db.incidents.open()
    assert incident.kind.value == "payment_before_receipt"
    assert incident.issued_at == ISSUED
    [alert] = copies_updated(app, incident.id)
    assert alert.view.window.known and alert.view.window.issue_date == date(2026, 11, 10)


# ---- silence ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "late",
    [
        lambda at: make("late", EventType.PAYMENT_RECEIVED, "V-1", at),
        lambda at: make("late", EventType.REJECTED, "V-1", at, reason="Statute not found"),
    ],
    ids=["payment", "rejection"],
)
async def test_a_payment_or_a_rejection_on_a_voided_e_ticket_raises_an_incident(
    app: AppContext, late: Callable[[datetime], TicketEvent]
) -> None:
    events = clean_ticket("V-1", ISSUED, accepted=False)
    events.append(make("void", EventType.VOIDED, "V-1", ISSUED + timedelta(hours=5)))
    events.append(late(ISSUED + timedelta(days=3)))
    await record_each(app, events)
    assert open_kinds(app, "V-1") == ["event_on_voided"]


async def test_an_issue_time_a_month_after_the_upload_raises_an_incident(app: AppContext) -> None:
    upload = make("up", EventType.SUBMITTED, "M-1", ISSUED, issued_at=ISSUED + timedelta(days=30))
    await record_each(app, [upload])
    assert open_kinds(app, "M-1") == ["upload_before_issue"]


# ---- cost grows with history -----------------------------------------------------------------------


class HistoryRead(AssertionError):
    """A use case read an officer's whole history."""


def forbid_history(db: MemoryDatabase) -> list[int]:
    """From now on reading an officer's events fails; returns the sizes of every ticket's events read."""
    read: list[int] = []

    def of_officer(officer_key: str) -> list[TicketEvent]:
        raise HistoryRead(officer_key)

    real_of_ticket = db.events.of_ticket

    def of_ticket(ticket_key: str) -> list[TicketEvent]:
        found = real_of_ticket(ticket_key)
        read.append(len(found))
        return found

    db.events.of_officer = of_officer  # type: ignore[method-assign]
    db.events.of_ticket = of_ticket  # type: ignore[method-assign]
    for name in ("of_officer", "summaries_of"):  # the ticket states of a whole history, where they exist
        if hasattr(db, "ticket_states") and hasattr(db.ticket_states, name):
            setattr(db.ticket_states, name, of_officer)
    return read


async def test_an_event_status_and_the_hourly_re_check_never_read_an_officers_history(app: AppContext) -> None:
    history = [event for n in range(300) for event in clean_ticket(f"H-{n}", ISSUED + timedelta(minutes=n))]
    await tickets.record_events(app, history)
    await approval.recheck(app)  # the re-check at start
    read = forbid_history(db_of(app))
    await record_each(app, clean_ticket("NEW-1", ISSUED + timedelta(days=3)))
    await approval.recheck(app)
    from services.status import status_overview

    status_overview(app, STAFF)
    assert approval.assess(app, officer(app)).accepted_count == 301
    assert sum(read) <= 2  # at most the new ticket's own events
