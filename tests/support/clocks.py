"""A movable clock and records that make each of the SOP's clocks fall due on a chosen court business day."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.court_days import is_business_day
from domain.records import Actor, EventType, Extension, Incident, IncidentKind, Stamp, TicketEvent
from services import tickets
from services.context import AppContext
from tests.support import seed
from tests.support.factories import JB_AAD, POC_AAD

VERMONT = ZoneInfo("America/New_York")
STAFF = Actor(aad_id=JB_AAD, name="Jamie Staff")
POC = Actor(aad_id=POC_AAD, name="Pat Poc")


@dataclass
class Clock:
    """The app's clock, moved by the test."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def set(self, day: date, hour: int, minute: int = 0) -> None:
        """Court time on a court date."""
        self.now = court_time(day, hour, minute)


def court_time(day: date, hour: int, minute: int = 0) -> datetime:
    """An instant at a wall-clock time in Vermont, as UTC (as the app's clock gives it)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=VERMONT).astimezone(UTC)


def business_days_before(day: date, count: int) -> date:
    """The business day that is ``count`` business days before ``day``."""
    while count:
        day -= timedelta(days=1)
        if is_business_day(day):
            count -= 1
    return day


Seeder = Callable[[AppContext, Clock, date], Awaitable[None]]


async def unacknowledged_package(app: AppContext, clock: Clock, day: date) -> None:
    """A package submitted 2 business days before ``day`` at 10:00, never acknowledged."""
    submitted = Stamp(actor=POC, at=court_time(business_days_before(day, 2), 10))
    package = seed.package().model_copy(update={"submitted": submitted})
    officer = seed.officer().model_copy(update={"added": submitted, "start_date": day})
    await app.db.commit([app.db.packages.put(package), app.db.officers.put(officer)])


async def unacknowledged_officers(app: AppContext, clock: Clock, day: date) -> None:
    """An acknowledged package, and an officer added to it 2 business days before ``day`` at 11:00."""
    submitted = Stamp(actor=POC, at=court_time(day - timedelta(days=30), 10))
    acknowledged = Stamp(actor=STAFF, at=court_time(day - timedelta(days=29), 10))
    package = seed.package().model_copy(update={"submitted": submitted, "acknowledged": acknowledged})
    first = seed.officer().model_copy(update={"added": submitted})
    added = seed.officer("B2345").model_copy(
        update={"added": Stamp(actor=POC, at=court_time(business_days_before(day, 2), 11)), "start_date": day}
    )
    events = accepted_events(first.officer_number, day - timedelta(days=27), 1)  # not "no e-ticket" too
    await app.db.commit([app.db.packages.put(package), app.db.officers.put(first), app.db.officers.put(added)])
    await app.db.commit([app.db.events.put(event) for event in events])


def accepted_events(number: str, first: date, count: int) -> list[TicketEvent]:
    """``count`` e-tickets issued on consecutive days from ``first`` at 9:00, uploaded and accepted."""
    found = []
    for n in range(count):
        issued = court_time(first + timedelta(days=n), 9)
        for kind, hours in ((EventType.SUBMITTED, 1), (EventType.ACCEPTED, 2)):
            found.append(
                TicketEvent(
                    event_id=f"{number}-{n}-{kind.value}",
                    type=kind,
                    ticket_number=f"VT-{number}-{n}",
                    officer_number=number,
                    judiciary_code="9000",
                    occurred_at=issued + timedelta(hours=hours),
                    issued_at=issued,
                )
            )
    return found


async def ready_unapproved(app: AppContext, clock: Clock, day: date) -> None:
    """An officer who became ready 3 business days before ``day`` at 10:00 and was not approved."""
    acknowledged = Stamp(actor=STAFF, at=seed.SUBMITTED_AT)
    await app.db.commit([app.db.packages.put(seed.package().model_copy(update={"acknowledged": acknowledged}))])
    became_ready = business_days_before(day, 3)
    await app.db.commit([app.db.officers.put(seed.officer(start_date=became_ready - timedelta(days=20)))])
    before = clock.now
    clock.set(became_ready, 10)
    await tickets.record_events(app, accepted_events("A1234", became_ready - timedelta(days=10), 3))
    assert app.db.readiness.was_ready("9000:A1234")
    clock.now = before


async def extension_ending(app: AppContext, clock: Clock, day: date) -> None:
    """An officer whose extended monitoring ends the day after ``day`` (granted a week before)."""
    acknowledged = Stamp(actor=STAFF, at=seed.SUBMITTED_AT)
    granted = Stamp(actor=STAFF, at=court_time(day - timedelta(days=7), 15))
    extension = Extension(until=day + timedelta(days=1), reason="two e-tickets needed corrections", granted=granted)
    officer = seed.officer(extension=extension, start_date=day - timedelta(days=13))
    events = accepted_events("A1234", day - timedelta(days=12), 1)
    await app.db.commit(
        [
            app.db.packages.put(seed.package().model_copy(update={"acknowledged": acknowledged})),
            app.db.officers.put(officer),
        ]
    )
    await app.db.commit([app.db.events.put(event) for event in events])


async def no_eticket(app: AppContext, clock: Clock, day: date) -> None:
    """An officer expected to begin 14 days before ``day``, with no e-ticket since."""
    start = day - timedelta(days=14)
    added = Stamp(actor=POC, at=court_time(start - timedelta(days=3), 10))
    acknowledged = Stamp(actor=STAFF, at=court_time(start - timedelta(days=2), 10))
    package = seed.package().model_copy(update={"acknowledged": acknowledged, "submitted": added})
    await app.db.commit(
        [app.db.packages.put(package), app.db.officers.put(seed.officer(start_date=start, added=added))]
    )


def incident(issued: date, raised: date, number: str = "VT-9") -> Incident:
    """An open rejection of an e-ticket issued at 9:00 on ``issued``, raised at 10:00 on ``raised``."""
    return Incident(
        id=f"inc-{number}",
        kind=IncidentKind.REJECTED,
        judiciary_code="9000",
        officer_number="A1234",
        ticket_number=number,
        event_id=f"ev-{number}",
        raised_at=court_time(raised, 10),
        issued_at=court_time(issued, 9),
        detail="Plate state missing",
    )


def deadline_step(days_left: int | None) -> Seeder:
    """An open incident whose answer deadline has ``days_left`` days left on ``day`` (None: passed the day before)."""

    async def seeder(app: AppContext, clock: Clock, day: date) -> None:
        deadline = day + timedelta(days=days_left) if days_left is not None else day - timedelta(days=1)
        issued = deadline - timedelta(days=21)
        raised = issued if days_left == 7 else day - timedelta(days=1)  # raised after the earlier steps' days
        acknowledged = Stamp(actor=STAFF, at=seed.SUBMITTED_AT)
        await app.db.commit(
            [
                app.db.packages.put(seed.package().model_copy(update={"acknowledged": acknowledged})),
                app.db.officers.put(seed.officer(start_date=issued)),
                app.db.incidents.put(incident(issued, raised)),
            ]
        )
        await app.db.commit([app.db.events.put(event) for event in accepted_events("A1234", issued, 1)])

    return seeder


WEDNESDAY = date(2026, 11, 25)  # the day before Thanksgiving
THANKSGIVING = date(2026, 11, 26)
FRIDAY = date(2026, 11, 27)
SATURDAY = date(2026, 11, 28)
MONDAY = date(2026, 11, 30)

CASES: dict[str, tuple[Seeder, str, int]] = {
    # name: (records, kind of the occurrence key, hour it falls due at on its day)
    "package not acknowledged after 2 business days": (unacknowledged_package, "package_unacknowledged", 10),
    "added officers not acknowledged after 2 business days": (
        unacknowledged_officers,
        "officers_unacknowledged",
        11,
    ),
    "ready but not approved after 3 business days": (ready_unapproved, "ready_unapproved", 10),
    "extension ending tomorrow": (extension_ending, "extension_ending", 8),
    "14 days past the start date with no e-ticket": (no_eticket, "no_eticket", 8),
    "7 days left to the answer deadline": (deadline_step(7), "answer_deadline", 8),
    "2 days left to the answer deadline": (deadline_step(2), "answer_deadline", 8),
    "the answer deadline passed": (deadline_step(None), "answer_deadline", 8),
}
