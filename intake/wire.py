"""The intake's wire format as pydantic models: the ticket-event request body and the responses.

The body is one event object (``IncomingEvent``) or ``{"events": [...]}`` (``EventBatch``) with 1
to ``MAX_BATCH`` events. The models are the whole rule: types are strict (a number is not a
string, a boolean is not a penalty), unknown fields are ignored, and the OpenAPI document
(intake/openapi.py) is generated from them. The Judiciary Code and officer number are the
wizard's own field types (domain/validation.py).

``parse_events`` turns a decoded body into TicketEvents or raises ``EventErrors`` listing every
problem of every event at once as ``{"index", "field", "message"}``: pydantic's errors, mapped to
the event's index, the field's dotted name (``violation.category``) and a plain message; one
rule across events (an ``event_id`` repeated inside a request) is checked beside the models.

Instants must be ones that can be true: one the store cannot hold (outside the years 1 to 9999
once in UTC, e.g. ``9999-12-31T23:00:00-05:00``) or more than ``FUTURE_TOLERANCE`` after the
request was received (the validation context's ``received_at``) is refused, naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    StringConstraints,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from domain.records import EventType, IncidentKind, TicketEvent, Violation, ViolationCategory
from domain.validation import JudiciaryCode, OfficerNumber

MAX_BATCH = 500
"""The most events one request may carry."""

MAX_EVENT_ID = 128
MAX_TICKET_NUMBER = 32
MAX_REASON = 1000
MAX_STATUTE = 200

TICKET_NUMBER_PATTERN = f"^[A-Za-z0-9-]{{1,{MAX_TICKET_NUMBER}}}$"
INSTANT_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})$"
)
_INSTANT = re.compile(INSTANT_PATTERN)
_NAIVE_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?")

FUTURE_TOLERANCE = timedelta(days=1)
"""How far after its receipt an instant may lie (clocks differ; a day more is a clock or data error)."""

_EVENT_TYPES = ", ".join(t.value for t in EventType)
_CATEGORIES = ", ".join(c.value for c in ViolationCategory)


def json_type(value: object) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _offset_instant(value: object) -> datetime:
    """An ISO 8601 date and time with a UTC offset (``Z`` allowed, either case); naive times are refused."""
    if not isinstance(value, str):
        raise PydanticCustomError("instant_type", "must be a string, not {json_type}", {"json_type": json_type(value)})
    if _INSTANT.fullmatch(value) is None:
        if _NAIVE_INSTANT.fullmatch(value) is not None:
            raise PydanticCustomError(
                "instant_naive",
                "must include a UTC offset, e.g. 2024-05-01T14:30:00-04:00 or 2024-05-01T18:30:00Z",
            )
        raise PydanticCustomError(
            "instant_format", "must be an ISO 8601 date and time with offset, e.g. 2024-05-01T14:30:00-04:00"
        )
    try:
        parsed = datetime.fromisoformat(value.upper())
    except ValueError as exc:
        raise PydanticCustomError(
            "instant_invalid", "is not a valid date and time ({reason})", {"reason": str(exc)}
        ) from None
    try:
        parsed.astimezone(UTC)  # instants are stored in UTC
    except OverflowError:
        raise PydanticCustomError(
            "instant_unstorable", "cannot be stored: in UTC it falls outside the years 1 to 9999"
        ) from None
    return parsed


def _not_in_the_future(instant: datetime | None, info: ValidationInfo) -> datetime | None:
    """An instant no more than ``FUTURE_TOLERANCE`` after the request's receipt (when the context gives it)."""
    received_at = (info.context or {}).get("received_at")
    if instant is None or not isinstance(received_at, datetime):
        return instant
    if instant - received_at > FUTURE_TOLERANCE:
        raise PydanticCustomError(
            "instant_future",
            "is more than a day after the request was received ({received}): a clock or data error",
            {"received": received_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")},
        )
    return instant


INSTANT_SCHEMA: dict[str, Any] = {
    "type": "string",
    "format": "date-time",
    "pattern": INSTANT_PATTERN,
    "description": (
        "ISO 8601 date and time WITH a UTC offset (`Z` allowed); naive times are refused, and so are instants "
        "outside the years 1 to 9999 in UTC and instants more than a day after the request is received."
    ),
}

OffsetInstant = Annotated[datetime, PlainValidator(_offset_instant), WithJsonSchema(INSTANT_SCHEMA)]
"""An instant as the records systems send it: a string, ISO 8601 with a UTC offset."""


class IncomingViolation(BaseModel):
    """What the ticket charges; every part optional."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    category: Annotated[ViolationCategory | None, Field(strict=False)] = None
    statute: Annotated[str, StringConstraints(max_length=MAX_STATUTE)] | None = None
    full_penalty: Annotated[float | None, Field(ge=0, allow_inf_nan=False, description="Dollars.")] = None
    waiver_penalty: Annotated[float | None, Field(ge=0, allow_inf_nan=False, description="Dollars.")] = None

    def to_violation(self) -> Violation:
        """The record's form of this violation."""
        return Violation(
            category=self.category,
            statute=self.statute,
            full_penalty=self.full_penalty,
            waiver_penalty=self.waiver_penalty,
        )


def _required_when(event_type: EventType, field: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema rule "with this type, ``field`` is required and must match ``schema``"."""
    return {
        "if": {"properties": {"type": {"const": event_type.value}}, "required": ["type"]},
        "then": {"required": [field], "properties": {field: schema}},
    }


class IncomingEvent(BaseModel):
    """One event about one e-ticket. Unknown fields are ignored."""

    model_config = ConfigDict(
        strict=True,
        extra="ignore",
        frozen=True,
        json_schema_extra={
            "allOf": [
                _required_when(EventType.SUBMITTED, "issued_at", INSTANT_SCHEMA),
                _required_when(EventType.REJECTED, "reason", {"type": "string", "minLength": 1, "pattern": "\\S"}),
            ]
        },
    )

    event_id: Annotated[str, Field(min_length=1, max_length=MAX_EVENT_ID, description="The idempotency key.")]
    type: Annotated[EventType, Field(strict=False)]
    ticket_number: Annotated[str, Field(pattern=TICKET_NUMBER_PATTERN)]
    officer_number: Annotated[OfficerNumber, Field(description="One letter and four digits; stored upper case.")]
    judiciary_code: JudiciaryCode
    occurred_at: OffsetInstant
    issued_at: Annotated[
        OffsetInstant | None,
        Field(
            validate_default=True,
            description="When the ticket was issued; required with `submitted`, allowed on every type.",
        ),
    ] = None
    reason: Annotated[
        Annotated[str, StringConstraints(max_length=MAX_REASON)] | None,
        Field(validate_default=True, description="Required (non-empty) with `rejected`."),
    ] = None
    violation: IncomingViolation | None = None

    @field_validator("occurred_at")
    @classmethod
    def _occurred_by_now(cls, occurred_at: datetime, info: ValidationInfo) -> datetime | None:
        """An event cannot have happened more than a day after it was received."""
        return _not_in_the_future(occurred_at, info)

    @field_validator("issued_at")
    @classmethod
    def _issued_at_with_submitted(cls, issued_at: datetime | None, info: ValidationInfo) -> datetime | None:
        """A ``submitted`` event says when the ticket was issued (the 48-hour rule needs it), and not in the future."""
        if issued_at is None and info.data.get("type") is EventType.SUBMITTED:
            raise PydanticCustomError("required_with_submitted", "is required")
        return _not_in_the_future(issued_at, info)

    @field_validator("reason")
    @classmethod
    def _reason_with_rejected(cls, reason: str | None, info: ValidationInfo) -> str | None:
        """A ``rejected`` event says why; a blank reason on another type is no reason."""
        if reason is not None and reason.strip():
            return reason
        if info.data.get("type") is EventType.REJECTED:
            if reason is None:
                raise PydanticCustomError("required_with_rejected", "is required")
            raise PydanticCustomError("blank_reason", "must not be empty for a rejected e-ticket")
        return None

    def to_ticket_event(self, received_at: datetime) -> TicketEvent:
        """The record of this event, received at ``received_at``; the officer number upper case."""
        return TicketEvent(
            event_id=self.event_id,
            type=self.type,
            ticket_number=self.ticket_number,
            officer_number=self.officer_number.upper(),
            judiciary_code=self.judiciary_code,
            occurred_at=self.occurred_at,
            issued_at=self.issued_at,
            reason=self.reason,
            violation=None if self.violation is None else self.violation.to_violation(),
            received_at=received_at,
        )


class EventBatch(BaseModel):
    """A batch of events, applied in order."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    events: Annotated[
        list[IncomingEvent],
        Field(
            min_length=1,
            max_length=MAX_BATCH,
            description=f"1 to {MAX_BATCH} events, applied in order; an event_id may appear once per batch.",
        ),
    ]


def _body_kind(body: object) -> str | None:
    """Which model a body is: a batch when it is an object with ``events``, else one event."""
    if isinstance(body, dict):
        return "batch" if "events" in body else "event"
    return None


RequestBody = Annotated[
    Annotated[IncomingEvent, Tag("event")] | Annotated[EventBatch, Tag("batch")],
    Discriminator(
        _body_kind,
        custom_error_type="body_shape",
        custom_error_message='the body must be one event object or {"events": [...]}',
    ),
]
"""The body of ``POST /api/ticket-events``: one event object or ``{"events": [...]}``."""


# --- responses ---------------------------------------------------------------------------------


class RaisedIncident(BaseModel):
    """An incident the event raised; further fields (ticket, officer, issue date, detail) may follow."""

    model_config = ConfigDict(extra="allow")

    id: str
    kind: IncidentKind


class EventResult(BaseModel):
    """What became of one event."""

    event_id: str
    status: Annotated[
        Literal["recorded", "duplicate"],
        Field(description="`duplicate`: the event_id was seen before; nothing was raised."),
    ]
    incidents: list[RaisedIncident]


class EventResults(BaseModel):
    """200: every event was recorded or was a duplicate."""

    model_config = ConfigDict(extra="forbid")

    results: Annotated[list[EventResult], Field(min_length=1, description="One per event, in request order.")]


class EventProblem(BaseModel):
    """One problem with the request."""

    model_config = ConfigDict(extra="forbid")

    index: Annotated[
        int,
        Field(
            ge=0,
            description=(
                "The event's position in `events` (0 for a single event, and for problems of the batch or body "
                "as a whole)."
            ),
        ),
    ]
    field: Annotated[
        str,
        Field(
            description=(
                "The event field (e.g. `type`, `violation.full_penalty`); `events` for the batch itself; `body` "
                "when the body is not JSON."
            )
        ),
    ]
    message: str


class EventProblems(BaseModel):
    """400: every problem of every event; nothing was recorded."""

    model_config = ConfigDict(extra="forbid")

    errors: Annotated[list[EventProblem], Field(min_length=1)]


class EventConflictAnswer(BaseModel):
    """409: an event_id recorded before came with a different payload; nothing from the request was recorded."""

    model_config = ConfigDict(extra="forbid")

    error: Literal["conflict"]
    index: Annotated[int, Field(ge=0, description="The position in `events` of the event that conflicts (0 for one).")]
    event_id: str
    message: str


class ErrorMessage(BaseModel):
    """401, 413, 415, 500, 503: what went wrong."""

    model_config = ConfigDict(extra="forbid")

    error: str


# --- parsing -----------------------------------------------------------------------------------


class EventErrors(Exception):
    """The body has problems; ``errors`` lists each as ``{"index", "field", "message"}``."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the ticket events")
        self.errors = errors


_BODY: TypeAdapter[IncomingEvent | EventBatch] = TypeAdapter(RequestBody)
_EVENTS: TypeAdapter[list[IncomingEvent]] = TypeAdapter(list[IncomingEvent])

_PATTERN_MESSAGES = {
    "ticket_number": f"must be 1 to {MAX_TICKET_NUMBER} letters, digits or '-'",
    "officer_number": "must be one letter and four digits, e.g. A1234",
    "judiciary_code": "must be exactly 4 digits",
}
"""What a field's pattern means, in words."""

_CHOICES = {"type": _EVENT_TYPES, "violation.category": _CATEGORIES}
"""The values an enum field takes."""


def _problem(index: int, field: str, message: str) -> dict[str, Any]:
    return EventProblem(index=index, field=field, message=message).model_dump()


def _field_message(field: str, error: ErrorDetails) -> str:
    """A plain message for one pydantic error of one event field (never echoing the value)."""
    kind, value, context = error["type"], error["input"], error.get("ctx", {})
    if kind == "missing" or value is None:  # optional fields take null: this one is required
        return "is required"
    if kind in {"string_type", "enum"} and not isinstance(value, str):
        return f"must be a string, not {json_type(value)}"
    if field in _CHOICES and kind in {"enum", "string_unicode"}:
        return f"must be one of: {_CHOICES[field]}"
    if kind in {"string_pattern_mismatch", "string_unicode"} and field in _PATTERN_MESSAGES:
        return _PATTERN_MESSAGES[field]
    if kind == "string_unicode":  # a lone surrogate (``"\\ud800"`` in the JSON) is not text
        return "must be valid Unicode text"
    if field == "event_id" and kind in {"string_too_short", "string_too_long"}:
        return f"must be 1 to {MAX_EVENT_ID} characters"
    if kind == "string_too_long":
        return f"must be at most {context['max_length']} characters"
    if kind == "model_type":
        return f"must be an object, not {json_type(value)}"
    if kind == "float_type":
        if isinstance(value, int) and not isinstance(value, bool):
            return "is too large"
        return f"must be a number of dollars, not {json_type(value)}"
    if kind == "finite_number":
        return "must be a finite number"
    if kind == "greater_than_equal":
        return "must be 0 or more"
    return error["msg"]  # the custom errors above (instants, required-by-type) carry their own message


def _batch_message(error: ErrorDetails) -> str:
    """A plain message for a problem of the ``events`` array itself."""
    kind, value, context = error["type"], error["input"], error.get("ctx", {})
    if kind == "list_type":
        return f"must be an array, not {json_type(value)}"
    if kind == "too_short":
        return "must hold at least 1 event"
    if kind == "too_long":
        return f"must hold at most {MAX_BATCH} events, not {context['actual_length']}"
    return error["msg"]


def _event_problem(index: int, loc: Sequence[int | str], error: ErrorDetails) -> dict[str, Any]:
    """One problem of the event at ``index``; ``loc`` is the path inside the event (empty: the event itself)."""
    if not loc:
        return _problem(index, "events", f"each event must be an object, not {json_type(error['input'])}")
    field = ".".join(str(part) for part in loc)
    return _problem(index, field, _field_message(field, error))


def _body_problems(payload: object, exc: ValidationError, context: dict[str, Any]) -> list[dict[str, Any]]:
    """The problems of a body that failed validation, the problems of every event included."""
    problems = []
    for error in exc.errors(include_url=False):
        if error["type"] == "body_shape":
            message = f'the body must be one event object or {{"events": [...]}}, not {json_type(payload)}'
            return [_problem(0, "events", message)]
        tag, *loc = error["loc"]  # ("event", field...) or ("batch", "events", index, field...)
        if tag == "event":
            problems.append(_event_problem(0, loc, error))
        elif len(loc) > 1:
            problems.append(_event_problem(int(loc[1]), loc[2:], error))
        else:  # the events array itself
            problems.append(_problem(0, "events", _batch_message(error)))
            if error["type"] == "too_long":  # pydantic stops at the limit; list the events' problems all the same
                problems += _item_problems(error["input"], context)
    return problems


def _item_problems(items: list[object], context: dict[str, Any]) -> list[dict[str, Any]]:
    """The problems of each event of a list, validated one by one."""
    try:
        _EVENTS.validate_python(items, context=context)
    except ValidationError as exc:
        return [
            _event_problem(int(error["loc"][0]), error["loc"][1:], error) for error in exc.errors(include_url=False)
        ]
    return []


def _repeated_ids(items: Sequence[object]) -> list[dict[str, Any]]:
    """An error on each event whose ``event_id`` an earlier event of the same request already has."""
    first_index: dict[str, int] = {}
    problems = []
    for index, item in enumerate(items):
        event_id = item.get("event_id") if isinstance(item, dict) else None
        if not isinstance(event_id, str):
            continue
        if event_id in first_index:
            problems.append(
                _problem(index, "event_id", f"repeats the event_id of event {first_index[event_id]} in this request")
            )
        else:
            first_index[event_id] = index
    return problems


def parse_events(payload: object, received_at: datetime) -> list[TicketEvent]:
    """The events of a decoded request body, each stamped ``received_at``; raises EventErrors.

    Problems are listed by event index, each event's in field order, a repeated ``event_id`` last.
    """
    body: IncomingEvent | EventBatch | None = None
    context = {"received_at": received_at}
    try:
        body = _BODY.validate_python(payload, context=context)
        problems: list[dict[str, Any]] = []
    except ValidationError as exc:
        problems = _body_problems(payload, exc, context)
    items = payload["events"] if isinstance(payload, dict) and "events" in payload else [payload]
    if isinstance(items, list):
        problems += _repeated_ids(items)
    if problems or body is None:
        raise EventErrors(sorted(problems, key=lambda problem: problem["index"]))
    events = body.events if isinstance(body, EventBatch) else [body]
    return [event.to_ticket_event(received_at) for event in events]
