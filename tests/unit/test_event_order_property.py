"""Property (issue 13): any arrival order of a ticket's events gives the same ticket state, open incidents and readiness.

Events are generated with distinct ``occurred_at`` (arrival order breaks ties by design, so tied
events in another order may rightly differ). Each event is recorded as its own request, as events
arrive from Valcour and Odyssey, through the use case against the in-memory repositories. The
officer figures kept up to date event by event are checked against figures rebuilt from scratch.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.records import EventType, TicketEvent, Violation, ViolationCategory
from services import approval, tickets
from services.context import AppContext
from settings import Settings
from tests.support import seed
from tests.support.factories import JB_AAD
from tests.support.memory_db import MemoryDatabase, RecordingNotifier

NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
BASE = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
EXAMPLES = 2000 if os.environ.get("HYPOTHESIS_PROFILE") == "soak" else 150

ISSUE_TIMES = [None, BASE, BASE + timedelta(hours=5), BASE - timedelta(days=3), BASE - timedelta(days=30)]
OFFICERS = ["A1234", "A1234", "B5678", "C9999"]  # C9999 is in no package
VIOLATIONS = [
    None,
    None,
    Violation(category=ViolationCategory.TRAFFIC),
    Violation(category=ViolationCategory.MUNICIPAL_PARKING, statute="Burlington ord. 20-5"),
    Violation(category=ViolationCategory.CIVIL_ORDINANCE, full_penalty=100.0),
]


@st.composite
def ticket_events(draw: st.DrawFn) -> list[TicketEvent]:
    """The events of one ticket T-X: 1 to 7 of any type, at distinct instants over four days."""
    count = draw(st.integers(1, 7))
    minutes = draw(st.lists(st.integers(0, 4 * 24 * 60), min_size=count, max_size=count, unique=True))
    events = []
    for index, minute in enumerate(minutes):
        kind = draw(st.sampled_from(list(EventType)))
        issued = draw(st.sampled_from(ISSUE_TIMES))
        events.append(
            TicketEvent(
                event_id=f"x-{index}",
                type=kind,
                ticket_number="T-X",
                officer_number=draw(st.sampled_from(OFFICERS)) if kind is EventType.AMENDED else "A1234",
                judiciary_code="9000",
                occurred_at=BASE + timedelta(minutes=minute),
                issued_at=BASE if kind is EventType.SUBMITTED and issued is None else issued,
                reason="Statute not found" if kind is EventType.REJECTED else None,
                violation=draw(st.sampled_from(VIOLATIONS)),
            )
        )
    return events


def history() -> list[TicketEvent]:
    """Two clean accepted e-tickets of A1234 before T-X, so that T-X decides readiness."""
    events = []
    for day in (10, 11):
        issued = datetime(2026, 11, day, 14, 0, tzinfo=UTC)
        for kind, hours in ((EventType.SUBMITTED, 1), (EventType.ACCEPTED, 2)):
            events.append(
                TicketEvent(
                    event_id=f"h-{day}-{kind.value}",
                    type=kind,
                    ticket_number=f"H-{day}",
                    officer_number="A1234",
                    judiciary_code="9000",
                    occurred_at=issued + timedelta(hours=hours),
                    issued_at=issued,
                )
            )
    return events


async def _outcome(arrival: list[TicketEvent]) -> dict[str, Any]:
    db = MemoryDatabase()
    await db.seed(seed.package(), seed.officer("A1234"), seed.officer("B5678"))
    settings_ = Settings.from_env({"JB_STAFF_IDS": JB_AAD, "READY_CLEAN_STREAK": "2"})
    app = AppContext(settings=settings_, db=db, notifier=RecordingNotifier(), clock=lambda: NOW)
    await tickets.record_events(app, history())
    for event in arrival:
        await tickets.record_events(app, [event])
    state = db.ticket_states.get("9000:T-X")
    assert state is not None
    readiness = {}
    for number in ("A1234", "B5678"):
        officer = db.officers.get("9000", number)
        assert officer is not None
        assert approval.figures_of(app, officer) == approval.rebuilt_figures(app, officer)  # kept == from scratch
        found = approval.assess(app, officer)
        readiness[number] = (
            found.ready,
            found.missing,
            found.accepted_count,
            found.first_accepted_issued,
            found.latest_issued,
            found.open_incidents,
            found.issued_before_start,
        )
    return {
        "state": state.model_dump(exclude={"steps", "incidents"}),
        "open": sorted(
            (i.kind.value, i.officer_number, i.detail, str(i.issued_at))
            for i in db.incidents.open()
            if i.ticket_number == "T-X"
        ),
        "readiness": readiness,
    }


def outcome(arrival: list[TicketEvent]) -> dict[str, Any]:
    """What the bot holds once these events arrived in this order, one request each."""
    return asyncio.run(_outcome(arrival))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=ticket_events(), data=st.data())
def test_any_arrival_order_gives_the_same_state_open_incidents_and_readiness(
    events: list[TicketEvent], data: st.DataObject
) -> None:
    arrival = data.draw(st.permutations(events), label="arrival order")
    assert outcome(arrival) == outcome(events)
