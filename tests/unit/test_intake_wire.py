"""Unit tests of the ticket-event parser and the signature helpers: plain function calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.records import EventType, ViolationCategory
from intake.signature import sign, verify
from intake.wire import EventErrors, parse_events

RECEIVED = datetime(2024, 5, 3, 12, 0, tzinfo=UTC)


def make_event(**overrides: Any) -> dict[str, Any]:
    """A valid `accepted` event as JSON, with fields replaced (a value of ... removes the field)."""
    event: dict[str, Any] = {
        "event_id": "odyssey-1",
        "type": "accepted",
        "ticket_number": "VT-24-1",
        "officer_number": "A1234",
        "judiciary_code": "0412",
        "occurred_at": "2024-05-01T14:30:00Z",
    }
    for key, value in overrides.items():
        if value is ...:
            event.pop(key, None)
        else:
            event[key] = value
    return event


def problems(payload: object) -> list[tuple[int, str]]:
    """The (index, field) of every problem ``parse_events`` reports for ``payload``."""
    with pytest.raises(EventErrors) as caught:
        parse_events(payload, RECEIVED)
    assert all(set(error) == {"index", "field", "message"} and error["message"] for error in caught.value.errors)
    return [(error["index"], error["field"]) for error in caught.value.errors]


def parse_one(**overrides: Any) -> Any:
    """The single TicketEvent parsed from ``make_event(**overrides)``."""
    [event] = parse_events(make_event(**overrides), RECEIVED)
    return event


def test_minimal_event_parses_with_received_at() -> None:
    event = parse_one()
    assert event.type is EventType.ACCEPTED
    assert event.occurred_at == datetime(2024, 5, 1, 14, 30, tzinfo=UTC)
    assert event.issued_at is None and event.reason is None and event.violation is None
    assert event.received_at == RECEIVED


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("2024-05-01T14:30:00Z", timedelta(0)),
        ("2024-05-01t14:30:00z", timedelta(0)),
        ("2024-05-01T14:30Z", timedelta(0)),
        ("2024-05-01T14:30:00.123456-04:00", timedelta(hours=-4)),
        ("2024-05-01T14:30:00+0530", timedelta(hours=5, minutes=30)),
    ],
)
def test_timestamps_with_an_offset_are_accepted(text: str, offset: timedelta) -> None:
    event = parse_one(occurred_at=text, issued_at=text)
    assert event.occurred_at.utcoffset() == offset
    assert event.issued_at == event.occurred_at


@pytest.mark.parametrize("text", ["2024-05-01T14:30:00", "2024-05-01 14:30:00", "2024-05-01T14:30:00.5", "2024-05-01"])
def test_naive_timestamps_are_refused(text: str) -> None:
    assert problems(make_event(occurred_at=text, issued_at=text)) == [(0, "occurred_at"), (0, "issued_at")]


@pytest.mark.parametrize(
    "text", ["yesterday", "", "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-05-01T24:00:00Z", "1714574400"]
)
def test_malformed_timestamps_are_refused(text: str) -> None:
    assert problems(make_event(occurred_at=text)) == [(0, "occurred_at")]


@pytest.mark.parametrize("text", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"])
def test_instants_the_store_cannot_hold_are_refused(text: str) -> None:
    assert problems(make_event(issued_at=text)) == [(0, "issued_at")]
    assert problems(make_event(occurred_at=text)) == [(0, "occurred_at")]


def test_instants_more_than_a_day_after_receipt_are_refused() -> None:
    assert parse_one(occurred_at="2024-05-04T12:00:00Z").occurred_at == RECEIVED + timedelta(days=1)
    assert problems(make_event(occurred_at="2024-05-04T12:00:01Z")) == [(0, "occurred_at")]
    assert problems(make_event(issued_at="2024-05-04T08:00:01-04:00")) == [(0, "issued_at")]


def test_submitted_needs_issued_at() -> None:
    assert problems(make_event(type="submitted")) == [(0, "issued_at")]
    assert problems(make_event(type="submitted", issued_at=None)) == [(0, "issued_at")]
    assert parse_one(type="submitted", issued_at="2024-05-01T09:00:00-04:00").issued_at is not None


def test_issued_at_is_allowed_on_every_type() -> None:
    for event_type in EventType:
        extra = {"reason": "x"} if event_type is EventType.REJECTED else {}
        assert parse_one(type=event_type.value, issued_at="2024-05-01T09:00:00Z", **extra).type is event_type


def test_rejected_needs_a_non_empty_reason() -> None:
    assert problems(make_event(type="rejected")) == [(0, "reason")]
    assert problems(make_event(type="rejected", reason="")) == [(0, "reason")]
    assert problems(make_event(type="rejected", reason="   ")) == [(0, "reason")]
    assert parse_one(type="rejected", reason="Statute not found").reason == "Statute not found"


def test_reason_too_long() -> None:
    assert parse_one(type="rejected", reason="r" * 1000).reason == "r" * 1000
    assert problems(make_event(type="rejected", reason="r" * 1001)) == [(0, "reason")]
    assert problems(make_event(reason="r" * 1001)) == [(0, "reason")]


def test_event_id_length() -> None:
    assert parse_one(event_id="e" * 128).event_id == "e" * 128
    assert problems(make_event(event_id="e" * 129)) == [(0, "event_id")]
    assert problems(make_event(event_id="")) == [(0, "event_id")]
    assert problems(make_event(event_id=...)) == [(0, "event_id")]


def test_ticket_number_shape() -> None:
    assert parse_one(ticket_number="A" * 32).ticket_number == "A" * 32
    assert problems(make_event(ticket_number="A" * 33)) == [(0, "ticket_number")]
    for bad in ["", "VT 24", "VT_24", "VT-24\n", "٣٤"]:
        assert problems(make_event(ticket_number=bad)) == [(0, "ticket_number")], bad


def test_officer_number_is_stored_upper_case() -> None:
    assert parse_one(officer_number="b0007").officer_number == "B0007"
    for bad in ["A123", "A12345", "1A234", "AB123", "A123\n", "A١٢٣٤"]:
        assert problems(make_event(officer_number=bad)) == [(0, "officer_number")], bad


def test_judiciary_code_is_exactly_four_digits() -> None:
    assert parse_one(judiciary_code="0001").judiciary_code == "0001"
    for bad in ["412", "04120", "04a2", 412]:
        assert problems(make_event(judiciary_code=bad)) == [(0, "judiciary_code")], bad


def test_unknown_type() -> None:
    assert problems(make_event(type="Accepted")) == [(0, "type")]


def test_violation_parts() -> None:
    violation = parse_one(
        violation={"category": "civil_ordinance", "statute": "s" * 200, "full_penalty": 0, "waiver_penalty": 12.5}
    ).violation
    assert violation.category is ViolationCategory.CIVIL_ORDINANCE
    assert (violation.full_penalty, violation.waiver_penalty) == (0.0, 12.5)
    assert parse_one(violation={}).violation is not None
    assert parse_one(violation=None).violation is None


@pytest.mark.parametrize("value", [True, False])
def test_booleans_are_not_penalties(value: bool) -> None:
    assert problems(make_event(violation={"full_penalty": value, "waiver_penalty": value})) == [
        (0, "violation.full_penalty"),
        (0, "violation.waiver_penalty"),
    ]


@pytest.mark.parametrize("value", [-1, -0.01, float("inf"), float("nan"), 10**400, "10", [10]])
def test_bad_penalties(value: object) -> None:
    assert problems(make_event(violation={"full_penalty": value})) == [(0, "violation.full_penalty")]


def test_bad_violation_parts() -> None:
    assert problems(make_event(violation="traffic")) == [(0, "violation")]
    assert problems(make_event(violation={"category": "parking"})) == [(0, "violation.category")]
    assert problems(make_event(violation={"statute": "s" * 201})) == [(0, "violation.statute")]


def test_batch_edges() -> None:
    assert len(parse_events({"events": [make_event(event_id=f"e{i}") for i in range(500)]}, RECEIVED)) == 500
    assert problems({"events": []}) == [(0, "events")]
    assert problems({"events": [make_event(event_id=f"e{i}") for i in range(501)]}) == [(0, "events")]
    assert problems({"events": "all"}) == [(0, "events")]
    assert problems([make_event()]) == [(0, "events")]


def test_duplicate_event_id_in_a_batch_is_an_error_on_the_later_one() -> None:
    batch = {"events": [make_event(event_id="a"), make_event(event_id="b"), make_event(event_id="a", type="x")]}
    assert problems(batch) == [(2, "type"), (2, "event_id")]


def test_signature_round_trip_and_case() -> None:
    body = b'{"event_id": "x"}'
    header = sign("s3cret", body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify("s3cret", body, header)
    assert verify("s3cret", body, "SHA256=" + header[7:].upper())
    assert not verify("s3cret", body + b" ", header)
    assert not verify("other", body, header)
    assert not verify("s3cret", body, None)
    assert not verify("", body, sign("", body))
    assert not verify("s3cret", body, "sha256=é" + header[8:])
