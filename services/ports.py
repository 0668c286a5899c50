"""The interfaces use cases depend on: repositories, the database that commits their changes, and the notifier.

The embedded store (``storage.repositories.Database``) implements them today; a server database
plugs in behind the same Protocols. Use cases never see how a store writes: a repository's
``put`` returns an opaque ``Change`` and ``Database.commit`` applies a use case's changes
atomically, all or nothing.

Errors, for every implementation:

- reads never raise for a missing record: they return ``None`` or an empty list;
- reads may show a committed change before it is durable; ``settled(...)`` (packages, officers,
  events, incidents) returns an awaitable that resolves once what a read shows now is durable, and
  raises ``storage.errors.StorageUnavailable`` if the write that produced it failed and was undone.
  A use case awaits it before answering from a record it did not write itself ("duplicate",
  "already done by X"), then reads again: the answer is never about something not on disk;
- ``commit`` raises ``storage.errors.StorageUnavailable`` when the changes could not be made
  durable, and then none of them is kept; it raises ``storage.errors.ConflictError`` when an
  optimistic-concurrency check failed (bot state eTags), and then nothing is kept either.

Reads are synchronous against the store's working set, so a use case reads, decides and builds
its changes with no ``await`` in between: two presses at once are decided one after the other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from domain.readiness import OfficerFigures
from domain.records import AuditEntry, Incident, Officer, OfficerState, Package, TicketEvent
from domain.tickets import TicketState, TicketSummary

if TYPE_CHECKING:
    from services.notices import Audience, Content, CopiesUpdate, Notice
    from storage.repositories import ConversationRecord
    from storage.repositories import Notice as OutboxEntry


class Change(Protocol):
    """One pending write built by a repository; only ``Database.commit`` knows what is inside."""


class Packages(Protocol):
    """Information Packages by Judiciary Code."""

    def get(self, judiciary_code: str) -> Package | None:
        """The package of that Judiciary Code, or None."""
        ...

    def all(self) -> list[Package]:
        """Every package, in the order they were submitted."""
        ...

    def for_poc(self, aad_id: str) -> list[Package]:
        """The packages whose Point-of-Contact is this person."""
        ...

    def settled(self, judiciary_code: str) -> Awaitable[None]:
        """Resolves once the package as read now is durable. Raises StorageUnavailable if it never will be."""
        ...

    def put(self, package: Package) -> Change:
        """Store this package."""
        ...


class Officers(Protocol):
    """Officers' memberships, one per (Judiciary Code, officer number)."""

    def get(self, judiciary_code: str, officer_number: str) -> Officer | None:
        """One membership, or None."""
        ...

    def of_agency(self, judiciary_code: str) -> list[Officer]:
        """An agency's officers in the order they were added."""
        ...

    def by_number(self, officer_number: str) -> list[Officer]:
        """Every agency's membership of this officer number."""
        ...

    def in_state(self, state: OfficerState) -> list[Officer]:
        """Every officer in that state, across agencies."""
        ...

    def all(self) -> list[Officer]:
        """Every membership."""
        ...

    def settled(self, judiciary_code: str, officer_number: str) -> Awaitable[None]:
        """Resolves once the membership as read now is durable. Raises StorageUnavailable if it never will be."""
        ...

    def put(self, officer: Officer) -> Change:
        """Store this membership."""
        ...


class TicketEvents(Protocol):
    """Ticket events by event id."""

    def seen(self, event_id: str) -> bool:
        """Whether an event with this id was recorded before."""
        ...

    def get(self, event_id: str) -> TicketEvent | None:
        """The event recorded with this id, or None."""
        ...

    def of_ticket(self, ticket_key: str) -> list[TicketEvent]:
        """Every recorded event of one ticket, in the order applied."""
        ...

    def ticket_keys(self) -> list[str]:
        """The key of every ticket with a recorded event, in the order first seen (reads every event: at start only)."""
        ...

    def of_officer(self, officer_key: str) -> list[TicketEvent]:
        """Every recorded event of one officer membership, in the order applied."""
        ...

    def settled(self, *event_ids: str) -> Awaitable[None]:
        """Resolves once these events, as ``seen`` reports them now, are durable.

        Raises StorageUnavailable if the write that recorded one of them failed (it was undone).
        """
        ...

    def put(self, event: TicketEvent) -> Change:
        """Record this event."""
        ...


class Incidents(Protocol):
    """Incidents by id."""

    def get(self, incident_id: str) -> Incident | None:
        """One incident, or None."""
        ...

    def all(self) -> list[Incident]:
        """Every incident, oldest first (the JB's export)."""
        ...

    def of_officer(self, officer_key: str) -> list[Incident]:
        """An officer membership's incidents, oldest first."""
        ...

    def of_ticket(self, ticket_key: str) -> list[Incident]:
        """One ticket's incidents, oldest first."""
        ...

    def open(self, judiciary_code: str | None = None) -> list[Incident]:
        """Open incidents, of one agency or of all."""
        ...

    def raised_since(self, since: datetime, judiciary_code: str | None = None) -> list[Incident]:
        """Incidents raised at or after ``since`` (any status), of one agency or of all, oldest first."""
        ...

    def settled(self, incident_id: str) -> Awaitable[None]:
        """Resolves once the incident as read now is durable. Raises StorageUnavailable if it never will be."""

    def open_of_officer(self, officer_key: str) -> list[Incident]:
        """An officer membership's open incidents, oldest first (costs what they are, not the officer's history)."""
        ...

    def count_of_officer(self, officer_key: str) -> int:
        """How many incidents an officer membership has, whatever their status."""
        ...

    def open_count_of_officer(self, officer_key: str) -> int:
        """How many open incidents an officer membership has (nothing is parsed)."""
        ...

    def put(self, incident: Incident) -> Change:
        """Store this incident."""
        ...


class TicketStates(Protocol):
    """Each ticket's state, derived from its events in the order they happened (``domain.tickets``)."""

    def get(self, ticket_key: str) -> TicketState | None:
        """One ticket's state, or None (no event of it was recorded, or it was recorded before states existed)."""
        ...

    def has(self, ticket_key: str) -> bool:
        """Whether the ticket has a stored state (nothing is parsed)."""
        ...

    def of_officer(self, officer_key: str) -> list[TicketState]:
        """The states of the tickets credited to one officer membership now."""
        ...

    def summaries_of(self, officer_key: str) -> list[TicketSummary]:
        """What readiness reads of the tickets credited to one officer membership now (for rebuilding its figures)."""
        ...

    def put(self, state: TicketState) -> Change:
        """Store this state."""
        ...

    def backfilled(self) -> bool:
        """Whether every ticket recorded before states existed has been given its state."""
        ...

    def mark_backfilled(self, at: datetime) -> Change:
        """Record that every recorded ticket has its state."""
        ...


class Figures(Protocol):
    """What readiness needs of each officer membership's e-tickets (``domain.readiness.OfficerFigures``)."""

    def get(self, officer_key: str) -> OfficerFigures | None:
        """One membership's figures, or None (never built)."""
        ...

    def put(self, figures: OfficerFigures) -> Change:
        """Store these figures."""
        ...


class Subscriptions(Protocol):
    """Which conversation receives an agency's alerts (key: Judiciary Code) or the JB's (key: "jb")."""

    JB: str

    def conversation_for(self, target: str) -> str | None:
        """The conversation subscribed to this target, or None."""
        ...

    def put(self, target: str, conversation_id: str, by: str, at: datetime) -> Change:
        """Route the target's notices to a conversation."""
        ...


class Conversations(Protocol):
    """Conversation references the bot can write to later."""

    def get(self, conversation_id: str) -> ConversationRecord | None:
        """One conversation, or None."""
        ...

    def personal_chat_of(self, aad_id: str) -> ConversationRecord | None:
        """The newest 1:1 chat with this person, or None."""
        ...

    def welcomed(self, conversation_id: str) -> bool:
        """Whether the welcome card was sent in this conversation."""
        ...

    def mark_welcomed(self, conversation_id: str, at: datetime) -> Change:
        """Record that the welcome card was sent here."""
        ...

    def save(self, record: ConversationRecord) -> Awaitable[None]:
        """Store the reference now (an unchanged one touches no file); await for durability."""
        ...


class Outbox(Protocol):
    """Notices owed to conversations, stored before they are sent."""

    def next_seq(self) -> int:
        """A number ordering entries by when they were queued."""
        ...

    def get(self, notice_id: str) -> OutboxEntry | None:
        """One entry, or None."""
        ...

    def pending(self) -> list[OutboxEntry]:
        """Entries still to deliver, in queue order."""
        ...

    def failed(self) -> list[OutboxEntry]:
        """Entries that will not be retried, oldest first."""
        ...

    def of_subject(self, subject: str) -> list[OutboxEntry]:
        """Every entry about one subject (the copies of one card), in queue order."""
        ...

    def settled(self, notice_id: str) -> Awaitable[None]:
        """Resolves once the entry as read now is durable (committed). Raises StorageUnavailable or ConflictError
        if the write that made it was undone: then there is nothing to deliver."""
        ...

    def count(self, status: str) -> int:
        """How many entries have this status (``pending``, ``waiting``, ``failed``, ``sent``)."""
        ...

    def oldest_created(self, status: str) -> datetime | None:
        """When the oldest entry with this status was queued, or None when there is none."""
        ...

    def waiting(self, reader: str | None = None) -> list[OutboxEntry]:
        """Entries kept for a reader with no conversation yet (``jb``, ``person:<id>``; all when None)."""
        ...

    def put(self, entry: OutboxEntry) -> Change:
        """Store this entry."""
        ...


class AuditLog(Protocol):
    """Who did what, when, before and after."""

    def of_target(self, target: str) -> list[AuditEntry]:
        """Entries about one record, oldest first."""
        ...

    def between(self, start: datetime, end: datetime) -> list[AuditEntry]:
        """Entries made at or after ``start`` and before ``end``, oldest first (the JB's export)."""
        ...

    def put(self, entry: AuditEntry) -> Change:
        """Append this entry."""
        ...


class ReadinessMemory(Protocol):
    """The last known readiness of each officer membership, so a change is noticed once."""

    def was_ready(self, officer_key: str) -> bool:
        """Whether the officer was ready at the last check."""
        ...

    def ready_keys(self) -> list[str]:
        """The officer keys last seen ready."""
        ...

    def since(self, officer_key: str) -> datetime | None:
        """When the officer's last known readiness was recorded (when they became ready, if they are); None if never."""
        ...

    def put(self, officer_key: str, ready: bool, at: datetime) -> Change:
        """Remember this officer's readiness as of ``at``."""
        ...


class ClockLog(Protocol):
    """What the SOP's clocks already did, by occurrence key (a reminder, an escalation step, a digest, a
    day's refresh of the alerts), so that a restart never does it twice."""

    def done(self, key: str) -> bool:
        """Whether this occurrence was already sent (its notices are in the outbox)."""
        ...

    def put(self, key: str, kind: str, at: datetime) -> Change:
        """Remember that this occurrence was sent at ``at``."""
        ...


class Leases(Protocol):
    """Which replica does what, when several serve one database.

    The embedded store serves from one process, which holds every lease. On a server database a
    duty (the readiness re-check, the SOP's clocks, archiving) is held by one replica at a time and
    taken over when that replica dies; a conversation's deliveries are claimed by one replica for a
    few seconds at a time, so its notices leave in order and only once.
    """

    async def lead(self, duty: str) -> bool:
        """Whether this replica holds ``duty`` now (taking it when no live replica does). Never raises."""
        ...

    def leading(self) -> dict[str, bool]:
        """Every duty asked about so far, and whether this replica held it at the last ask (for /metrics)."""
        ...

    async def claim(self, conversation_id: str, seconds: float) -> bool:
        """Take or renew the right to deliver this conversation's notices for ``seconds``.

        False while another live replica holds it. Raises StorageUnavailable when the database cannot say.
        """
        ...

    async def release(self, conversation_id: str) -> None:
        """Give the conversation's delivery right back (another replica may take it at once). Never raises."""
        ...

    async def close(self) -> None:
        """Give every duty up (the replica is stopping). Never raises."""
        ...


class ArchivedTicket(Protocol):
    """A ticket read back from the archive: its state and its events as archived."""

    @property
    def state(self) -> TicketState: ...
    @property
    def events(self) -> list[TicketEvent]: ...


class TicketArchive(Protocol):
    """Closed tickets of long ago with their events, out of memory but readable on demand (the store's archive)."""

    def ticket_keys(self) -> list[str]:
        """The key of every ticket in memory."""
        ...

    def due(self, ticket_keys: Iterable[str], issued_before: datetime, keep_officers: set[str]) -> list[Any]:
        """Those of ``ticket_keys`` to archive: issued before then, every incident closed, credited to none of ``keep_officers``.

        Returns opaque bundles for ``move``; nothing is parsed but the states' summaries.
        """
        ...

    async def move(self, bundles: Sequence[Any]) -> int:
        """Archive ``due``'s bundles; how many left memory. Raises StorageUnavailable (nothing left memory)."""
        ...

    async def read(self, ticket_keys: Iterable[str]) -> Mapping[str, ArchivedTicket]:
        """The archived tickets among ``ticket_keys`` (those in memory are newer: read them there first).

        Raises StorageUnavailable when the archive cannot be read.
        """
        ...

    async def years(self) -> dict[int, int]:
        """How many tickets each year's archive holds, oldest year first."""
        ...

    async def summaries_of(self, since: Mapping[str, datetime]) -> dict[str, list[TicketSummary]]:
        """What readiness reads of the archived tickets credited to each membership (officer key -> issued since,
        at least), in one pass over the archive."""
        ...


class Database(Protocol):
    """Every repository, and the commit of a use case's changes."""

    @property
    def packages(self) -> Packages: ...
    @property
    def officers(self) -> Officers: ...
    @property
    def events(self) -> TicketEvents: ...
    @property
    def incidents(self) -> Incidents: ...
    @property
    def ticket_states(self) -> TicketStates: ...
    @property
    def archive(self) -> TicketArchive: ...
    @property
    def figures(self) -> Figures: ...
    @property
    def subscriptions(self) -> Subscriptions: ...
    @property
    def conversations(self) -> Conversations: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def readiness(self) -> ReadinessMemory: ...
    @property
    def clocks(self) -> ClockLog: ...
    @property
    def leases(self) -> Leases: ...

    async def catch_up(self) -> None:
        """Bring what reads show up to what other replicas committed (nothing to do on the embedded store).

        Raises StorageUnavailable when the database cannot be reached.
        """
        ...

    def commit(self, changes: Iterable[Any]) -> Awaitable[None]:
        """Apply the changes atomically; await for durability (raises StorageUnavailable, nothing kept)."""
        ...

    async def check_writable(self) -> str | None:
        """None when a durable write works now, else a short reason (for GET /healthz). Never raises."""
        ...

    @property
    def recovered(self) -> str | None:
        """None normally; after a start with recovery that set damaged files aside, what and why.

        GET /healthz then answers 200 with ``"storage": "recovered"`` and this reason. Never raises.
        """
        ...


class Notifier(Protocol):
    """Turns the notices a use case wants sent into outbox changes, committed with the use case's own."""

    def changes_for(
        self,
        notices: Sequence[Notice],
        updates: Sequence[CopiesUpdate],
        *,
        now: datetime,
        shown: str | None = None,
    ) -> list[Change]:
        """Outbox entries for each notice's audiences and for every copy an update reaches.

        ``shown`` is an opaque token from the edge naming a copy already brought up to date in the turn.
        """
        ...

    def track(
        self,
        subject: str,
        conversation_id: str,
        activity_id: str | None,
        content: Content,
        *,
        summary: str,
        now: datetime,
    ) -> list[Change]:
        """Remember a card the edge sent in-turn, so that later updates of ``subject`` reach it too."""
        ...

    def release(self, audiences: Sequence[Audience], *, now: datetime) -> list[Change]:
        """Entries waiting for these audiences, addressed to the conversations that now reach them."""
        ...

    def waiting_readers(self) -> list[Audience]:
        """Every reader some notice waits for."""
        ...

    def reaches(self, audience: Audience) -> bool:
        """Whether a notice to this audience would leave now (False: it would wait)."""
        ...

    def wake(self) -> None:
        """Tell the sender something was queued."""
        ...
