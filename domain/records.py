"""The records of the procedure, in the SOP's own words, and their plain-dict form for storage.

Every record converts to a JSON-ready dict with ``to_doc`` and back with ``from_doc``; instants
are stored as ISO 8601 strings in UTC, court dates as ``YYYY-MM-DD``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any


class RecordsSystem(str, Enum):
    """The agency's records management system (SOP 1)."""

    VALCOUR = "valcour"
    TRACS_SPILLMAN = "tracs_spillman"


class OfficerState(str, Enum):
    """Stored states of an officer in one agency's package; "ready" is computed, never stored."""

    MONITORING = "monitoring"
    APPROVED = "approved"
    WITHDRAWN = "withdrawn"


class EventType(str, Enum):
    """Ticket event types posted by the records systems (Valcour, Odyssey)."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PAYMENT_RECEIVED = "payment_received"
    VOIDED = "voided"
    AMENDED = "amended"


class ViolationCategory(str, Enum):
    """What kind of violation a ticket charges (4 V.S.A. § 1102)."""

    TRAFFIC = "traffic"
    CIVIL_ORDINANCE = "civil_ordinance"
    MUNICIPAL_PARKING = "municipal_parking"
    FISH_WILDLIFE = "fish_wildlife"
    OTHER_JB = "other_jb"
    NOT_JB = "not_jb"


class IncidentKind(str, Enum):
    """What a ticket event can raise (SOP 6.4, 6.5; 4 V.S.A. §§ 1102, 1105)."""

    REJECTED = "rejected"
    LATE_UPLOAD = "late_upload"
    PAYMENT_BEFORE_RECEIPT = "payment_before_receipt"
    OUTSIDE_JURISDICTION = "outside_jurisdiction"
    MISSING_MUNICIPAL_PENALTIES = "missing_municipal_penalties"
    UNKNOWN_OFFICER = "unknown_officer"


class IncidentStatus(str, Enum):
    """Whether an incident still needs someone's attention."""

    OPEN = "open"
    RESOLVED = "resolved"
    VOIDED = "voided"


def instant_to_str(value: datetime | None) -> str | None:
    """An aware instant as an ISO 8601 string in UTC (None stays None)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("instants must carry a time zone")
    return value.astimezone(UTC).isoformat()


def instant_from_str(value: str | None) -> datetime | None:
    """The inverse of ``instant_to_str``."""
    return None if value is None else datetime.fromisoformat(value)


def date_to_str(value: date | None) -> str | None:
    """A court date as ``YYYY-MM-DD`` (None stays None)."""
    return None if value is None else value.isoformat()


def date_from_str(value: str | None) -> date | None:
    """The inverse of ``date_to_str``."""
    return None if value is None else date.fromisoformat(value)


@dataclass(frozen=True)
class Actor:
    """A person who did something: Azure AD object id (lower case) and display name."""

    aad_id: str
    name: str = ""

    def to_doc(self) -> dict[str, Any]:
        return {"aad_id": self.aad_id, "name": self.name}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Actor:
        return cls(aad_id=doc["aad_id"], name=doc.get("name", ""))


@dataclass(frozen=True)
class Stamp:
    """Who did a thing and when."""

    actor: Actor
    at: datetime

    def to_doc(self) -> dict[str, Any]:
        return {"actor": self.actor.to_doc(), "at": instant_to_str(self.at)}

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> Stamp | None:
        if doc is None:
            return None
        return cls(actor=Actor.from_doc(doc["actor"]), at=instant_from_str(doc["at"]))  # type: ignore[arg-type]


def _stamp_doc(stamp: Stamp | None) -> dict[str, Any] | None:
    return None if stamp is None else stamp.to_doc()


@dataclass(frozen=True)
class Agency:
    """Chart 1, "Vermont Law Enforcement Agency Information" (SOP 6.1 item 1)."""

    judiciary_code: str
    agency_name: str
    letterhead_address: str
    letterhead_phone: str
    poc_name: str
    poc_email: str


@dataclass(frozen=True)
class Package:
    """One agency's Information Package: the agency part; officers are stored beside it."""

    agency: Agency
    poc: Actor
    submitted: Stamp
    valcour_installed: bool = True
    officers_trained: bool = True
    acknowledged: Stamp | None = None

    @property
    def judiciary_code(self) -> str:
        return self.agency.judiciary_code

    def to_doc(self) -> dict[str, Any]:
        return {
            "judiciary_code": self.agency.judiciary_code,
            "agency": dataclasses.asdict(self.agency),
            "poc": self.poc.to_doc(),
            "submitted": self.submitted.to_doc(),
            "valcour_installed": self.valcour_installed,
            "officers_trained": self.officers_trained,
            "acknowledged": _stamp_doc(self.acknowledged),
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Package:
        return cls(
            agency=Agency(**doc["agency"]),
            poc=Actor.from_doc(doc["poc"]),
            submitted=Stamp.from_doc(doc["submitted"]),  # type: ignore[arg-type]
            valcour_installed=doc["valcour_installed"],
            officers_trained=doc["officers_trained"],
            acknowledged=Stamp.from_doc(doc.get("acknowledged")),
        )


@dataclass(frozen=True)
class Extension:
    """JB extended an officer's monitoring until the end of ``until`` (a court date), with a reason."""

    until: date
    reason: str
    granted: Stamp

    def to_doc(self) -> dict[str, Any]:
        return {"until": date_to_str(self.until), "reason": self.reason, "granted": self.granted.to_doc()}

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> Extension | None:
        if doc is None:
            return None
        return cls(
            until=date_from_str(doc["until"]),  # type: ignore[arg-type]
            reason=doc["reason"],
            granted=Stamp.from_doc(doc["granted"]),  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class Officer:
    """An officer's membership in one agency's package (Chart 1 row, SOP 6.1 item 2)."""

    judiciary_code: str
    officer_number: str
    first_name: str
    last_name: str
    dps_username: str
    start_date: date
    added: Stamp
    state: OfficerState = OfficerState.MONITORING
    approved: Stamp | None = None
    approval_date: date | None = None
    withdrawn: Stamp | None = None
    extension: Extension | None = None

    @property
    def key(self) -> str:
        return officer_key(self.judiciary_code, self.officer_number)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def to_doc(self) -> dict[str, Any]:
        return {
            "judiciary_code": self.judiciary_code,
            "officer_number": self.officer_number,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "dps_username": self.dps_username,
            "start_date": date_to_str(self.start_date),
            "added": self.added.to_doc(),
            "state": self.state.value,
            "approved": _stamp_doc(self.approved),
            "approval_date": date_to_str(self.approval_date),
            "withdrawn": _stamp_doc(self.withdrawn),
            "extension": None if self.extension is None else self.extension.to_doc(),
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Officer:
        return cls(
            judiciary_code=doc["judiciary_code"],
            officer_number=doc["officer_number"],
            first_name=doc["first_name"],
            last_name=doc["last_name"],
            dps_username=doc["dps_username"],
            start_date=date_from_str(doc["start_date"]),  # type: ignore[arg-type]
            added=Stamp.from_doc(doc["added"]),  # type: ignore[arg-type]
            state=OfficerState(doc["state"]),
            approved=Stamp.from_doc(doc.get("approved")),
            approval_date=date_from_str(doc.get("approval_date")),
            withdrawn=Stamp.from_doc(doc.get("withdrawn")),
            extension=Extension.from_doc(doc.get("extension")),
        )


def officer_key(judiciary_code: str, officer_number: str) -> str:
    """The storage key of one officer's membership in one agency."""
    return f"{judiciary_code}:{officer_number}"


def ticket_key(judiciary_code: str, ticket_number: str) -> str:
    """The storage key of one ticket (ticket numbers are unique within an agency)."""
    return f"{judiciary_code}:{ticket_number.upper()}"


class _AboutATicket:
    """Keys of a record about one ticket of one officer in one agency."""

    judiciary_code: str
    ticket_number: str
    officer_number: str

    @property
    def ticket_key(self) -> str:
        """The storage key of the ticket this record is about."""
        return ticket_key(self.judiciary_code, self.ticket_number)

    @property
    def officer_key(self) -> str:
        """The storage key of the officer membership this record is about."""
        return officer_key(self.judiciary_code, self.officer_number)


@dataclass(frozen=True)
class Violation:
    """What the ticket charges; all parts optional."""

    category: ViolationCategory | None = None
    statute: str | None = None
    full_penalty: float | None = None
    waiver_penalty: float | None = None

    def to_doc(self) -> dict[str, Any]:
        return {
            "category": None if self.category is None else self.category.value,
            "statute": self.statute,
            "full_penalty": self.full_penalty,
            "waiver_penalty": self.waiver_penalty,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> Violation | None:
        if doc is None:
            return None
        category = doc.get("category")
        return cls(
            category=None if category is None else ViolationCategory(category),
            statute=doc.get("statute"),
            full_penalty=doc.get("full_penalty"),
            waiver_penalty=doc.get("waiver_penalty"),
        )


@dataclass(frozen=True)
class TicketEvent(_AboutATicket):
    """One event about one e-ticket, as posted to the intake API."""

    event_id: str
    type: EventType
    ticket_number: str
    officer_number: str
    judiciary_code: str
    occurred_at: datetime
    issued_at: datetime | None = None
    reason: str | None = None
    violation: Violation | None = None
    received_at: datetime | None = None

    def to_doc(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.type.value,
            "ticket_number": self.ticket_number,
            "officer_number": self.officer_number,
            "judiciary_code": self.judiciary_code,
            "occurred_at": instant_to_str(self.occurred_at),
            "issued_at": instant_to_str(self.issued_at),
            "reason": self.reason,
            "violation": None if self.violation is None else self.violation.to_doc(),
            "received_at": instant_to_str(self.received_at),
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> TicketEvent:
        return cls(
            event_id=doc["event_id"],
            type=EventType(doc["type"]),
            ticket_number=doc["ticket_number"],
            officer_number=doc["officer_number"],
            judiciary_code=doc["judiciary_code"],
            occurred_at=instant_from_str(doc["occurred_at"]),  # type: ignore[arg-type]
            issued_at=instant_from_str(doc.get("issued_at")),
            reason=doc.get("reason"),
            violation=Violation.from_doc(doc.get("violation")),
            received_at=instant_from_str(doc.get("received_at")),
        )


@dataclass(frozen=True)
class Incident(_AboutATicket):
    """Something wrong with an e-ticket that someone must look at."""

    id: str
    kind: IncidentKind
    judiciary_code: str
    officer_number: str
    ticket_number: str
    event_id: str
    raised_at: datetime
    issued_at: datetime | None = None
    detail: str = ""
    status: IncidentStatus = IncidentStatus.OPEN
    closed: Stamp | None = None

    @property
    def is_open(self) -> bool:
        return self.status is IncidentStatus.OPEN

    def to_doc(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "judiciary_code": self.judiciary_code,
            "officer_number": self.officer_number,
            "ticket_number": self.ticket_number,
            "event_id": self.event_id,
            "raised_at": instant_to_str(self.raised_at),
            "issued_at": instant_to_str(self.issued_at),
            "detail": self.detail,
            "status": self.status.value,
            "closed": _stamp_doc(self.closed),
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Incident:
        return cls(
            id=doc["id"],
            kind=IncidentKind(doc["kind"]),
            judiciary_code=doc["judiciary_code"],
            officer_number=doc["officer_number"],
            ticket_number=doc["ticket_number"],
            event_id=doc["event_id"],
            raised_at=instant_from_str(doc["raised_at"]),  # type: ignore[arg-type]
            issued_at=instant_from_str(doc.get("issued_at")),
            detail=doc.get("detail", ""),
            status=IncidentStatus(doc["status"]),
            closed=Stamp.from_doc(doc.get("closed")),
        )


@dataclass(frozen=True)
class AuditEntry:
    """Who did what, when, with the record before and after."""

    id: str
    at: datetime
    actor: Actor
    action: str
    target: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None

    def to_doc(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": instant_to_str(self.at),
            "actor": self.actor.to_doc(),
            "action": self.action,
            "target": self.target,
            "before": self.before,
            "after": self.after,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> AuditEntry:
        return cls(
            id=doc["id"],
            at=instant_from_str(doc["at"]),  # type: ignore[arg-type]
            actor=Actor.from_doc(doc["actor"]),
            action=doc["action"],
            target=doc["target"],
            before=doc.get("before"),
            after=doc.get("after"),
        )


SYSTEM = Actor(aad_id="system", name="JB e-Ticket Bot")
"""The actor for changes the bot makes by itself (a voided ticket closing its incidents)."""
