"""Fill a data directory before the bot starts: agencies, officers, a year's worth of ticket events.

Written straight through ``storage.repositories`` (one ``Database.commit`` per 500 events, as one
full intake batch would), each event with its ticket's state (``domain.tickets``) and, at the end,
each officer's figures (``domain.readiness``), as the bot itself records them; then closed, which
writes the TinyDB-format snapshot the bot loads at start.

``prefill``: the shape follows the procedure: 20 agencies of 10 officers; nine of each agency's
officers were approved early in the year and carry the history (clean e-tickets: uploaded an hour
after issue, then accepted, so no incidents and no notices); the tenth is still in monitoring with
no history. ``ready`` more officers in monitoring each have three accepted e-tickets issued two
weeks ago, so they are ready for approval (the Approve scenario presses on them).

``prefill_monitoring``: ``officers`` officers in monitoring (one agency per ten), each holding
``tickets_each`` clean accepted e-tickets issued over the past year, since they were added; their
readiness is remembered as a running bot's would be (its readiness cards went out long ago).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from domain.readiness import figures_from_states, keep_for, ready_from_figures
from domain.records import Actor, Agency, EventType, Officer, OfficerState, Package, Stamp, TicketEvent
from domain.tickets import TicketState, derive_state
from settings import Settings
from storage.engine import Op
from storage.repositories import Database

AGENCY_CODES = tuple(f"{9000 + i:04d}" for i in range(20))
OFFICER_NUMBERS = tuple(f"B{1000 + i:04d}" for i in range(10))
APPROVED_NUMBERS = OFFICER_NUMBERS[:9]
MONITORED_NUMBER = OFFICER_NUMBERS[9]
BENCH_AGENCY = AGENCY_CODES[0]
"""The agency whose channel is subscribed."""

ALL_OFFICERS = tuple((code, number) for code in AGENCY_CODES for number in OFFICER_NUMBERS)
"""Every (Judiciary Code, officer number) of the 20 agencies, for spreading load."""

COMMIT_EVENTS = 500
TICKET_SPACING = timedelta(minutes=10)
"""100,000 events are 50,000 tickets: one every ten minutes is about a year."""


@dataclass(frozen=True)
class People:
    """The Azure AD object ids the bench speaks as."""

    poc: str
    jb: str
    agency_channel: str


def ready_officer(index: int) -> tuple[str, str]:
    """(Judiciary Code, officer number) of ready officer ``index``."""
    return AGENCY_CODES[index % len(AGENCY_CODES)], f"C{index:04d}"


def _package(code: str, poc: str, at: datetime) -> Package:
    agency = Agency(
        judiciary_code=code,
        agency_name=f"Bench Town {code} Police Department",
        letterhead_address="1 Main St, Bench Town, VT 05000",
        letterhead_phone="(802) 555-0100",
        poc_name="Pat Poc",
        poc_email="pat.poc@agency.example",
    )
    return Package(
        agency=agency,
        poc=Actor(aad_id=poc, name="Pat Poc"),
        submitted=Stamp(actor=Actor(aad_id=poc, name="Pat Poc"), at=at),
    )


def _officer(code: str, number: str, poc: str, at: datetime) -> Officer:
    return Officer(
        judiciary_code=code,
        officer_number=number,
        first_name="Casey",
        last_name="Officer",
        dps_username=f"c{number.lower()}",
        start_date=at.date(),
        added=Stamp(actor=Actor(aad_id=poc, name="Pat Poc"), at=at),
    )


def _ticket(event_id: str, ticket: str, code: str, number: str, issued: datetime) -> list[TicketEvent]:
    """A clean ticket: submitted an hour after issue, accepted two hours later."""
    submitted, accepted = issued + timedelta(hours=1), issued + timedelta(hours=3)
    return [
        TicketEvent(
            event_id=f"{event_id}-s",
            type=EventType.SUBMITTED,
            ticket_number=ticket,
            officer_number=number,
            judiciary_code=code,
            occurred_at=submitted,
            issued_at=issued,
            received_at=submitted,
        ),
        TicketEvent(
            event_id=f"{event_id}-a",
            type=EventType.ACCEPTED,
            ticket_number=ticket,
            officer_number=number,
            judiciary_code=code,
            occurred_at=accepted,
            issued_at=issued,
            received_at=accepted,
        ),
    ]


def monitoring_officer(index: int) -> tuple[str, str]:
    """(Judiciary Code, officer number) of officer ``index`` of ``prefill_monitoring`` (ten per agency)."""
    return f"{8000 + index // 10:04d}", f"M{index:04d}"


def _agency_officers(people: People, added: datetime) -> list[Officer]:
    """The 20 agencies' 200 officers, added at ``added``; nine of each agency's approved ten days later."""
    approved_at = added + timedelta(days=10)
    approved = Stamp(actor=Actor(aad_id=people.jb, name="Jamie Staff"), at=approved_at)
    officers = []
    for code, number in ALL_OFFICERS:
        officer = _officer(code, number, people.poc, added)
        if number in APPROVED_NUMBERS:
            officer = officer.model_copy(
                update={"state": OfficerState.APPROVED, "approval_date": approved_at.date(), "approved": approved}
            )
        officers.append(officer)
    return officers


class _Writer:
    """Writes events with their tickets' states in commits of ``COMMIT_EVENTS``; figures and the backfill mark at the end."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.settings = Settings.from_env({})
        self.batch: list[Op] = []
        self.events = 0
        self.states: dict[str, list[TicketState]] = {}

    async def ticket(self, events: list[TicketEvent]) -> None:
        state = derive_state(events)
        self.states.setdefault(state.officer_key, []).append(state)
        self.batch += [self.db.events.put(event) for event in events]
        self.batch.append(self.db.ticket_states.put(state))
        self.events += len(events)
        if self.events >= COMMIT_EVENTS:
            await self.flush()

    async def flush(self) -> None:
        if self.batch:
            await self.db.commit(self.batch)
        self.batch, self.events = [], 0

    async def finish(self, officers: list[Officer], *, remember_readiness: bool = False) -> None:
        """Store every officer's figures and mark every ticket as having its state.

        ``remember_readiness``: also remember each officer's readiness as of now, as a bot that has
        been running would have (it sent the readiness cards then); its start-up re-check then changes nothing.
        """
        await self.flush()
        settings = self.settings
        keep = keep_for(settings.ready_clean_streak)
        tz = settings.timezone
        now = datetime.now(UTC)
        ops: list[Op] = []
        for officer in officers:
            figures = figures_from_states(officer, self.states.get(officer.key, []), tz, keep=keep)
            ops.append(self.db.figures.put(figures))
            if remember_readiness:
                ready = ready_from_figures(
                    officer,
                    figures,
                    0,
                    now.astimezone(tz).date(),
                    tz,
                    min_accepted=settings.ready_min_accepted,
                    min_days=settings.ready_min_days,
                    clean_streak=settings.ready_clean_streak,
                )
                ops.append(self.db.readiness.put(officer.key, ready, now))
        ops.append(self.db.ticket_states.mark_backfilled(now))
        await self.db.commit(ops)


async def prefill(data_dir: Path, events: int, people: People, *, ready: int = 0) -> float:
    """Write agencies, officers, the agency channel's subscription, ``events`` events and ``ready`` ready officers.

    Returns the seconds taken (including the snapshot written at close).
    """
    started = time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    year_ago = now - timedelta(days=366)
    db = await Database.open(data_dir)
    try:
        writer = _Writer(db)
        ops = [db.packages.put(_package(code, people.poc, year_ago)) for code in AGENCY_CODES]
        officers = _agency_officers(people, year_ago)
        for index in range(ready):
            code, number = ready_officer(index)
            officers.append(_officer(code, number, people.poc, now - timedelta(days=20)))
        ops += [db.officers.put(officer) for officer in officers]
        ops.append(db.subscriptions.put(BENCH_AGENCY, people.agency_channel, people.poc, year_ago))
        await db.commit(ops)
        for index in range(ready):
            code, number = ready_officer(index)
            for n in range(3):
                issued = now - timedelta(days=14, hours=n)
                await writer.ticket(_ticket(f"ready-{index}-{n}", f"C-{index}-{n}", code, number, issued))
        start = year_ago + timedelta(days=11)
        approved = [(code, number) for code in AGENCY_CODES for number in APPROVED_NUMBERS]
        for ticket in range(events // 2):
            code, number = approved[ticket % len(approved)]
            issued = start + ticket * TICKET_SPACING
            await writer.ticket(_ticket(f"history-{ticket}", f"H-{ticket}", code, number, issued))
        await writer.finish(officers)
    finally:
        await db.close()
    return time.perf_counter() - started


async def prefill_monitoring(data_dir: Path, people: People, *, officers: int, tickets_each: int) -> float:
    """Write ``officers`` officers in monitoring, ten per agency, each holding ``tickets_each`` clean accepted e-tickets.

    The e-tickets are issued over the year since the officers were added, round robin across
    officers. Returns the seconds taken (including the snapshot written at close).
    """
    started = time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    year_ago = now - timedelta(days=366)
    db = await Database.open(data_dir)
    try:
        writer = _Writer(db)
        members = [monitoring_officer(index) for index in range(officers)]
        codes = sorted({code for code, _ in members})
        ops = [db.packages.put(_package(code, people.poc, year_ago)) for code in codes]
        added = [_officer(code, number, people.poc, year_ago) for code, number in members]
        ops += [db.officers.put(officer) for officer in added]
        ops.append(db.subscriptions.put(codes[0], people.agency_channel, people.poc, year_ago))
        await db.commit(ops)
        total = officers * tickets_each
        spacing = timedelta(days=360) / max(total, 1)
        for ticket in range(total):
            code, number = members[ticket % officers]
            issued = year_ago + timedelta(days=1) + ticket * spacing
            await writer.ticket(_ticket(f"mon-{ticket}", f"M-{ticket}", code, number, issued))
        await writer.finish(added, remember_readiness=True)
    finally:
        await db.close()
    return time.perf_counter() - started


async def prefill_years(
    data_dir: Path, events: int, people: People, *, years: int = 10, archive_after_days: int = 400
) -> tuple[float, dict[int, int]]:
    """``events`` events over ``years`` years, the history of the approved officers, archived as the bot does.

    Year after year, the year's e-tickets are written, then the archive pass moves every ticket issued
    more than ``archive_after_days`` before the year's end (``storage.repositories.TicketArchiveRepository``,
    what ``services.archive.archive_due`` runs); a last pass runs as of now. Returns the seconds
    taken and how many tickets each year's archive holds.
    """
    started = time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    year = timedelta(days=365)
    began = now - years * year
    db = await Database.open(data_dir)
    try:
        writer = _Writer(db)
        ops = [db.packages.put(_package(code, people.poc, began)) for code in AGENCY_CODES]
        officers = _agency_officers(people, began)
        ops += [db.officers.put(officer) for officer in officers]
        ops.append(db.subscriptions.put(BENCH_AGENCY, people.agency_channel, people.poc, began))
        await db.commit(ops)
        approved = [(code, number) for code in AGENCY_CODES for number in APPROVED_NUMBERS]
        per_year = events // 2 // years
        spacing = (year - timedelta(days=12)) / max(per_year, 1)
        ticket = 0
        for n in range(years):
            opened = began + n * year + timedelta(days=11)
            for t in range(per_year):
                code, number = approved[ticket % len(approved)]
                await writer.ticket(_ticket(f"history-{ticket}", f"H-{ticket}", code, number, opened + t * spacing))
                ticket += 1
            await writer.flush()
            await _archive(db, began + (n + 1) * year - timedelta(days=archive_after_days))
        await writer.finish(officers)
        await _archive(db, now - timedelta(days=archive_after_days))
        held = await db.archive.years()
    finally:
        await db.close()
    return time.perf_counter() - started, held


async def _archive(db: Database, issued_before: datetime) -> None:
    """The archive pass as of a moment (no officer of the history is in monitoring), 10,000 tickets a move."""
    keys = db.archive.ticket_keys()
    for first in range(0, len(keys), 10_000):
        bundles = db.archive.due(keys[first : first + 10_000], issued_before, set())
        if bundles:
            await db.archive.move(bundles)
