"""One e-ticket's state, derived from its events in the order they happened (DESIGN "Events in the order they happened").

Ticket events come from two systems (Valcour uploads, Odyssey results) through retries and
outages, so they arrive late, twice and out of order. A ticket's state is a function of its events
ordered by ``occurred_at``; the order they arrived in (``Step.seq``, an event's place among the
ticket's events as recorded) only breaks ties. The state keeps one compact step per event, so a
new event updates the stored state on its own (``apply_event``) without re-reading stored events;
every fact is recomputed from the ordered steps, so the same events in any arrival order (with
distinct instants) give the same facts.

Decisions (the design was silent):

* A ticket is its Judiciary Code and ticket number (upper case), as before: ticket numbers are
  unique within an agency only, so an event naming another Judiciary Code is another agency's ticket.
* The officer is the one named by the latest ``amended`` event (4 V.S.A. § 1106(d): the officer may
  amend the complaint); without an amendment, the one named by the earliest ``submitted`` event (the
  complaint as uploaded); without either, by the earliest event.
* The issue instant is the ``issued_at`` of the latest event that carried one (an amendment may
  correct it); ``None`` when no event carried it. Where it is unknown, ordering "by issue time"
  falls back to the earliest ``occurred_at`` (``TicketState.issue_time``); it is never shown as an issue date.
* The first upload is the earliest ``submitted`` event; receipt by the JB is the earliest
  ``submitted`` or ``accepted`` one (an acceptance proves receipt).
* The ticket is voided from its earliest ``voided`` event on; it then counts neither way (§ 1106(d)).
* "Accepted" means Odyssey accepted it at least once (a ticket rejected and then accepted is
  accepted, and keeps its "rejected" incident); "rejected" means it was rejected at least once.
* A payment was seen from the earliest ``payment_received`` event on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    Field,
    PlainSerializer,
    PlainValidator,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from domain.calendar import as_utc
from domain.records import (
    EventType,
    Incident,
    IncidentKind,
    IncidentStatus,
    Instant,
    Record,
    TicketEvent,
    Violation,
    officer_key,
    ticket_key,
)


@dataclass(frozen=True)
class Step:
    """What one event contributes to its ticket's state; ``seq`` is its place in arrival order."""

    occurred_at: datetime
    seq: int
    type: EventType
    event_id: str
    officer_number: str
    issued_at: datetime | None = None
    reason: str | None = None
    violation: Violation | None = None

    @property
    def order(self) -> tuple[datetime, int]:
        """When it happened; arrival order breaks ties."""
        return self.occurred_at, self.seq

    @classmethod
    def of(cls, event: TicketEvent, seq: int) -> Step:
        """The step of one event, the ``seq``-th of its ticket to be recorded."""
        return cls(
            occurred_at=as_utc(event.occurred_at),
            seq=seq,
            type=event.type,
            event_id=event.event_id,
            officer_number=event.officer_number.upper(),
            issued_at=None if event.issued_at is None else as_utc(event.issued_at),
            reason=event.reason,
            violation=event.violation,
        )


def _instant_text(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _step_to_stored(step: Step) -> list[Any]:
    """A step's stored form: ``[occurred, seq, type, event_id, officer, issued, reason, violation]``, trailing nulls left out."""
    stored: list[Any] = [
        _instant_text(step.occurred_at),
        step.seq,
        step.type.value,
        step.event_id,
        step.officer_number,
        None if step.issued_at is None else _instant_text(step.issued_at),
        step.reason,
        None if step.violation is None else step.violation.model_dump(mode="json", exclude_none=True),
    ]
    while stored[-1] is None:
        stored.pop()
    return stored


def _step_from_stored(value: Any) -> Step:
    if isinstance(value, Step):
        return value
    if not isinstance(value, list | tuple) or len(value) < 5:
        raise ValueError("a stored step is an array of at least 5 items")
    items = [*value, None, None, None][:8]
    occurred, seq, type_, event_id, officer, issued, reason, violation = items
    return Step(
        occurred_at=as_utc(datetime.fromisoformat(occurred)),
        seq=int(seq),
        type=EventType(type_),
        event_id=str(event_id),
        officer_number=str(officer),
        issued_at=None if issued is None else as_utc(datetime.fromisoformat(issued)),
        reason=reason,
        violation=None if violation is None else Violation.model_validate(violation),
    )


def _steps_to_stored(steps: tuple[Step, ...]) -> str:
    """The steps' stored form: one JSON text of their arrays, in arrival order.

    One text rather than nested arrays: a ticket state is among the most numerous documents
    (50,000 a year), and one string per state keeps the store's memory small.
    """
    return json.dumps([_step_to_stored(step) for step in steps], ensure_ascii=False, separators=(",", ":"))


def _steps_from_stored(value: Any) -> tuple[Step, ...]:
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, list | tuple):
        raise ValueError("stored steps are a JSON array")
    return tuple(sorted((_step_from_stored(step) for step in value), key=lambda step: step.seq))


StoredSteps = Annotated[
    tuple[Step, ...], PlainValidator(_steps_from_stored), PlainSerializer(_steps_to_stored, when_used="json")
]

_DERIVED = (
    "judiciary_code",
    "officer_number",
    "first_seen",
    "issued_at",
    "first_upload",
    "first_receipt",
    "accepted",
    "rejected",
    "voided_at",
    "paid_at",
)
"""The facts a state derives from its steps: computed whenever a state is built or read, never stored."""


class TicketState(Record):
    """What a ticket's events say about it, in the order they happened; stored, one per ticket.

    Built from ``judiciary_code``, ``ticket_number`` and ``steps`` (with ``incidents`` and
    ``flagged``): every other field is derived from the steps when the state is built or read
    back, and is not part of the stored form, which is ``ticket_number``, ``officer_key`` (the
    Judiciary Code is its first part), ``steps`` as one JSON text, and the incident links. ``incidents`` maps each verdict key
    (``domain.incidents.judge``) to the incident raised for it; ``flagged`` is whether any of the
    ticket's incidents is open or resolved (a voided or superseded one does not count against the officer).
    """

    judiciary_code: str
    ticket_number: str
    steps: StoredSteps
    incidents: dict[str, str] = Field(default_factory=dict)
    flagged: bool = False
    officer_number: str = ""
    first_seen: Instant
    issued_at: Instant | None = None
    first_upload: Instant | None = None
    first_receipt: Instant | None = None
    accepted: bool = False
    rejected: bool = False
    voided_at: Instant | None = None
    paid_at: Instant | None = None

    @model_validator(mode="before")
    @classmethod
    def _derive(cls, data: Any) -> Any:
        """The facts of the steps, in the order the events happened (any given derived field is recomputed)."""
        if not isinstance(data, dict):
            return data
        steps = _steps_from_stored(data.get("steps") or ())
        if not steps:
            raise ValueError("a ticket needs at least one event")
        code = data.get("judiciary_code") or str(data.get("officer_key", "")).partition(":")[0]
        return {**data, "judiciary_code": code, "steps": steps, **_facts_of(steps)}

    @model_serializer(mode="wrap", when_used="json")
    def _stored_form(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        stored = {key: value for key, value in handler(self).items() if key not in _DERIVED}
        return {"ticket_number": stored.pop("ticket_number"), "officer_key": self.officer_key, **stored}

    @property
    def key(self) -> str:
        """The ticket's storage key (Judiciary Code and upper-case ticket number)."""
        return ticket_key(self.judiciary_code, self.ticket_number)

    @property
    def officer_key(self) -> str:
        """The officer membership the ticket counts for now."""
        return officer_key(self.judiciary_code, self.officer_number)

    @property
    def voided(self) -> bool:
        """Whether the ticket was voided (4 V.S.A. § 1106(d)); it then counts neither way."""
        return self.voided_at is not None

    @property
    def payment_seen(self) -> bool:
        """Whether a payment was received for it."""
        return self.paid_at is not None

    @property
    def issue_time(self) -> datetime:
        """The instant used to order tickets "by issue time": issued_at, else the first event's time."""
        return self.issued_at if self.issued_at is not None else self.first_seen

    @property
    def received(self) -> bool:
        """Whether the JB has received the e-ticket (it was submitted or accepted)."""
        return self.first_receipt is not None

    def summary(self) -> TicketSummary:
        """What readiness reads of this state."""
        return TicketSummary(
            self.key, self.officer_key, as_utc(self.issue_time), self.accepted, self.voided, self.flagged
        )

    def ordered(self) -> list[Step]:
        """The steps in the order the events happened (arrival order breaks ties)."""
        return sorted(self.steps, key=lambda step: step.order)

    def officers_named(self) -> list[str]:
        """Every officer number any of its events named, sorted."""
        return sorted({step.officer_number for step in self.steps})


@dataclass(frozen=True)
class TicketSummary:
    """What readiness reads of a ticket's state: whose it is now, when it was issued, accepted, voided, flagged.

    ``of_stored`` reads it straight from a state's stored form (its steps' JSON text), so an
    officer's figures can be rebuilt from their tickets without building every state in full.
    """

    key: str
    officer_key: str
    issue_time: datetime
    accepted: bool
    voided: bool
    flagged: bool

    @classmethod
    def of_stored(cls, key: str, officer_key: str, doc: Mapping[str, Any]) -> TicketSummary:
        """The summary of a state in its stored form (``TicketState``'s), the same as ``TicketState.summary()``."""
        raw = doc["steps"]
        steps = json.loads(raw) if isinstance(raw, str) else raw
        first_seen: tuple[datetime, int] | None = None
        issued: tuple[datetime, int, str] | None = None
        types: set[str] = set()
        for step in steps:
            order = (as_utc(datetime.fromisoformat(step[0])), int(step[1]))
            types.add(step[2])
            if first_seen is None or order < first_seen:
                first_seen = order
            if len(step) > 5 and step[5] is not None and (issued is None or order > issued[:2]):
                issued = (*order, step[5])
        if first_seen is None:
            raise ValueError(f"ticket {key} has no steps")
        issue_time = first_seen[0] if issued is None else as_utc(datetime.fromisoformat(issued[2]))
        return cls(
            key,
            officer_key,
            issue_time,
            EventType.ACCEPTED.value in types,
            EventType.VOIDED.value in types,
            bool(doc.get("flagged", False)),
        )


def _officer_of(ordered: Sequence[Step]) -> str:
    amended = [step for step in ordered if step.type is EventType.AMENDED]
    if amended:
        return amended[-1].officer_number
    submitted = [step for step in ordered if step.type is EventType.SUBMITTED]
    return (submitted or list(ordered))[0].officer_number


def _earliest(ordered: Sequence[Step], *types: EventType) -> datetime | None:
    return next((step.occurred_at for step in ordered if step.type in types), None)


def _facts_of(steps: Sequence[Step]) -> dict[str, Any]:
    """The derived fields of a state with these steps (see the module's decisions)."""
    ordered = sorted(steps, key=lambda step: step.order)
    carrying = [step for step in ordered if step.issued_at is not None]
    return {
        "officer_number": _officer_of(ordered),
        "first_seen": ordered[0].occurred_at,
        "issued_at": carrying[-1].issued_at if carrying else None,
        "first_upload": _earliest(ordered, EventType.SUBMITTED),
        "first_receipt": _earliest(ordered, EventType.SUBMITTED, EventType.ACCEPTED),
        "accepted": any(step.type is EventType.ACCEPTED for step in ordered),
        "rejected": any(step.type is EventType.REJECTED for step in ordered),
        "voided_at": _earliest(ordered, EventType.VOIDED),
        "paid_at": _earliest(ordered, EventType.PAYMENT_RECEIVED),
    }


def state_of_steps(
    judiciary_code: str,
    ticket_number: str,
    steps: Sequence[Step],
    incidents: Mapping[str, str] | None = None,
    *,
    flagged: bool = False,
) -> TicketState:
    """The state of one ticket with these steps, in whatever order given (raises ValueError when there is none)."""
    if not steps:
        raise ValueError("a ticket needs at least one event")
    return TicketState.model_validate(
        {
            "judiciary_code": judiciary_code,
            "ticket_number": ticket_number,
            "steps": steps,
            "incidents": dict(incidents or {}),
            "flagged": flagged,
        }
    )


def apply_event(state: TicketState | None, event: TicketEvent) -> TicketState:
    """The ticket's state once ``event`` is recorded too (``state`` None: its first event).

    Costs what the ticket's own events cost, never more: no stored event is read.
    """
    if state is None:
        return state_of_steps(event.judiciary_code, event.ticket_number, [Step.of(event, 0)])
    if event.ticket_key != state.key:
        raise ValueError(f"event {event.event_id} is about ticket {event.ticket_key}, not {state.key}")
    steps = [*state.steps, Step.of(event, len(state.steps))]
    return state_of_steps(state.judiciary_code, state.ticket_number, steps, state.incidents, flagged=state.flagged)


def derive_state(events: Iterable[TicketEvent]) -> TicketState:
    """The state of one ticket from its events in the order they were recorded (raises ValueError when empty)."""
    state: TicketState | None = None
    for event in events:
        state = apply_event(state, event)
    if state is None:
        raise ValueError("a ticket needs at least one event")
    return state


def derive_states(events: Iterable[TicketEvent]) -> dict[str, TicketState]:
    """One state per ticket among these events (each ticket's in recorded order), by ticket key, first seen first."""
    grouped: dict[str, list[TicketEvent]] = {}
    for event in events:
        grouped.setdefault(event.ticket_key, []).append(event)
    return {key: derive_state(group) for key, group in grouped.items()}


_KEYED_BY_EVENT = frozenset(
    {
        IncidentKind.REJECTED,
        IncidentKind.EVENT_ON_VOIDED,
        IncidentKind.OUTSIDE_JURISDICTION,
        IncidentKind.MISSING_MUNICIPAL_PENALTIES,
    }
)


def verdict_key_of(incident: Incident) -> str:
    """The verdict an incident recorded before ticket states existed stands for (``domain.incidents.judge``'s keys)."""
    if incident.kind in _KEYED_BY_EVENT:
        return f"{incident.kind.value}:{incident.event_id}"
    if incident.kind is IncidentKind.UNKNOWN_OFFICER:
        return f"{incident.kind.value}:{incident.officer_number.upper()}"
    return incident.kind.value


def counts_against(incident: Incident) -> bool:
    """Whether an incident counts against its ticket's officer: open or resolved, not voided or superseded."""
    return incident.status in (IncidentStatus.OPEN, IncidentStatus.RESOLVED)


def with_recorded_incidents(state: TicketState, incidents: Iterable[Incident]) -> TicketState:
    """A state derived from stored events, linked to the ticket's incidents already recorded (oldest first)."""
    linked = dict(state.incidents)
    flagged = state.flagged
    for incident in incidents:
        linked[verdict_key_of(incident)] = incident.id
        flagged = flagged or counts_against(incident)
    return state.model_copy(update={"incidents": linked, "flagged": flagged})
