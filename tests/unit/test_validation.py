"""Unit tests of the Information Package field rules (domain/validation.py)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import court_date
from domain.records import Actor, OfficerState, Stamp
from domain.validation import (
    AGENCY_FIELDS,
    DPS_USERNAME_PATTERN,
    EMAIL_PATTERN,
    EXTENSION_FIELDS,
    FIELD_RULES,
    JUDICIARY_CODE_PATTERN,
    OFFICER_FIELDS,
    OFFICER_NUMBER_PATTERN,
    PHONE_PATTERN,
    ExtensionEntry,
    FieldErrors,
    OfficerEntry,
    is_judiciary_code,
    is_officer_number,
    parse_agency,
    parse_extension,
    parse_judiciary_code,
    parse_officer,
    parse_officer_number,
)

TZ = ZoneInfo("America/New_York")
TODAY = date(2026, 11, 24)


def agency_values(**overrides: object) -> dict[str, object]:
    """A valid agency form, with overrides."""
    values: dict[str, object] = {
        "judiciary_code": "9000",
        "agency_name": "Williston Police Department",
        "letterhead_address": "7878 Williston Road\nWilliston, VT 05495",
        "letterhead_phone": "(802) 555-0100",
        "poc_name": "Pat Example",
        "poc_email": "pat.example@williston.vt.gov",
    }
    values.update(overrides)
    return values


def officer_values(**overrides: object) -> dict[str, object]:
    """A valid officer form, with overrides."""
    values: dict[str, object] = {
        "officer_number": "A1234",
        "first_name": "Jordan",
        "last_name": "Sample",
        "dps_username": "jsample",
        "start_date": TODAY.isoformat(),
    }
    values.update(overrides)
    return values


def errors_of(call: object, *args: object) -> dict[str, str]:
    with pytest.raises(FieldErrors) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.errors


# Judiciary Code


@pytest.mark.parametrize("text", ["9000", "0123", " 9000 "])
def test_judiciary_code_accepted(text: str) -> None:
    assert parse_judiciary_code(text) == text.strip()
    assert is_judiciary_code(text)


@pytest.mark.parametrize(
    "text", ["900", "90000", "A900", "90 0", "९०००", "９０００", "9000\n0", "", None, 9000, "-900"]
)
def test_judiciary_code_refused(text: object) -> None:
    errors = errors_of(parse_judiciary_code, text)
    assert list(errors) == ["judiciary_code"]
    assert "Judiciary Code" in errors["judiciary_code"]
    assert not is_judiciary_code(text)


def test_judiciary_code_message_names_the_rule() -> None:
    errors = errors_of(parse_judiciary_code, "900")
    assert errors["judiciary_code"] == "Judiciary Code must be exactly 4 digits, like 9000 or 0123."


def test_field_errors_is_a_value_error_with_readable_text() -> None:
    with pytest.raises(ValueError, match="exactly 4 digits"):
        parse_judiciary_code("A900")


# Officer number


@pytest.mark.parametrize(("text", "stored"), [("A1234", "A1234"), ("a1234", "A1234"), (" z0000 ", "Z0000")])
def test_officer_number_accepted_and_upper_cased(text: str, stored: str) -> None:
    assert parse_officer_number(text) == stored
    assert is_officer_number(text)


@pytest.mark.parametrize("text", ["1234A", "AB123", "A123", "A12345", "É1234", "A１２３４", "", None, 1234, ["A1234"]])
def test_officer_number_refused(text: object) -> None:
    errors = errors_of(parse_officer_number, text)
    assert list(errors) == ["officer_number"]
    assert "Officer number" in errors["officer_number"]


def test_officer_number_message() -> None:
    assert errors_of(parse_officer_number, "A123")["officer_number"] == (
        "Officer number must be one letter and four digits, like A1234."
    )


# Agency


def test_parse_agency_valid_and_trimmed() -> None:
    agency = parse_agency(
        agency_values(agency_name="  Williston Police Department  ", letterhead_address="1 Main St\r\nWilliston")
    )
    assert agency.agency_name == "Williston Police Department"
    assert agency.letterhead_address == "1 Main St\nWilliston"
    assert agency.judiciary_code == "9000"


@pytest.mark.parametrize(
    "phone",
    [
        "(802) 555-0100",
        "802-555-0100",
        "802.555.0100",
        "8025550100",
        "1-802-555-0100",
        "+1 802 555 0100",
        "802-555-0100 x12",
        "802-555-0100 ext. 123",
        "(802)555-0100 #4",
    ],
)
def test_phone_accepted_as_typed(phone: str) -> None:
    assert parse_agency(agency_values(letterhead_phone=f" {phone} ")).letterhead_phone == phone


@pytest.mark.parametrize(
    "phone",
    [
        "555-0100",
        "802-555-010",
        "802-555-01000",
        "+44 20 7946 0958",
        "102-555-0100",
        "phone",
        "802 555 0100 x",
        "802--555-0100",
    ],
)
def test_phone_refused(phone: str) -> None:
    errors = errors_of(parse_agency, agency_values(letterhead_phone=phone))
    assert "US number" in errors["letterhead_phone"]


@pytest.mark.parametrize("email", ["a@b.co", "pat.example+jb@williston.vt.gov", "X_Y@sub.example.org"])
def test_email_accepted(email: str) -> None:
    assert parse_agency(agency_values(poc_email=email)).poc_email == email


@pytest.mark.parametrize(
    "email",
    [
        "pat",
        "pat@",
        "@example.gov",
        "pat@example",
        "pat@@example.gov",
        "pat@ex@ample.gov",
        "pat example@x.gov",
        "pat@example..gov",
        "pat@.example.gov",
        "pat@example.gov.",
        "a" * 65 + "@example.gov",
        "a@" + "b" * 250 + ".gov",
    ],
)
def test_bad_email_refused(email: str) -> None:
    errors = errors_of(parse_agency, agency_values(poc_email=email))
    assert list(errors) == ["poc_email"]
    assert "e-mail" in errors["poc_email"]


def test_agency_all_errors_at_once() -> None:
    values = {
        "judiciary_code": "900",
        "agency_name": "",
        "letterhead_address": None,
        "letterhead_phone": "12",
        "poc_name": "x" * 101,
        "poc_email": "nobody",
    }
    errors = errors_of(parse_agency, values)
    assert set(errors) == set(AGENCY_FIELDS)
    assert errors["agency_name"] == "Agency name is required."
    assert errors["poc_name"] == "Point-of-Contact name must be at most 100 characters."


def test_agency_name_control_characters_refused() -> None:
    errors = errors_of(parse_agency, agency_values(agency_name="Williston\x00 PD", poc_name="Pat\u202eEvil"))
    assert errors["agency_name"] == "Agency name must not contain control characters."
    assert "control characters" in errors["poc_name"]


def test_non_mapping_form_is_refused_plainly() -> None:
    assert "form" in errors_of(parse_agency, None)
    assert "form" in errors_of(parse_officer, ["A1234"], TODAY)


# Officer


def test_parse_officer_valid() -> None:
    entry = parse_officer(
        officer_values(officer_number="a1234", first_name=" Zoë ", dps_username="j.sample_2-x"), TODAY
    )
    assert entry == OfficerEntry("A1234", "Zoë", "Sample", "j.sample_2-x", TODAY)


def test_officer_entry_becomes_monitoring_membership() -> None:
    stamp = Stamp(actor=Actor(aad_id="poc-1"), at=datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
    officer = parse_officer(officer_values(), TODAY).to_officer("9000", stamp)
    assert officer.state is OfficerState.MONITORING
    assert officer.key == "9000:A1234"
    assert officer.added == stamp


@pytest.mark.parametrize("username", ["j sample", "jsample@dps", "x" * 65, "DPS\\jsample", "jöra"])
def test_dps_username_refused(username: str) -> None:
    assert (
        "DPS network username" in errors_of(parse_officer, officer_values(dps_username=username), TODAY)["dps_username"]
    )


def test_start_date_today_ok_and_yesterday_refused() -> None:
    assert parse_officer(officer_values(start_date="2026-11-24"), TODAY).start_date == TODAY
    errors = errors_of(parse_officer, officer_values(start_date="2026-11-23"), TODAY)
    assert errors == {"start_date": "Expected start date must be today (Tue Nov 24, 2026) or later."}


def test_start_date_today_is_the_vermont_today() -> None:
    now = datetime(2026, 11, 25, 3, 30, tzinfo=UTC)  # 22:30 on Nov 24 in New York
    today = court_date(now, TZ)
    assert today == date(2026, 11, 24)
    assert parse_officer(officer_values(start_date="2026-11-24"), today).start_date == date(2026, 11, 24)
    assert "start_date" in errors_of(parse_officer, officer_values(start_date="2026-11-23"), today)


@pytest.mark.parametrize("text", ["2026-02-30", "2026-13-01"])
def test_start_date_not_a_real_date(text: str) -> None:
    assert "real calendar date" in errors_of(parse_officer, officer_values(start_date=text), TODAY)["start_date"]


@pytest.mark.parametrize("text", ["11/24/2026", "20261124", "2026-11-24T00:00", "2026-W48-2", "tomorrow"])
def test_start_date_must_be_iso(text: str) -> None:
    assert "like 2026-11-24" in errors_of(parse_officer, officer_values(start_date=text), TODAY)["start_date"]


def test_officer_all_errors_at_once() -> None:
    values = {
        "officer_number": "1234A",
        "first_name": None,
        "last_name": "\x07",
        "dps_username": [],
        "start_date": "2020-01-01",
    }
    errors = errors_of(parse_officer, values, TODAY)
    assert set(errors) == set(OFFICER_FIELDS)
    assert errors["first_name"] == "First name is required."
    assert errors["dps_username"] == "DPS network username must be text."


def test_name_newline_refused() -> None:
    assert "control characters" in errors_of(parse_officer, officer_values(last_name="Sam\nple"), TODAY)["last_name"]


# Extension


def test_parse_extension() -> None:
    entry = parse_extension({"until": "2026-12-01", "reason": "  Two rejected e-tickets; watch one more week. "}, TODAY)
    assert entry == ExtensionEntry(date(2026, 12, 1), "Two rejected e-tickets; watch one more week.")
    until, _reason = entry
    assert until == date(2026, 12, 1)


def test_extension_errors() -> None:
    errors = errors_of(parse_extension, {"until": "2026-11-23", "reason": " "}, TODAY)
    assert set(errors) == set(EXTENSION_FIELDS)
    assert "today" in errors["until"]
    assert errors["reason"] == "Reason is required."
    assert parse_extension({"until": "2026-11-24", "reason": "x"}, TODAY).until == TODAY


# Hostile values never crash


HOSTILE: list[object] = [
    None,
    5,
    5.5,
    True,
    [],
    {},
    ["9000"],
    {"a": 1},
    "",
    " ",
    "x" * 100_000,
    "\x00",
    "\ud800",
    "\u202e",
    "🚓🚓",
    "Ａ１２３４",
    "٩٠٠٠",
    "9000\n",
    "a@b.c\n",
    "\u2028",
    "2026-11-24\x00",
]


@pytest.mark.parametrize("value", HOSTILE, ids=lambda value: repr(value)[:20])
def test_hostile_values_give_messages(value: object) -> None:
    forms = [
        (parse_agency, {field: value for field in AGENCY_FIELDS}),
        (lambda values: parse_officer(values, TODAY), {field: value for field in OFFICER_FIELDS}),
        (lambda values: parse_extension(values, TODAY), {field: value for field in EXTENSION_FIELDS}),
    ]
    for parse, values in forms:
        try:
            parse(values)
        except FieldErrors as problem:
            for field, message in problem.errors.items():
                assert field in values
                assert message.endswith(".") and len(message) < 200
                assert "x" * 50 not in message


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=5,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(AGENCY_FIELDS + OFFICER_FIELDS + EXTENSION_FIELDS + ("extra",)), JSON))
def test_any_json_values_never_crash(values: dict[str, object]) -> None:
    for parse in (parse_agency, lambda v: parse_officer(v, TODAY), lambda v: parse_extension(v, TODAY)):
        try:
            parse(values)
        except FieldErrors as problem:
            assert problem.errors
            assert all(isinstance(message, str) and message for message in problem.errors.values())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_single_parsers_never_crash(text: str) -> None:
    for parse in (parse_judiciary_code, parse_officer_number):
        try:
            result = parse(text)
        except FieldErrors as problem:
            assert len(problem.errors) == 1
        else:
            assert result == result.strip().upper()


# Patterns for cards


def test_patterns_agree_with_parsers() -> None:
    assert re.fullmatch(JUDICIARY_CODE_PATTERN, "0123") and not re.fullmatch(JUDICIARY_CODE_PATTERN, "A900")
    assert re.fullmatch(OFFICER_NUMBER_PATTERN, "a1234") and not re.fullmatch(OFFICER_NUMBER_PATTERN, "AB123")
    assert re.fullmatch(DPS_USERNAME_PATTERN, "j.sample") and not re.fullmatch(DPS_USERNAME_PATTERN, "j sample")
    assert re.fullmatch(PHONE_PATTERN, "(802) 555-0100 x12") and not re.fullmatch(PHONE_PATTERN, "555-0100")
    assert re.fullmatch(EMAIL_PATTERN, "a@b.co") and not re.fullmatch(EMAIL_PATTERN, "a b@c.co")


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[ -~]{0,8}", fullmatch=True))
def test_exact_patterns_are_the_whole_rule(text: str) -> None:
    assert (re.fullmatch(JUDICIARY_CODE_PATTERN, text) is not None) == is_judiciary_code(text) or text != text.strip()
    assert (re.fullmatch(OFFICER_NUMBER_PATTERN, text) is not None) == is_officer_number(text) or text != text.strip()


def test_patterns_are_javascript_safe() -> None:
    for rule in FIELD_RULES.values():
        if rule.pattern is None:
            continue
        assert rule.pattern.startswith("^") and rule.pattern.endswith("$")
        # No Python-only syntax: named groups, inline flags, lookbehind, \A \Z, possessive or \d/\w classes.
        assert not re.search(r"\(\?|\\[AZdwDW]", rule.pattern), rule.field_id
        assert rule.message.endswith(".")
        assert rule.label


# Input that used to go wrong quietly (issue 14)


@pytest.mark.parametrize("name", ["\u200b", "\ufeff", "\u200b\ufeff\u200b", "...", "-"])
def test_names_without_a_letter_or_digit_are_refused(name: str) -> None:
    errors = errors_of(parse_officer, officer_values(first_name=name, last_name=name), TODAY)
    assert set(errors) == {"first_name", "last_name"}
    assert "letters or digits" in errors["first_name"]
    assert "agency_name" in errors_of(parse_agency, agency_values(agency_name=name))


@pytest.mark.parametrize("username", [".", "-", "_", ".jsample", "-x"])
def test_a_dps_username_must_start_with_a_letter_or_digit(username: str) -> None:
    assert set(errors_of(parse_officer, officer_values(dps_username=username), TODAY)) == {"dps_username"}
    assert parse_officer(officer_values(dps_username="j.sample-2"), TODAY).dps_username == "j.sample-2"


def test_a_start_date_more_than_a_year_ahead_is_a_slip() -> None:
    errors = errors_of(parse_officer, officer_values(start_date="9999-12-31"), TODAY)
    assert "within a year" in errors["start_date"]
    assert parse_officer(officer_values(start_date="2027-11-24"), TODAY).start_date == date(2027, 11, 24)
    assert "until" in errors_of(parse_extension, {"until": "2030-01-01", "reason": "Watch"}, TODAY)


def test_a_tab_pasted_into_the_address_is_a_space_not_a_control_character() -> None:
    agency = parse_agency(agency_values(letterhead_address="7878 Williston Road\tWilliston, VT 05495"))
    assert agency.letterhead_address == "7878 Williston Road Williston, VT 05495"


def test_the_code_boxes_take_one_character_more_so_a_pasted_long_code_is_refused_not_cut() -> None:
    assert FIELD_RULES["judiciary_code"].input_length == 5
    assert FIELD_RULES["officer_number"].input_length == 6
    assert "judiciary_code" in errors_of(parse_agency, agency_values(judiciary_code="12345"))
