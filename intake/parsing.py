"""Turn a decoded ticket-event request body into TicketEvents, or list every problem in it.

The body is one event object or ``{"events": [...]}`` with 1 to ``MAX_BATCH`` events. Every
problem of every event is collected (``EventErrors``); nothing is half-parsed. Unknown fields
are ignored; a wrong JSON type anywhere is an error for that field, never a crash.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from domain.records import EventType, TicketEvent, Violation, ViolationCategory
from domain.validation import JUDICIARY_CODE_PATTERN, OFFICER_NUMBER_PATTERN

MAX_BATCH = 500
"""The most events one request may carry."""

MAX_EVENT_ID = 128
MAX_TICKET_NUMBER = 32
MAX_REASON = 1000
MAX_STATUTE = 200

_TICKET_NUMBER = re.compile(r"[A-Za-z0-9-]{1,32}")
_OFFICER_NUMBER = re.compile(OFFICER_NUMBER_PATTERN)  # the same rules as the Information Package's
_JUDICIARY_CODE = re.compile(JUDICIARY_CODE_PATTERN)
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})"
)
_NAIVE_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?")

_EVENT_TYPES = ", ".join(t.value for t in EventType)
_CATEGORIES = ", ".join(c.value for c in ViolationCategory)


class EventErrors(Exception):
    """The body has problems; ``errors`` lists each as ``{"index", "field", "message"}``."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the ticket events")
        self.errors = errors


class _Collector:
    """Collects the problems of one event, tagged with the event's index in the request."""

    def __init__(self, index: int, errors: list[dict[str, Any]]) -> None:
        self.index = index
        self.errors = errors

    def add(self, field: str, message: str) -> None:
        """Record one problem with ``field``."""
        self.errors.append({"index": self.index, "field": field, "message": message})


def _json_type(value: object) -> str:
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


def _text(event: dict[str, Any], field: str, out: _Collector, *, required: bool) -> str | None:
    """The string at ``field``; None when absent or null (an error if required)."""
    value = event.get(field)
    if value is None:
        if required:
            out.add(field, "is required")
        return None
    if not isinstance(value, str):
        out.add(field, f"must be a string, not {_json_type(value)}")
        return None
    return value


def _instant(event: dict[str, Any], field: str, out: _Collector, *, required: bool) -> datetime | None:
    """The ISO 8601 instant with a UTC offset at ``field``; naive times are errors."""
    value = _text(event, field, out, required=required)
    if value is None:
        return None
    if _INSTANT.fullmatch(value) is None:
        if _NAIVE_INSTANT.fullmatch(value) is not None:
            out.add(field, "must include a UTC offset, e.g. 2024-05-01T14:30:00-04:00 or 2024-05-01T18:30:00Z")
        else:
            out.add(field, "must be an ISO 8601 date and time with offset, e.g. 2024-05-01T14:30:00-04:00")
        return None
    try:
        parsed = datetime.fromisoformat(value.upper())
    except ValueError as exc:
        out.add(field, f"is not a valid date and time ({exc})")
        return None
    if parsed.tzinfo is None:  # pragma: no cover - the pattern requires an offset
        out.add(field, "must include a UTC offset")
        return None
    return parsed


def _penalty(violation: dict[str, Any], field: str, out: _Collector) -> float | None:
    """A penalty in dollars: a finite JSON number >= 0 (booleans are not numbers)."""
    value = violation.get(field)
    name = f"violation.{field}"
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        out.add(name, f"must be a number of dollars, not {_json_type(value)}")
        return None
    try:
        amount = float(value)
    except OverflowError:
        out.add(name, "is too large")
        return None
    if not math.isfinite(amount):
        out.add(name, "must be a finite number")
        return None
    if amount < 0:
        out.add(name, "must be 0 or more")
        return None
    return amount


def _violation(event: dict[str, Any], out: _Collector) -> Violation | None:
    """The optional ``violation`` object."""
    value = event.get("violation")
    if value is None:
        return None
    if not isinstance(value, dict):
        out.add("violation", f"must be an object, not {_json_type(value)}")
        return None
    category: ViolationCategory | None = None
    raw_category = value.get("category")
    if raw_category is not None:
        if not isinstance(raw_category, str):
            out.add("violation.category", f"must be a string, not {_json_type(raw_category)}")
        else:
            try:
                category = ViolationCategory(raw_category)
            except ValueError:
                out.add("violation.category", f"must be one of: {_CATEGORIES}")
    statute = value.get("statute")
    if statute is not None:
        if not isinstance(statute, str):
            out.add("violation.statute", f"must be a string, not {_json_type(statute)}")
            statute = None
        elif len(statute) > MAX_STATUTE:
            out.add("violation.statute", f"must be at most {MAX_STATUTE} characters")
            statute = None
    return Violation(
        category=category,
        statute=statute,
        full_penalty=_penalty(value, "full_penalty", out),
        waiver_penalty=_penalty(value, "waiver_penalty", out),
    )


def _parse_event(raw: object, out: _Collector, received_at: datetime) -> TicketEvent | None:
    """One event, or None after adding its problems to ``out``."""
    if not isinstance(raw, dict):
        out.add("events", f"each event must be an object, not {_json_type(raw)}")
        return None
    before = len(out.errors)

    event_id = _text(raw, "event_id", out, required=True)
    if event_id is not None and not 1 <= len(event_id) <= MAX_EVENT_ID:
        out.add("event_id", f"must be 1 to {MAX_EVENT_ID} characters")

    event_type: EventType | None = None
    raw_type = _text(raw, "type", out, required=True)
    if raw_type is not None:
        try:
            event_type = EventType(raw_type)
        except ValueError:
            out.add("type", f"must be one of: {_EVENT_TYPES}")

    ticket_number = _text(raw, "ticket_number", out, required=True)
    if ticket_number is not None and _TICKET_NUMBER.fullmatch(ticket_number) is None:
        out.add("ticket_number", f"must be 1 to {MAX_TICKET_NUMBER} letters, digits or '-'")

    officer_number = _text(raw, "officer_number", out, required=True)
    if officer_number is not None and _OFFICER_NUMBER.fullmatch(officer_number) is None:
        out.add("officer_number", "must be one letter and four digits, e.g. A1234")

    judiciary_code = _text(raw, "judiciary_code", out, required=True)
    if judiciary_code is not None and _JUDICIARY_CODE.fullmatch(judiciary_code) is None:
        out.add("judiciary_code", "must be exactly 4 digits")

    occurred_at = _instant(raw, "occurred_at", out, required=True)
    issued_at = _instant(raw, "issued_at", out, required=event_type is EventType.SUBMITTED)

    reason = _text(raw, "reason", out, required=event_type is EventType.REJECTED)
    if reason is not None:
        if len(reason) > MAX_REASON:
            out.add("reason", f"must be at most {MAX_REASON} characters")
        elif not reason.strip():
            if event_type is EventType.REJECTED:
                out.add("reason", "must not be empty for a rejected e-ticket")
            reason = None

    violation = _violation(raw, out)

    if len(out.errors) > before:
        return None
    assert event_id is not None and event_type is not None and ticket_number is not None
    assert officer_number is not None and judiciary_code is not None and occurred_at is not None
    return TicketEvent(
        event_id=event_id,
        type=event_type,
        ticket_number=ticket_number,
        officer_number=officer_number.upper(),
        judiciary_code=judiciary_code,
        occurred_at=occurred_at,
        issued_at=issued_at,
        reason=reason,
        violation=violation,
        received_at=received_at,
    )


def parse_events(payload: object, received_at: datetime) -> list[TicketEvent]:
    """The events of a decoded request body, each stamped ``received_at``; raises EventErrors."""
    errors: list[dict[str, Any]] = []
    if isinstance(payload, dict) and "events" in payload:
        items = payload["events"]
        if not isinstance(items, list):
            raise EventErrors(
                [{"index": 0, "field": "events", "message": f"must be an array, not {_json_type(items)}"}]
            )
        if not items:
            errors.append({"index": 0, "field": "events", "message": "must hold at least 1 event"})
        elif len(items) > MAX_BATCH:
            errors.append(
                {"index": 0, "field": "events", "message": f"must hold at most {MAX_BATCH} events, not {len(items)}"}
            )
    elif isinstance(payload, dict):
        items = [payload]
    else:
        raise EventErrors(
            [
                {
                    "index": 0,
                    "field": "events",
                    "message": f'the body must be one event object or {{"events": [...]}}, not {_json_type(payload)}',
                }
            ]
        )

    events: list[TicketEvent] = []
    first_index: dict[str, int] = {}
    for index, raw in enumerate(items):
        out = _Collector(index, errors)
        event = _parse_event(raw, out, received_at)
        raw_id = raw.get("event_id") if isinstance(raw, dict) else None
        if isinstance(raw_id, str):
            if raw_id in first_index:
                out.add("event_id", f"repeats the event_id of event {first_index[raw_id]} in this request")
            else:
                first_index[raw_id] = index
        if event is not None:
            events.append(event)
    if errors:
        raise EventErrors(errors)
    return events
