"""Property tests: every parser takes any hostile value and answers with a value that obeys the rules,
or with its own error listing clear messages; never another exception."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import router
from domain.records import EventType
from domain.validation import (
    AGENCY_FIELDS,
    EXTENSION_FIELDS,
    FIELD_RULES,
    OFFICER_FIELDS,
    FieldErrors,
    has_control_characters,
    parse_agency,
    parse_extension,
    parse_judiciary_code,
    parse_officer,
    parse_officer_number,
)
from intake.wire import MAX_BATCH, EventErrors, parse_events
from tests.security.conftest import examples
from tests.security.strategies import hostile_form, hostile_text, json_values

TODAY = date(2026, 11, 21)
RECEIVED = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)

GOOD_EVENT = {
    "event_id": "e-1",
    "type": "rejected",
    "ticket_number": "VT-0001",
    "officer_number": "a1234",
    "judiciary_code": "9000",
    "occurred_at": "2026-11-20T15:00:00Z",
    "issued_at": "2026-11-20T14:00:00-05:00",
    "reason": "Missing plate state",
    "violation": {"category": "civil_ordinance", "statute": "x", "full_penalty": 10, "waiver_penalty": 5},
}
EVENT_FIELDS = (*GOOD_EVENT, "violation")

violations = st.one_of(
    json_values, hostile_form(("category", "statute", "full_penalty", "waiver_penalty"), GOOD_EVENT["violation"])
)
events = st.builds(
    lambda form, violation, keep: form | ({"violation": violation} if not keep else {}),
    hostile_form(tuple(name for name in GOOD_EVENT if name != "violation"), GOOD_EVENT),
    violations,
    st.booleans(),
)
bodies = st.one_of(
    json_values,
    events,
    st.builds(lambda items: {"events": items}, st.lists(st.one_of(events, json_values), max_size=6)),
    st.builds(lambda extra: {"events": extra}, json_values),
    st.just({"events": [GOOD_EVENT] * (MAX_BATCH + 1)}),
    st.just({"events": []}),
)


def _assert_clear(errors: list[dict[str, Any]], count: int) -> None:
    assert errors, "an error must say what is wrong"
    for error in errors:
        assert set(error) == {"index", "field", "message"}, error
        assert isinstance(error["index"], int) and 0 <= error["index"] < max(count, 1)
        assert isinstance(error["field"], str) and error["field"]
        assert isinstance(error["message"], str) and error["message"].strip()
        assert len(error["message"]) < 400, "messages describe the problem; they do not echo the input"


@settings(max_examples=examples(300))
@given(bodies)
def test_parse_events_returns_valid_events_or_clear_errors(body: Any) -> None:
    count = len(body["events"]) if isinstance(body, dict) and isinstance(body.get("events"), list) else 1
    try:
        parsed = parse_events(body, RECEIVED)
    except EventErrors as problem:
        _assert_clear(problem.errors, count)
        return
    assert 1 <= len(parsed) <= MAX_BATCH and len(parsed) == count
    assert len({event.event_id for event in parsed}) == len(parsed)
    for event in parsed:
        assert 1 <= len(event.event_id) <= 128
        assert re.fullmatch(r"[A-Za-z0-9-]{1,32}", event.ticket_number)
        assert re.fullmatch(r"[A-Z][0-9]{4}", event.officer_number)
        assert re.fullmatch(r"[0-9]{4}", event.judiciary_code)
        assert event.occurred_at.tzinfo is not None
        assert event.issued_at is None or event.issued_at.tzinfo is not None
        if event.type is EventType.SUBMITTED:
            assert event.issued_at is not None
        if event.type is EventType.REJECTED:
            assert event.reason is not None and event.reason.strip()
        assert event.reason is None or len(event.reason) <= 1000
        if event.violation is not None:
            for amount in (event.violation.full_penalty, event.violation.waiver_penalty):
                assert amount is None or (math.isfinite(amount) and amount >= 0)
        event.model_dump(mode="json")  # what is stored serializes


def _assert_field_errors(problem: FieldErrors, allowed: set[str]) -> None:
    assert problem.errors
    for field_id, message in problem.errors.items():
        assert field_id in allowed | {"form"}, field_id
        assert isinstance(message, str) and message.strip() and len(message) < 400
    assert str(problem)


def _assert_clean_text(value: str, field_id: str, *, line_breaks: bool = False) -> None:
    assert value == value.strip() and value
    assert len(value) <= FIELD_RULES[field_id].max_length
    assert not has_control_characters(value, allow_line_breaks=line_breaks)


forms_or_junk = lambda fields, good: st.one_of(hostile_form(fields, good), json_values)  # noqa: E731

GOOD_AGENCY = {
    "judiciary_code": "0412",
    "agency_name": "Williston Police Department",
    "letterhead_address": "7928 Williston Rd\nWilliston, VT 05495",
    "letterhead_phone": "(802) 878-6611",
    "poc_name": "Pat Poc",
    "poc_email": "pat.poc@williston.example",
}
GOOD_OFFICER = {
    "officer_number": "a1234",
    "first_name": "Casey",
    "last_name": "Officer",
    "dps_username": "cofficer",
    "start_date": "2026-12-01",
}


@settings(max_examples=examples(200))
@given(forms_or_junk(AGENCY_FIELDS, GOOD_AGENCY))
def test_parse_agency_returns_clean_fields_or_clear_errors(values: Any) -> None:
    try:
        agency = parse_agency(values)
    except FieldErrors as problem:
        _assert_field_errors(problem, set(AGENCY_FIELDS))
        return
    assert re.fullmatch(r"[0-9]{4}", agency.judiciary_code)
    for name in ("agency_name", "poc_name", "letterhead_phone", "poc_email"):
        _assert_clean_text(getattr(agency, name), name)
    _assert_clean_text(agency.letterhead_address, "letterhead_address", line_breaks=True)
    assert "\r" not in agency.letterhead_address
    assert agency.poc_email.count("@") == 1


@settings(max_examples=examples(200))
@given(forms_or_junk(OFFICER_FIELDS, GOOD_OFFICER))
def test_parse_officer_returns_clean_fields_or_clear_errors(values: Any) -> None:
    try:
        entry = parse_officer(values, TODAY)
    except FieldErrors as problem:
        _assert_field_errors(problem, set(OFFICER_FIELDS))
        return
    assert re.fullmatch(r"[A-Z][0-9]{4}", entry.officer_number)
    for name in ("first_name", "last_name"):
        _assert_clean_text(getattr(entry, name), name)
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}", entry.dps_username)
    assert isinstance(entry.start_date, date) and entry.start_date >= TODAY


@settings(max_examples=examples(150))
@given(forms_or_junk(EXTENSION_FIELDS, {"until": "2026-12-31", "reason": "Needs more tickets"}))
def test_parse_extension_returns_clean_fields_or_clear_errors(values: Any) -> None:
    try:
        entry = parse_extension(values, TODAY)
    except FieldErrors as problem:
        _assert_field_errors(problem, set(EXTENSION_FIELDS))
        return
    assert entry.until >= TODAY
    _assert_clean_text(entry.reason, "reason", line_breaks=True)


@settings(max_examples=examples(200))
@given(st.one_of(json_values, hostile_text, st.from_regex(r"\s*[0-9]{4}\s*", fullmatch=True)))
def test_parse_judiciary_code_returns_four_digits_or_a_clear_error(value: Any) -> None:
    try:
        code = parse_judiciary_code(value)
    except FieldErrors as problem:
        _assert_field_errors(problem, {"judiciary_code"})
        return
    assert re.fullmatch(r"[0-9]{4}", code)


@settings(max_examples=examples(200))
@given(st.one_of(json_values, hostile_text, st.from_regex(r"\s*[A-Za-z][0-9]{4}\s*", fullmatch=True)))
def test_parse_officer_number_returns_a_letter_and_four_digits_or_a_clear_error(value: Any) -> None:
    try:
        number = parse_officer_number(value)
    except FieldErrors as problem:
        _assert_field_errors(problem, {"officer_number"})
        return
    assert re.fullmatch(r"[A-Z][0-9]{4}", number)


@settings(max_examples=examples(300))
@given(st.one_of(st.none(), hostile_text, st.builds(lambda a, b: f"{a}<at>{b}</at> /{a}", hostile_text, hostile_text)))
def test_router_parse_never_fails(text: str | None) -> None:
    parsed = router.parse(text)
    if parsed is None:
        return
    assert isinstance(parsed.name, str) and isinstance(parsed.args, str)
    assert parsed.name == parsed.name.lower() and not parsed.name.startswith("/")
    assert " " not in parsed.name and parsed.args == parsed.args.strip()
