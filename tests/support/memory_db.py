"""In-memory repositories behind services/ports.py, for unit tests of the use cases.

Plain dicts, no engine, no files: a second implementation of the Protocols, so the use cases are
tested against the interfaces and not against the embedded store. ``commit`` applies a use case's
changes all at once, or none of them when ``fail_next_commit`` is set (a full disk).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.readiness import OfficerFigures
from domain.records import AuditEntry, Incident, IncidentStatus, Officer, OfficerState, Package, TicketEvent
from domain.tickets import TicketState, TicketSummary
from services.notices import Content, CopiesUpdate, Notice
from storage.errors import StorageUnavailable
from storage.leases import SingleProcessLeases


@dataclass(frozen=True)
class Put:
    """A pending write: ``table[key] = value``."""

    table: dict[Any, Any]
    key: Any
    value: Any

    def apply(self) -> None:
        self.table[self.key] = self.value


@dataclass(frozen=True)
class Puts:
    """Several pending writes that one repository call makes together."""

    puts: tuple[Put, ...]

    def apply(self) -> None:
        for put in self.puts:
            put.apply()


class Packages:
    def __init__(self) -> None:
        self.rows: dict[str, Package] = {}

    def get(self, judiciary_code: str) -> Package | None:
        return self.rows.get(judiciary_code)

    def all(self) -> list[Package]:
        return list(self.rows.values())

    def for_poc(self, aad_id: str) -> list[Package]:
        return [p for p in self.rows.values() if p.poc.aad_id == aad_id.lower()]

    async def settled(self, judiciary_code: str) -> None:
        return None  # every commit here is durable at once

    def put(self, package: Package) -> Put:
        return Put(self.rows, package.judiciary_code, package)


class Officers:
    def __init__(self) -> None:
        self.rows: dict[str, Officer] = {}

    def get(self, judiciary_code: str, officer_number: str) -> Officer | None:
        return self.rows.get(f"{judiciary_code}:{officer_number}")

    def of_agency(self, judiciary_code: str) -> list[Officer]:
        return [o for o in self.rows.values() if o.judiciary_code == judiciary_code]

    def by_number(self, officer_number: str) -> list[Officer]:
        return [o for o in self.rows.values() if o.officer_number == officer_number]

    def in_state(self, state: OfficerState) -> list[Officer]:
        return [o for o in self.rows.values() if o.state is state]

    def all(self) -> list[Officer]:
        return list(self.rows.values())

    async def settled(self, judiciary_code: str, officer_number: str) -> None:
        return None  # every commit here is durable at once

    def put(self, officer: Officer) -> Put:
        return Put(self.rows, officer.key, officer)


class TicketEvents:
    def __init__(self) -> None:
        self.rows: dict[str, TicketEvent] = {}

    def seen(self, event_id: str) -> bool:
        return event_id in self.rows

    def get(self, event_id: str) -> TicketEvent | None:
        return self.rows.get(event_id)

    def of_ticket(self, ticket_key: str) -> list[TicketEvent]:
        return [e for e in self.rows.values() if e.ticket_key == ticket_key]

    def ticket_keys(self) -> list[str]:
        return list(dict.fromkeys(e.ticket_key for e in self.rows.values()))

    def of_officer(self, officer_key: str) -> list[TicketEvent]:
        return [e for e in self.rows.values() if e.officer_key == officer_key]

    async def settled(self, *event_ids: str) -> None:
        return None  # every commit here is durable at once

    def put(self, event: TicketEvent) -> Put:
        return Put(self.rows, event.event_id, event)


class Incidents:
    def __init__(self) -> None:
        self.rows: dict[str, Incident] = {}

    def get(self, incident_id: str) -> Incident | None:
        return self.rows.get(incident_id)

    def all(self) -> list[Incident]:
        return list(self.rows.values())

    def of_officer(self, officer_key: str) -> list[Incident]:
        return [i for i in self.rows.values() if i.officer_key == officer_key]

    def of_ticket(self, ticket_key: str) -> list[Incident]:
        return [i for i in self.rows.values() if i.ticket_key == ticket_key]

    def open(self, judiciary_code: str | None = None) -> list[Incident]:
        return [
            i
            for i in self.rows.values()
            if i.status is IncidentStatus.OPEN and judiciary_code in (None, i.judiciary_code)
        ]

    def raised_since(self, since: datetime, judiciary_code: str | None = None) -> list[Incident]:
        found = [i for i in self.rows.values() if i.raised_at >= since and judiciary_code in (None, i.judiciary_code)]
        return sorted(found, key=lambda incident: incident.raised_at)

    async def settled(self, incident_id: str) -> None:
        return None  # every commit here is durable at once

    def open_of_officer(self, officer_key: str) -> list[Incident]:
        return [i for i in self.rows.values() if i.officer_key == officer_key and i.is_open]

    def count_of_officer(self, officer_key: str) -> int:
        return sum(1 for i in self.rows.values() if i.officer_key == officer_key)

    def open_count_of_officer(self, officer_key: str) -> int:
        return len(self.open_of_officer(officer_key))

    def put(self, incident: Incident) -> Put:
        return Put(self.rows, incident.id, incident)


class TicketStates:
    def __init__(self) -> None:
        self.rows: dict[str, TicketState] = {}
        self.marks: dict[str, datetime] = {}

    def get(self, ticket_key: str) -> TicketState | None:
        return self.rows.get(ticket_key)

    def has(self, ticket_key: str) -> bool:
        return ticket_key in self.rows

    def of_officer(self, officer_key: str) -> list[TicketState]:
        return [s for s in self.rows.values() if s.officer_key == officer_key]

    def summaries_of(self, officer_key: str) -> list[TicketSummary]:
        return [s.summary() for s in self.of_officer(officer_key)]

    def put(self, state: TicketState) -> Put:
        return Put(self.rows, state.key, state)

    def backfilled(self) -> bool:
        return "backfilled" in self.marks

    def mark_backfilled(self, at: datetime) -> Put:
        return Put(self.marks, "backfilled", at)


class Figures:
    def __init__(self) -> None:
        self.rows: dict[str, OfficerFigures] = {}

    def get(self, officer_key: str) -> OfficerFigures | None:
        return self.rows.get(officer_key)

    def put(self, figures: OfficerFigures) -> Put:
        return Put(self.rows, figures.key, figures)


class Subscriptions:
    JB = "jb"

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}

    def conversation_for(self, target: str) -> str | None:
        return self.rows.get(target)

    def put(self, target: str, conversation_id: str, by: str, at: datetime) -> Put:
        return Put(self.rows, target, conversation_id)


class Conversations:
    def __init__(self) -> None:
        self.welcomed_at: dict[str, datetime] = {}

    def get(self, conversation_id: str) -> None:
        return None

    def personal_chat_of(self, aad_id: str) -> None:
        return None

    def welcomed(self, conversation_id: str) -> bool:
        return conversation_id in self.welcomed_at

    def mark_welcomed(self, conversation_id: str, at: datetime) -> Put:
        return Put(self.welcomed_at, conversation_id, at)

    async def save(self, record: Any) -> None:
        raise AssertionError("the use cases do not save conversation references")


class AuditLog:
    def __init__(self) -> None:
        self.rows: dict[str, AuditEntry] = {}

    def of_target(self, target: str) -> list[AuditEntry]:
        return [e for e in self.rows.values() if e.target == target]

    def between(self, start: datetime, end: datetime) -> list[AuditEntry]:
        return sorted((e for e in self.rows.values() if start <= e.at < end), key=lambda e: e.at)

    def put(self, entry: AuditEntry) -> Put:
        return Put(self.rows, entry.id, entry)

    def actions(self) -> list[str]:
        """Every audited action, oldest first."""
        return [entry.action for entry in self.rows.values()]


class ReadinessMemory:
    def __init__(self) -> None:
        self.rows: dict[str, bool] = {}
        self.at: dict[str, datetime] = {}

    def was_ready(self, officer_key: str) -> bool:
        return self.rows.get(officer_key, False)

    def ready_keys(self) -> list[str]:
        return [key for key, ready in self.rows.items() if ready]

    def since(self, officer_key: str) -> datetime | None:
        return self.at.get(officer_key)

    def put(self, officer_key: str, ready: bool, at: datetime) -> Puts:
        return Puts((Put(self.rows, officer_key, ready), Put(self.at, officer_key, at)))


class ClockLog:
    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, datetime]] = {}

    def done(self, key: str) -> bool:
        return key in self.rows

    def put(self, key: str, kind: str, at: datetime) -> Put:
        return Put(self.rows, key, (kind, at))

    def kinds(self) -> list[str]:
        """The kinds of occurrence sent, in order."""
        return [kind for kind, _ in self.rows.values()]


class Outbox:
    """The use cases never read the outbox themselves (the notifier does); kept empty here."""

    def next_seq(self) -> int:
        return 0

    def get(self, notice_id: str) -> None:
        return None

    def pending(self) -> list[Any]:
        return []

    def failed(self) -> list[Any]:
        return []

    def of_subject(self, subject: str) -> list[Any]:
        return []

    def waiting(self, reader: str | None = None) -> list[Any]:
        return []

    def put(self, entry: Any) -> Put:
        raise AssertionError("the use cases queue notices through the notifier, not the outbox")


@dataclass(frozen=True)
class ArchivedTicket:
    state: TicketState
    events: list[TicketEvent]


class TicketArchive:
    """The archive as a dict beside the tickets: ``move`` takes tickets (with their events) out of the others."""

    def __init__(self, states: TicketStates, events: TicketEvents, incidents: Incidents) -> None:
        self.rows: dict[str, ArchivedTicket] = {}
        self._states, self._events, self._incidents = states, events, incidents

    def ticket_keys(self) -> list[str]:
        return list(self._states.rows)

    def due(self, ticket_keys: Iterable[str], issued_before: datetime, keep_officers: set[str]) -> list[str]:
        return [
            key
            for key in ticket_keys
            if (state := self._states.rows.get(key)) is not None
            and state.officer_key not in keep_officers
            and state.summary().issue_time < issued_before
            and not any(incident.is_open for incident in self._incidents.of_ticket(key))
        ]

    async def move(self, bundles: Sequence[str]) -> int:
        for key in bundles:
            events = self._events.of_ticket(key)
            self.rows[key] = ArchivedTicket(self._states.rows.pop(key), events)
            for event in events:
                del self._events.rows[event.event_id]
        return len(bundles)

    async def read(self, ticket_keys: Iterable[str]) -> dict[str, ArchivedTicket]:
        return {key: self.rows[key] for key in ticket_keys if key in self.rows}

    async def summaries_of(self, since: Mapping[str, datetime]) -> dict[str, list[TicketSummary]]:
        return {key: [t.state.summary() for t in self.rows.values() if t.state.officer_key == key] for key in since}

    async def years(self) -> dict[int, int]:
        years: dict[int, int] = {}
        for ticket in self.rows.values():
            year = ticket.state.summary().issue_time.year
            years[year] = years.get(year, 0) + 1
        return dict(sorted(years.items()))


@dataclass
class MemoryDatabase:
    """Every repository in dicts; ``commit`` applies changes atomically."""

    packages: Packages = field(default_factory=Packages)
    officers: Officers = field(default_factory=Officers)
    events: TicketEvents = field(default_factory=TicketEvents)
    incidents: Incidents = field(default_factory=Incidents)
    ticket_states: TicketStates = field(default_factory=TicketStates)
    figures: Figures = field(default_factory=Figures)
    subscriptions: Subscriptions = field(default_factory=Subscriptions)
    conversations: Conversations = field(default_factory=Conversations)
    outbox: Outbox = field(default_factory=Outbox)
    audit: AuditLog = field(default_factory=AuditLog)
    readiness: ReadinessMemory = field(default_factory=ReadinessMemory)
    clocks: ClockLog = field(default_factory=ClockLog)
    leases: SingleProcessLeases = field(default_factory=SingleProcessLeases)
    commits: int = 0
    catch_ups: int = 0
    fail_next_commit: bool = False

    def __post_init__(self) -> None:
        self.archive = TicketArchive(self.ticket_states, self.events, self.incidents)

    async def commit(self, changes: Iterable[Any]) -> None:
        pending = list(changes)
        if self.fail_next_commit:
            self.fail_next_commit = False
            raise StorageUnavailable("disk full")
        for change in pending:
            change.apply()
        self.commits += 1

    async def check_writable(self) -> str | None:
        return None

    async def catch_up(self) -> None:
        self.catch_ups += 1

    @property
    def recovered(self) -> str | None:
        return None

    async def seed(self, *records: Package | Officer) -> None:
        """Store records directly, as if an earlier use case had."""
        await self.commit([self.packages.put(r) if isinstance(r, Package) else self.officers.put(r) for r in records])


@dataclass
class RecordingNotifier:
    """A notifier whose "outbox entries" are the notices themselves, kept only when the commit succeeds."""

    queued: dict[int, Notice | CopiesUpdate] = field(default_factory=dict)
    shown: list[str | None] = field(default_factory=list)
    woken: int = 0

    @property
    def notices(self) -> list[Notice]:
        """The committed notices, in order."""
        return [item for item in self.queued.values() if isinstance(item, Notice)]

    @property
    def updates(self) -> list[CopiesUpdate]:
        """The committed updates of card copies, in order."""
        return [item for item in self.queued.values() if isinstance(item, CopiesUpdate)]

    def changes_for(
        self, notices: Sequence[Notice], updates: Sequence[CopiesUpdate], *, now: datetime, shown: str | None = None
    ) -> list[Any]:
        self.shown.append(shown)
        start = len(self.queued) + sum(1 for _ in self.shown)
        return [Put(self.queued, start * 1000 + n, item) for n, item in enumerate([*notices, *updates])]

    def track(
        self,
        subject: str,
        conversation_id: str,
        activity_id: str | None,
        content: Content,
        *,
        summary: str,
        now: datetime,
    ) -> list[Any]:
        return []

    def release(self, audiences: Sequence[Any], *, now: datetime) -> list[Any]:
        return []

    def waiting_readers(self) -> list[Any]:
        return []

    def reaches(self, audience: Any) -> bool:
        return True

    def wake(self) -> None:
        self.woken += 1
