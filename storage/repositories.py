"""Small repositories over a document store, one per kind of record.

The store is the embedded one (``storage.engine.Store``, ``Database.open``) or PostgreSQL
(``storage.postgres.PgStore``, ``Database.connect``), behind ``storage.documents.DocumentStore``.
Reads never raise for a missing record: they return ``None`` or an empty list. Writes return the
store's durability future; awaiting it raises ``StorageUnavailable`` when the write could not be
made durable, and on PostgreSQL ``ConflictError`` (``StaleWrite``) when another replica changed one
of its records first; in either case nothing of it is kept. Reads see a write at once, before it is durable;
``settled(...)`` waits until what a read showed is on disk (and raises ``StorageUnavailable`` if the
write that produced it failed and was undone), for answers such as "duplicate" or "already done".
A repository builds ``Op`` lists so that one use case can commit several records atomically with
``Database.commit``.

Records are pydantic models (domain/records.py and ``ConversationRecord``, ``Notice`` here): a
repository reads a stored document with ``Model.model_validate(doc)`` and writes
``record.model_dump(mode="json")``. Filters on a stored field look at the raw documents, so only
the records returned are converted.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from domain.readiness import OfficerFigures
from domain.records import (
    AuditEntry,
    Incident,
    IncidentStatus,
    Instant,
    Officer,
    OfficerState,
    Package,
    Record,
    TicketEvent,
    instant_from_str,
    instant_to_str,
    ticket_key,
)
from domain.tickets import TicketState, TicketSummary
from storage.documents import Bundle, DocumentStore
from storage.engine import Delete, Op, Put, Store
from storage.errors import decide_again_on_conflict
from storage.leases import SingleProcessLeases
from storage.pg_leases import PgLeases
from storage.postgres import POLL_EVERY_SECONDS, PgStore

R = TypeVar("R", bound=Record)


class _Parsed(Generic[R]):
    """Records parsed from stored documents, each kept while the store holds that very document.

    The store replaces a document on every write (never changes one in place), so a record parsed
    from the document now stored under its key is still that document's record. For the few, often
    read records (packages, officers, their figures): /status and the hourly re-check read every officer.
    """

    def __init__(self, model: type[R]) -> None:
        self._model = model
        self._parsed: dict[str, tuple[dict[str, Any], R]] = {}

    def read(self, key: str, doc: dict[str, Any]) -> R:
        """The record of ``doc``, stored under ``key``."""
        found = self._parsed.get(key)
        if found is not None and found[0] is doc:
            return found[1]
        record = self._model.model_validate(doc)
        self._parsed[key] = (doc, record)
        return record


logger = logging.getLogger(__name__)

INDEXES: dict[str, list[str]] = {
    "officers": ["judiciary_code", "officer_number"],
    "ticket_events": ["ticket_key", "officer_key"],
    "incidents": ["officer_key", "ticket_key", "status", "officer_status"],
    "ticket_states": ["officer_key"],
    "conversations": ["aad_id"],
    "outbox": ["status", "subject"],
    "audit": ["target"],
    "readiness": ["ready"],
    "clocks": ["kind"],
}


PACKED: tuple[str, ...] = ("ticket_events",)
"""Tables kept in memory as JSON text (``storage.documents.WorkingSet``): the biggest, read a few docs at a time."""


class PackageRepository:
    """Information Packages by Judiciary Code."""

    table = "packages"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._parsed = _Parsed(Package)

    def get(self, judiciary_code: str) -> Package | None:
        """The package of that Judiciary Code, or None."""
        doc = self._store.get(self.table, judiciary_code)
        return None if doc is None else self._parsed.read(judiciary_code, doc)

    def all(self) -> list[Package]:
        """Every package, in the order they were submitted."""
        return [self._parsed.read(doc["judiciary_code"], doc) for doc in self._store.all(self.table)]

    def for_poc(self, aad_id: str) -> list[Package]:
        """The packages whose Point-of-Contact is this person (one person may be PoC of several)."""
        wanted = aad_id.lower()
        return [package for package in self.all() if package.poc.aad_id == wanted]

    def settled(self, judiciary_code: str) -> asyncio.Future[None]:
        """Resolves once the package as read now is durable; fails with StorageUnavailable if it never will be."""
        return self._store.settled(self.table, judiciary_code)

    def put(self, package: Package) -> Op:
        """The op that stores this package."""
        return Put(self.table, package.judiciary_code, package.model_dump(mode="json"))


class OfficerRepository:
    """Officers' memberships, one per (Judiciary Code, officer number)."""

    table = "officers"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._parsed = _Parsed(Officer)

    def _read(self, doc: dict[str, Any]) -> Officer:
        return self._parsed.read(f"{doc['judiciary_code']}:{doc['officer_number']}", doc)

    def get(self, judiciary_code: str, officer_number: str) -> Officer | None:
        """One membership, or None."""
        doc = self._store.get(self.table, f"{judiciary_code}:{officer_number}")
        return None if doc is None else self._read(doc)

    def of_agency(self, judiciary_code: str) -> list[Officer]:
        """An agency's officers in the order they were added."""
        return [self._read(doc) for doc in self._store.find(self.table, "judiciary_code", judiciary_code)]

    def by_number(self, officer_number: str) -> list[Officer]:
        """Every agency's membership of this officer number (part-time officers serve several)."""
        return [self._read(doc) for doc in self._store.find(self.table, "officer_number", officer_number)]

    def in_state(self, state: OfficerState) -> list[Officer]:
        """Every officer in that state, across agencies."""
        return [self._read(doc) for doc in self._store.all(self.table) if doc["state"] == state.value]

    def all(self) -> list[Officer]:
        """Every membership."""
        return [self._read(doc) for doc in self._store.all(self.table)]

    def settled(self, judiciary_code: str, officer_number: str) -> asyncio.Future[None]:
        """Resolves once the membership as read now is durable; fails with StorageUnavailable if it never will be."""
        return self._store.settled(self.table, f"{judiciary_code}:{officer_number}")

    def put(self, officer: Officer) -> Op:
        """The op that stores this membership."""
        return Put(self.table, officer.key, officer.model_dump(mode="json"))


class TicketEventRepository:
    """Ticket events by event id, indexed by ticket and by officer membership."""

    table = "ticket_events"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def seen(self, event_id: str) -> bool:
        """Whether an event with this id was recorded before (the idempotency key)."""
        return self._store.get(self.table, event_id) is not None

    def get(self, event_id: str) -> TicketEvent | None:
        """The event recorded with this id, or None."""
        doc = self._store.get(self.table, event_id)
        return None if doc is None else TicketEvent.model_validate(doc)

    def ticket_keys(self) -> list[str]:
        """The key of every ticket with a recorded event, in the order first seen (a scan of every event)."""
        return list(dict.fromkeys(doc["ticket_key"] for doc in self._store.all(self.table)))

    def of_ticket(self, ticket_key: str) -> list[TicketEvent]:
        """Every recorded event of one ticket, in the order they were applied."""
        return [TicketEvent.model_validate(doc) for doc in self._store.find(self.table, "ticket_key", ticket_key)]

    def of_officer(self, officer_key: str) -> list[TicketEvent]:
        """Every recorded event of one officer's membership, in the order they were applied."""
        return [TicketEvent.model_validate(doc) for doc in self._store.find(self.table, "officer_key", officer_key)]

    def count(self) -> int:
        """How many events are stored."""
        return self._store.count(self.table)

    def settled(self, *event_ids: str) -> asyncio.Future[None]:
        """Resolves once these events, as ``seen`` reports them now, are durable.

        Fails with StorageUnavailable if the write that recorded one of them failed (it was undone).
        """
        return self._store.settled(self.table, *event_ids)

    def put(self, event: TicketEvent) -> Op:
        """The op that records this event; fields it does not carry are left out (100,000 a year: memory counts)."""
        doc = event.model_dump(mode="json", exclude_none=True) | {
            "ticket_key": event.ticket_key,
            "officer_key": event.officer_key,
        }
        return Put(self.table, event.event_id, doc)


class IncidentRepository:
    """Incidents by id, indexed by officer, ticket, agency and status."""

    table = "incidents"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def get(self, incident_id: str) -> Incident | None:
        """One incident, or None."""
        doc = self._store.get(self.table, incident_id)
        return None if doc is None else Incident.model_validate(doc)

    def all(self) -> list[Incident]:
        """Every incident, in the order raised."""
        return [Incident.model_validate(doc) for doc in self._store.all(self.table)]

    def of_officer(self, officer_key: str) -> list[Incident]:
        """An officer membership's incidents, oldest first."""
        return [Incident.model_validate(doc) for doc in self._store.find(self.table, "officer_key", officer_key)]

    def of_ticket(self, ticket_key: str) -> list[Incident]:
        """One ticket's incidents, oldest first."""
        return [Incident.model_validate(doc) for doc in self._store.find(self.table, "ticket_key", ticket_key)]

    def open(self, judiciary_code: str | None = None) -> list[Incident]:
        """Open incidents, of one agency or of all."""
        docs = self._store.find(self.table, "status", IncidentStatus.OPEN.value)
        return [Incident.model_validate(doc) for doc in docs if judiciary_code in (None, doc["judiciary_code"])]

    def raised_since(self, since: datetime, judiciary_code: str | None = None) -> list[Incident]:
        """Incidents raised at or after ``since`` (any status), of one agency or of all, oldest first."""
        floor = instant_to_str(since)  # stored instants are ISO strings in UTC, so they compare as text
        docs = [
            doc
            for doc in self._store.all(self.table)
            if doc["raised_at"] >= floor and judiciary_code in (None, doc["judiciary_code"])
        ]
        return sorted((Incident.model_validate(doc) for doc in docs), key=lambda incident: incident.raised_at)

    def settled(self, incident_id: str) -> asyncio.Future[None]:
        """Resolves once the incident as read now is durable; fails with StorageUnavailable if it never will be."""
        return self._store.settled(self.table, incident_id)

    def open_of_officer(self, officer_key: str) -> list[Incident]:
        """An officer membership's open incidents, oldest first, through the officer-and-status index."""
        docs = self._store.find(self.table, "officer_status", officer_status(officer_key, IncidentStatus.OPEN))
        return [Incident.model_validate(doc) for doc in docs]

    def count_of_officer(self, officer_key: str) -> int:
        """How many incidents an officer membership has, whatever their status (nothing is parsed)."""
        return len(self._store.find(self.table, "officer_key", officer_key))

    def open_count_of_officer(self, officer_key: str) -> int:
        """How many open incidents an officer membership has (nothing is parsed)."""
        return len(self._store.find(self.table, "officer_status", officer_status(officer_key, IncidentStatus.OPEN)))

    def put(self, incident: Incident) -> Op:
        """The op that stores this incident."""
        doc = incident.model_dump(mode="json") | {
            "officer_key": incident.officer_key,
            "ticket_key": incident.ticket_key,
            "officer_status": officer_status(incident.officer_key, incident.status),
        }
        return Put(self.table, incident.id, doc)

    def reindex_ops(self) -> list[Op]:
        """Ops giving incidents stored before the officer-and-status index their index field (at open)."""
        return [
            Put(
                self.table,
                key,
                doc | {"officer_status": officer_status(doc["officer_key"], IncidentStatus(doc["status"]))},
            )
            for key, doc in zip(self._store.keys(self.table), self._store.all(self.table), strict=True)
            if "officer_status" not in doc
        ]


def officer_status(officer_key: str, status: IncidentStatus) -> str:
    """The value of an incident's officer-and-status index field (``9000:A1234|open``)."""
    return f"{officer_key}|{status.value}"


class TicketStateRepository:
    """Each ticket's state (key: ticket key), indexed by the officer membership it counts for now.

    Stored in ``TicketState``'s compact stored form (its officer key is the index field), without
    the fields that hold their default (a ticket state is one of the most numerous documents:
    50,000 a year). Rebuilding an officer's figures reads each state's summary straight from that
    form (``TicketSummary.of_stored``), without building the states.
    """

    table = "ticket_states"
    derived_table = "derived"
    _BACKFILL = "ticket_states"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def get(self, ticket_key: str) -> TicketState | None:
        """One ticket's state, or None."""
        doc = self._store.get(self.table, ticket_key)
        return None if doc is None else TicketState.model_validate(doc)

    def has(self, ticket_key: str) -> bool:
        """Whether the ticket has a stored state (nothing is parsed)."""
        return self._store.get(self.table, ticket_key) is not None

    def of_officer(self, officer_key: str) -> list[TicketState]:
        """The states of the tickets credited to one officer membership now."""
        return [TicketState.model_validate(doc) for doc in self._store.find(self.table, "officer_key", officer_key)]

    def summaries_of(self, officer_key: str) -> list[TicketSummary]:
        """What readiness reads of the tickets credited to one officer membership now (no state is built)."""
        code = officer_key.partition(":")[0]
        return [
            TicketSummary.of_stored(ticket_key(code, doc["ticket_number"]), officer_key, doc)
            for doc in self._store.find(self.table, "officer_key", officer_key)
        ]

    def count(self) -> int:
        """How many tickets have a state."""
        return self._store.count(self.table)

    def put(self, state: TicketState) -> Op:
        """The op that stores this state."""
        doc = state.model_dump(mode="json", exclude_defaults=True)
        return Put(self.table, state.key, doc)

    def backfilled(self) -> bool:
        """Whether every ticket recorded before states existed has been given its state."""
        return self._store.get(self.derived_table, self._BACKFILL) is not None

    def mark_backfilled(self, at: datetime) -> Op:
        """The op that records every recorded ticket has its state."""
        return Put(self.derived_table, self._BACKFILL, {"at": instant_to_str(at)})


@dataclass(frozen=True)
class ArchivedTicket:
    """A ticket read back from the archive: its state and its events as archived."""

    state: TicketState
    events: list[TicketEvent]


class TicketArchiveRepository:
    """Closed tickets of long ago, each with its events, moved into the store's archive (one bundle a ticket).

    A bundle's year is the ticket's year of issue (UTC). Its incidents stay in memory: they are few,
    and an officer's incident count and the programme's exports read them.
    """

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def ticket_keys(self) -> list[str]:
        """The key of every ticket in memory (a list: archiving can look through it in slices)."""
        return self._store.keys(TicketStateRepository.table)

    def due(self, ticket_keys: Iterable[str], issued_before: datetime, keep_officers: set[str]) -> list[Bundle]:
        """Those of ``ticket_keys`` to archive, as bundles: issued before ``issued_before``, every incident closed.

        Tickets credited to a membership in ``keep_officers`` stay (officers in monitoring: their
        readiness reads every ticket since monitoring began). Only the states' summaries are parsed.
        """
        states, events, incidents = TicketStateRepository.table, TicketEventRepository.table, IncidentRepository.table
        found: list[Bundle] = []
        for key in ticket_keys:
            doc = self._store.get(states, key)
            if doc is None or doc["officer_key"] in keep_officers:
                continue
            summary = TicketSummary.of_stored(key, doc["officer_key"], doc)
            if summary.issue_time >= issued_before:
                continue
            if any(
                found["status"] == IncidentStatus.OPEN.value for found in self._store.find(incidents, "ticket_key", key)
            ):
                continue
            ticket_events = {event["event_id"]: event for event in self._store.find(events, "ticket_key", key)}
            found.append(Bundle(key, summary.issue_time.year, {states: {key: doc}, events: ticket_events}))
        return found

    async def move(self, bundles: Sequence[Bundle]) -> int:
        """Archive the bundles; how many left memory (one changed since ``due`` stays)."""
        return await self._store.archive(bundles)

    async def read(self, ticket_keys: Iterable[str]) -> dict[str, ArchivedTicket]:
        """The archived tickets among ``ticket_keys``, their states and events parsed."""
        found = await self._store.read_archived(ticket_keys)
        tickets: dict[str, ArchivedTicket] = {}
        for key, bundle in found.items():
            state_doc = bundle.docs.get(TicketStateRepository.table, {}).get(key)
            if state_doc is None:
                continue
            events = [
                TicketEvent.model_validate(doc) for doc in bundle.docs.get(TicketEventRepository.table, {}).values()
            ]
            tickets[key] = ArchivedTicket(TicketState.model_validate(state_doc), events)
        return tickets

    async def years(self) -> dict[int, int]:
        """How many tickets each year's archive holds, oldest year first."""
        return await self._store.archive_years()

    async def summaries_of(self, since: Mapping[str, datetime]) -> dict[str, list[TicketSummary]]:
        """What readiness reads of the archived tickets credited to each membership (key -> issued since), in one pass.

        Reads each year's archive once, from the earliest year asked for; for one membership it parses
        only the lines that name it.
        """
        states = TicketStateRepository.table
        found: dict[str, list[TicketSummary]] = {key: [] for key in since}
        if not since:
            return found
        first_year = min(moment.year for moment in since.values())
        named = json.dumps(next(iter(since))) if len(since) == 1 else None
        for year in await self._store.archive_years():
            if year < first_year:
                continue
            async for bundle in self._store.archived(year, containing=named):
                doc = bundle.docs.get(states, {}).get(bundle.key)
                if doc is not None and doc.get("officer_key") in found:
                    officer_key = doc["officer_key"]
                    found[officer_key].append(TicketSummary.of_stored(bundle.key, officer_key, doc))
        return found


class FiguresRepository:
    """What readiness needs of each officer membership's e-tickets (key: officer key)."""

    table = "officer_figures"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._parsed = _Parsed(OfficerFigures)

    def get(self, officer_key: str) -> OfficerFigures | None:
        """One membership's figures, or None."""
        doc = self._store.get(self.table, officer_key)
        return None if doc is None else self._parsed.read(officer_key, doc)

    def put(self, figures: OfficerFigures) -> Op:
        """The op that stores these figures."""
        return Put(self.table, figures.key, figures.model_dump(mode="json"))


class ConversationRecord(Record):
    """Where the bot can write proactively: a serialized botbuilder ConversationReference and its kind."""

    conversation_id: str
    kind: str  # "personal" | "groupChat" | "channel"
    reference: dict[str, Any]
    aad_id: str | None = None  # the user, for personal chats
    tenant_id: str | None = None
    team_id: str | None = None
    name: str | None = None  # the team or channel name, shown in /status


class ConversationRepository:
    """Conversation references, saved from install events and incoming messages."""

    table = "conversations"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def get(self, conversation_id: str) -> ConversationRecord | None:
        """One conversation, or None."""
        doc = self._store.get(self.table, conversation_id)
        return None if doc is None else ConversationRecord.model_validate(doc)

    def personal_chat_of(self, aad_id: str) -> ConversationRecord | None:
        """The newest 1:1 chat the bot has with this person, or None."""
        records = [
            ConversationRecord.model_validate(doc) for doc in self._store.find(self.table, "aad_id", aad_id.lower())
        ]
        personal = [record for record in records if record.kind == "personal"]
        return personal[-1] if personal else None

    def welcomed(self, conversation_id: str) -> bool:
        """Whether the bot already sent its welcome card in this conversation."""
        return self._store.get("welcomed", conversation_id) is not None

    def mark_welcomed(self, conversation_id: str, at: datetime) -> Op:
        """The op that records the welcome card was sent here."""
        return Put("welcomed", conversation_id, {"at": instant_to_str(at)})

    def save(self, record: ConversationRecord) -> asyncio.Future[None]:
        """Store the reference; a reference equal to the stored one touches no file."""
        return self._store.write([Put(self.table, record.conversation_id, record.model_dump(mode="json"))])


class SubscriptionRepository:
    """Which conversation receives an agency's alerts (key: Judiciary Code) or the JB's (key: "jb")."""

    table = "subscriptions"
    JB = "jb"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def conversation_for(self, target: str) -> str | None:
        """The conversation id subscribed to this target, or None."""
        doc = self._store.get(self.table, target)
        return None if doc is None else doc["conversation_id"]

    def put(self, target: str, conversation_id: str, by: str, at: datetime) -> Op:
        """The op that routes target's notices to conversation_id."""
        return Put(self.table, target, {"conversation_id": conversation_id, "by": by, "at": instant_to_str(at)})


class Notice(Record):
    """A message the bot owes a conversation: stored before it is sent, retried until delivered.

    ``action`` is "send" (a new message) or "update" (replace the card of message ``activity_id``).
    ``subject`` ties the copies of one alert together (e.g. ``incident:<id>``) so that all of
    them can be updated when it is resolved. A notice whose reader has no conversation with the bot
    yet is "waiting" (no ``conversation_id``) for ``waiting_for`` (``jb`` or ``person:<object id>``).
    ``reply_to``, in a channel, is the activity id of the message whose thread this one is (or was
    sent) in: the sender addresses the conversation ``<channel id>;messageid=<reply_to>``.
    """

    id: str
    seq: int
    conversation_id: str
    card: dict[str, Any]
    created_at: Instant
    action: str = "send"
    summary: str = ""
    subject: str | None = None
    status: str = "pending"  # "pending" | "sent" | "failed" | "waiting"
    attempts: int = 0
    next_attempt_at: Instant | None = None
    activity_id: str | None = None
    error: str | None = None
    finished_at: Instant | None = None
    waiting_for: str | None = None
    reply_to: str | None = None


def _readable(docs: Iterable[dict[str, Any]]) -> list[Notice]:
    """The outbox entries among ``docs`` that read as entries; one that does not (a store started with
    ``--recover`` may hold a document whose damage no check could see) is logged by id and left out, so
    one damaged entry cannot stop every other notice."""
    notices: list[Notice] = []
    for doc in docs:
        try:
            notices.append(Notice.model_validate(doc))
        except ValidationError:
            logger.error("outbox entry id=%s is unreadable and is left out", doc.get("id"))
    return notices


class OutboxRepository:
    """Notices owed to conversations, indexed by status and by subject."""

    table = "outbox"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._last_seq = max((doc["seq"] for doc in store.all(self.table)), default=0)

    def next_seq(self) -> int:
        """A number that orders notices by when they were queued (survives restarts).

        Above every notice this replica knows of, its own and those other replicas queued (as caught up),
        so a notice queued after another replica's follows it in its conversation.
        """
        newest = self._store.newest(self.table)
        if newest is not None and isinstance(newest.get("seq"), int):
            self._last_seq = max(self._last_seq, newest["seq"])
        self._last_seq += 1
        return self._last_seq

    def get(self, notice_id: str) -> Notice | None:
        """One notice, or None."""
        doc = self._store.get(self.table, notice_id)
        return None if doc is None else Notice.model_validate(doc)

    def pending(self) -> list[Notice]:
        """Notices still to deliver, in the order they were queued."""
        notices = _readable(self._store.find(self.table, "status", "pending"))
        return sorted(notices, key=lambda notice: notice.seq)

    def failed(self) -> list[Notice]:
        """Notices that could not be delivered and will not be retried, oldest first."""
        notices = _readable(self._store.find(self.table, "status", "failed"))
        return sorted(notices, key=lambda notice: notice.seq)

    def waiting(self, reader: str | None = None) -> list[Notice]:
        """Notices kept for a reader with no conversation yet (``jb`` or ``person:<id>``; all when None)."""
        docs = self._store.find(self.table, "status", "waiting")
        notices = _readable(doc for doc in docs if reader in (None, doc.get("waiting_for")))
        return sorted(notices, key=lambda notice: notice.seq)

    def settled(self, notice_id: str) -> asyncio.Future[None]:
        """Resolves once the notice as read now is durable; fails (StorageUnavailable, ConflictError) if its write was undone."""
        return self._store.settled(self.table, notice_id)

    def count(self, status: str) -> int:
        """How many notices have this status (``pending``, ``waiting``, ``failed``, ``sent``); nothing is parsed."""
        return len(self._store.find(self.table, "status", status))

    def oldest_created(self, status: str) -> datetime | None:
        """When the oldest notice with this status was queued, or None when there is none (nothing is parsed)."""
        docs = self._store.find(self.table, "status", status)
        if not docs:
            return None
        oldest = min(docs, key=lambda doc: doc["seq"])
        return instant_from_str(oldest["created_at"])

    def of_subject(self, subject: str) -> list[Notice]:
        """Every notice about one subject (the copies of one alert), in the order queued."""
        notices = _readable(self._store.find(self.table, "subject", subject))
        return sorted(notices, key=lambda notice: notice.seq)

    def put(self, notice: Notice) -> Op:
        """The op that stores this notice."""
        return Put(self.table, notice.id, notice.model_dump(mode="json"))


class AuditRepository:
    """The audit log: who, what, when, before and after."""

    table = "audit"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def of_target(self, target: str) -> list[AuditEntry]:
        """Entries about one record (e.g. ``officer:9000:A1234``), oldest first."""
        return [AuditEntry.model_validate(doc) for doc in self._store.find(self.table, "target", target)]

    def between(self, start: datetime, end: datetime) -> list[AuditEntry]:
        """Entries made at or after ``start`` and before ``end``, oldest first.

        Stored instants are ISO strings in UTC of one shape, so they compare as text: only the entries
        inside the period are converted.
        """
        low, high = instant_to_str(start), instant_to_str(end)
        docs = [doc for doc in self._store.all(self.table) if low <= doc["at"] < high]
        return sorted((AuditEntry.model_validate(doc) for doc in docs), key=lambda entry: entry.at)

    def count(self) -> int:
        """How many entries there are."""
        return self._store.count(self.table)

    def put(self, entry: AuditEntry) -> Op:
        """The op that appends this entry."""
        return Put(self.table, entry.id, entry.model_dump(mode="json"))


class ReadinessRepository:
    """The last known readiness of each officer membership (key: officer key), so a change is noticed once."""

    table = "readiness"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def was_ready(self, officer_key: str) -> bool:
        """Whether the officer was ready at the last check (False when never checked)."""
        doc = self._store.get(self.table, officer_key)
        return bool(doc and doc["ready"])

    def ready_keys(self) -> list[str]:
        """The officer keys last seen ready."""
        return [doc["officer_key"] for doc in self._store.find(self.table, "ready", True)]

    def since(self, officer_key: str) -> datetime | None:
        """When the officer's last known readiness was recorded (None when never checked)."""
        doc = self._store.get(self.table, officer_key)
        return None if doc is None else instant_from_str(doc["at"])

    def put(self, officer_key: str, ready: bool, at: datetime) -> Op:
        """The op that remembers this officer's readiness as of ``at``."""
        return Put(self.table, officer_key, {"officer_key": officer_key, "ready": ready, "at": instant_to_str(at)})


class ClockRepository:
    """What the SOP's clocks already sent, by occurrence key (e.g. ``escalation:<incident>:7``)."""

    table = "clocks"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def done(self, key: str) -> bool:
        """Whether this occurrence was already sent."""
        return self._store.get(self.table, key) is not None

    def put(self, key: str, kind: str, at: datetime) -> Op:
        """The op that remembers this occurrence as sent at ``at``."""
        return Put(self.table, key, {"kind": kind, "at": instant_to_str(at)})


class StateRepository:
    """Raw documents for botbuilder's conversation and user state (with their eTags)."""

    table = "bot_state"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored document ``{"etag": str, "state": dict}`` or None."""
        return self._store.get(self.table, key)

    def put(self, key: str, doc: dict[str, Any]) -> Op:
        """The op that stores one state document."""
        return Put(self.table, key, doc)

    def delete(self, key: str) -> Op:
        """The op that deletes one state document."""
        return Delete(self.table, key)


class Database:
    """Every repository over one open store; ``commit`` writes a use case's ops atomically."""

    def __init__(self, store: DocumentStore, leases: SingleProcessLeases | PgLeases | None = None) -> None:
        self.store = store
        self.packages = PackageRepository(store)
        self.officers = OfficerRepository(store)
        self.events = TicketEventRepository(store)
        self.incidents = IncidentRepository(store)
        self.ticket_states = TicketStateRepository(store)
        self.archive = TicketArchiveRepository(store)
        self.figures = FiguresRepository(store)
        self.conversations = ConversationRepository(store)
        self.subscriptions = SubscriptionRepository(store)
        self.audit = AuditRepository(store)
        self.outbox = OutboxRepository(store)
        self.readiness = ReadinessRepository(store)
        self.clocks = ClockRepository(store)
        self.state = StateRepository(store)
        self.leases = leases or SingleProcessLeases()

    @classmethod
    async def open(
        cls, data_dir: Path, *, recover: bool = False, fsync: Callable[[int], None] | None = None
    ) -> Database:
        """Open (or create) the data under data_dir.

        Raises StorageDamaged when a file is damaged or missing (naming the file, the byte offset
        and what to do) unless ``recover`` is set, then the damage is set aside and ``recovered``
        says what; StorageError when another process holds the directory; StorageUnavailable when
        it cannot be read or written. ``fsync`` replaces the journal's ``os.fsync`` (tests slow it
        down or hold it open).
        """
        return await cls._ready(await Store.open(data_dir, INDEXES, recover=recover, fsync=fsync, packed=PACKED))

    @classmethod
    async def connect(cls, database_url: str, *, poll_every: float = POLL_EVERY_SECONDS) -> Database:
        """Open the PostgreSQL database at ``database_url`` (``postgresql://…``), migrating its schema first.

        Raises StorageUnavailable when it cannot be reached or fails (naming its host and database,
        never the URL's password), StorageError when its schema is one this code must not touch.
        ``poll_every``: seconds between looks for changes no notification announced (tests lengthen it).
        """
        store = await PgStore.open(database_url, INDEXES, poll_every=poll_every, packed=PACKED)
        return await cls._ready(store, PgLeases(database_url, store.pool))

    @classmethod
    async def _ready(cls, store: DocumentStore, leases: PgLeases | None = None) -> Database:
        """The database over an open store, its stored records brought up to this code's shape."""
        db = cls(store, leases)

        # incidents stored before the officer-and-status index get its field (one write, once; on
        # PostgreSQL another replica starting at the same time may do it first: then catch up)
        async def reindex() -> None:
            ops = db.incidents.reindex_ops()
            if ops:
                await db.commit(ops)

        try:
            await decide_again_on_conflict(reindex, db.catch_up)
        except BaseException:
            await db.close()
            raise
        return db

    @property
    def recovered(self) -> str | None:
        """None normally; after a start with recovery that set damage aside, what and why (for GET /healthz)."""
        return self.store.recovered

    async def check_writable(self) -> str | None:
        """None when a durable write works now, else a short reason (for GET /healthz). Never raises."""
        return await self.store.check_writable()

    async def close(self) -> None:
        """Give up this replica's duties, flush and close the store."""
        await self.leases.close()
        await self.store.close()

    async def catch_up(self) -> None:
        """Bring memory up to what other replicas committed (PostgreSQL; the embedded store has no others).

        Raises StorageUnavailable when the database cannot be read.
        """
        await self.store.catch_up()

    def commit(self, ops: Iterable[Op]) -> asyncio.Future[None]:
        """Apply ops now, atomically; await the result for durability (raises StorageUnavailable)."""
        return self.store.write(list(ops))


def ops_of(*groups: Sequence[Op] | Op) -> list[Op]:
    """Flatten single ops and lists of ops into one list for ``Database.commit``."""
    flat: list[Op] = []
    for group in groups:
        if isinstance(group, (Put, Delete)):
            flat.append(group)
        else:
            flat.extend(group)
    return flat
