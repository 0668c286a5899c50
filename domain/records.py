"""The records of the procedure, in the SOP's own words; each model is also its stored form.

Every record is a frozen pydantic model: ``Model.model_validate(doc)`` reads a stored document
and ``record.model_dump(mode="json")`` writes one. Instants are stored as ISO 8601 strings in UTC
(``2026-11-21T15:00:00+00:00``), court dates as ``YYYY-MM-DD``, enums as their values.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    model_serializer,
)


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
    """What a ticket's events can raise (SOP 6.4, 6.5; 4 V.S.A. §§ 1102, 1105, 1106)."""

    REJECTED = "rejected"
    LATE_UPLOAD = "late_upload"
    UPLOAD_BEFORE_ISSUE = "upload_before_issue"
    PAYMENT_BEFORE_RECEIPT = "payment_before_receipt"
    OUTSIDE_JURISDICTION = "outside_jurisdiction"
    MISSING_MUNICIPAL_PENALTIES = "missing_municipal_penalties"
    UNKNOWN_OFFICER = "unknown_officer"
    EVENT_ON_VOIDED = "event_on_voided"


class IncidentStatus(str, Enum):
    """Whether an incident still needs someone's attention.

    ``superseded``: events that arrived later (but happened earlier) show it no longer holds; it
    never counted against the officer.
    """

    OPEN = "open"
    RESOLVED = "resolved"
    VOIDED = "voided"
    SUPERSEDED = "superseded"


def instant_to_str(value: datetime) -> str:
    """An aware instant as an ISO 8601 string in UTC, the stored form (``2026-11-21T15:00:00+00:00``)."""
    if value.tzinfo is None:
        raise ValueError("instants must carry a time zone")
    return value.astimezone(UTC).isoformat()


def instant_from_str(value: str | None) -> datetime | None:
    """The inverse of ``instant_to_str``, for stored instants read from a raw document (None stays None)."""
    return None if value is None else datetime.fromisoformat(value)


Instant = Annotated[AwareDatetime, PlainSerializer(instant_to_str, return_type=str, when_used="json")]
"""An aware datetime, stored as an ISO 8601 string in UTC; a stored string reads back as an aware datetime."""


class Record(BaseModel):
    """The base of every record: frozen, and extra stored keys (index fields) are ignored on reading."""

    model_config = ConfigDict(frozen=True)


class Actor(Record):
    """A person who did something: Azure AD object id (lower case) and display name."""

    aad_id: str
    name: str = ""


class Stamp(Record):
    """Who did a thing and when."""

    actor: Actor
    at: Instant


class Agency(Record):
    """Chart 1, "Vermont Law Enforcement Agency Information" (SOP 6.1 item 1)."""

    judiciary_code: str
    agency_name: str
    letterhead_address: str
    letterhead_phone: str
    poc_name: str
    poc_email: str


class Package(Record):
    """One agency's Information Package: the agency part; officers are stored beside it.

    The stored form also carries the Judiciary Code at the top (``judiciary_code``), first, as it
    always has; reading ignores it (it is the agency's).
    """

    agency: Agency
    poc: Actor
    submitted: Stamp
    valcour_installed: bool = True
    officers_trained: bool = True
    acknowledged: Stamp | None = None

    @property
    def judiciary_code(self) -> str:
        return self.agency.judiciary_code

    @model_serializer(mode="wrap")
    def _stored_form(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {"judiciary_code": self.agency.judiciary_code, **handler(self)}


class Extension(Record):
    """JB extended an officer's monitoring until the end of ``until`` (a court date), with a reason."""

    until: date
    reason: str
    granted: Stamp


class Officer(Record):
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
    acknowledged: Stamp | None = None  # JB staff acknowledged this officer's addition (SOP 6.3)

    @property
    def key(self) -> str:
        return officer_key(self.judiciary_code, self.officer_number)

    def acknowledged_with(self, package: Package | None) -> bool:
        """Whether the JB acknowledged this officer (SOP 6.3): on its own, or with the package they came in."""
        if self.acknowledged is not None:
            return True
        return package is not None and package.acknowledged is not None and self.added.at <= package.acknowledged.at

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def officer_key(judiciary_code: str, officer_number: str) -> str:
    """The storage key of one officer's membership in one agency."""
    return f"{judiciary_code}:{officer_number}"


def ticket_key(judiciary_code: str, ticket_number: str) -> str:
    """The storage key of one ticket (ticket numbers are unique within an agency)."""
    return f"{judiciary_code}:{ticket_number.upper()}"


class _AboutATicket:
    """Keys of a record about one ticket of one officer in one agency."""

    if TYPE_CHECKING:  # the fields of the record this is mixed into
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


class Violation(Record):
    """What the ticket charges; all parts optional."""

    category: ViolationCategory | None = None
    statute: str | None = None
    full_penalty: float | None = None
    waiver_penalty: float | None = None


class TicketEvent(Record, _AboutATicket):
    """One event about one e-ticket, as posted to the intake API."""

    event_id: str
    type: EventType
    ticket_number: str
    officer_number: str
    judiciary_code: str
    occurred_at: Instant
    issued_at: Instant | None = None
    reason: str | None = None
    violation: Violation | None = None
    received_at: Instant | None = None

    def same_payload(self, other: TicketEvent) -> bool:
        """Whether two events say the same thing, in their stored form (when each was received aside)."""
        return self.model_dump(mode="json", exclude={"received_at"}) == other.model_dump(
            mode="json", exclude={"received_at"}
        )


class Incident(Record, _AboutATicket):
    """Something wrong with an e-ticket that someone must look at."""

    id: str
    kind: IncidentKind
    judiciary_code: str
    officer_number: str
    ticket_number: str
    event_id: str
    raised_at: Instant
    issued_at: Instant | None = None
    detail: str = ""
    status: IncidentStatus = IncidentStatus.OPEN
    closed: Stamp | None = None

    @property
    def is_open(self) -> bool:
        return self.status is IncidentStatus.OPEN


class AuditEntry(Record):
    """Who did what, when, with the record before and after."""

    id: str
    at: Instant
    actor: Actor
    action: str
    target: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


SYSTEM = Actor(aad_id="system", name="JB e-Ticket Bot")
"""The actor for changes the bot makes by itself (a voided ticket closing its incidents)."""
