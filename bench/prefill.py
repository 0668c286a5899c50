"""Fill a data directory before the bot starts: agencies, officers, and a year's worth of ticket events.

Written straight through ``storage.repositories`` (one ``Database.commit`` per 500 events, as one
intake batch would), then closed, which writes the TinyDB-format snapshot the bot loads at start.
The events are clean (uploaded an hour after issue, then accepted), so they raise no incidents
and queue no notices: they are history, spread over 20 agencies × 10 officers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from domain.records import Actor, Agency, EventType, Officer, Package, Stamp, TicketEvent
from storage.repositories import Database

AGENCY_CODES = tuple(f"{9000 + i:04d}" for i in range(20))
OFFICER_NUMBERS = tuple(f"B{1000 + i:04d}" for i in range(10))
BENCH_AGENCY = AGENCY_CODES[0]
"""The agency whose channel is subscribed and whose PoC is the bench's PoC user."""

SUBMITTED_AT = datetime(2026, 1, 5, 14, 0, tzinfo=timezone.utc)
HISTORY_START = datetime(2026, 1, 10, 13, 0, tzinfo=timezone.utc)
COMMIT_EVENTS = 500


@dataclass(frozen=True)
class People:
    """The Azure AD object ids the bench speaks as."""

    poc: str
    jb: str
    agency_channel: str


def _package(code: str, poc: str) -> Package:
    agency = Agency(judiciary_code=code, agency_name=f"Bench Town {code} Police Department",
                    letterhead_address="1 Main St, Bench Town, VT 05000", letterhead_phone="(802) 555-0100",
                    poc_name="Pat Poc", poc_email="pat.poc@agency.example")
    return Package(agency=agency, poc=Actor(poc, "Pat Poc"), submitted=Stamp(Actor(poc, "Pat Poc"), SUBMITTED_AT))


def _officer(code: str, number: str, poc: str) -> Officer:
    return Officer(judiciary_code=code, officer_number=number, first_name="Casey", last_name="Officer",
                   dps_username=f"c{number.lower()}", start_date=date(2026, 1, 6), added=Stamp(Actor(poc, "Pat Poc"), SUBMITTED_AT))


def history(count: int) -> Iterator[TicketEvent]:
    """``count`` clean events: each ticket is uploaded an hour after issue, then accepted; ~every 5 minutes."""
    for index in range(count):
        ticket = index // 2
        code = AGENCY_CODES[ticket % len(AGENCY_CODES)]
        number = OFFICER_NUMBERS[(ticket // len(AGENCY_CODES)) % len(OFFICER_NUMBERS)]
        issued = HISTORY_START + timedelta(minutes=5 * ticket)
        kind = EventType.SUBMITTED if index % 2 == 0 else EventType.ACCEPTED
        occurred = issued + timedelta(hours=1 if kind is EventType.SUBMITTED else 3)
        yield TicketEvent(event_id=f"history-{index}", type=kind, ticket_number=f"H-{ticket}", officer_number=number,
                          judiciary_code=code, occurred_at=occurred, issued_at=issued, received_at=occurred)


async def prefill(data_dir: Path, events: int, people: People) -> float:
    """Write agencies, officers, the agency channel's subscription and ``events`` events; seconds taken."""
    started = time.perf_counter()
    db = await Database.open(data_dir)
    try:
        ops = [db.packages.put(_package(code, people.poc)) for code in AGENCY_CODES]
        ops += [db.officers.put(_officer(code, number, people.poc)) for code in AGENCY_CODES for number in OFFICER_NUMBERS]
        ops.append(db.subscriptions.put(BENCH_AGENCY, people.agency_channel, people.poc, SUBMITTED_AT))
        await db.commit(ops)
        batch = []
        for event in history(events):
            batch.append(db.events.put(event))
            if len(batch) == COMMIT_EVENTS:
                await db.commit(batch)
                batch = []
        if batch:
            await db.commit(batch)
    finally:
        await db.close()
    return time.perf_counter() - started
