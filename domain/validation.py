"""Field rules for the Information Package (SOP 6.1, Chart 1), its officers, and monitoring extensions.

Every parser takes values exactly as they arrived (a card's ``data``, a JSON body: any JSON type,
any length, any characters), never crashes on them, and reports *all* problems at once in
``FieldErrors.errors`` (field id → a plain message naming the problem, never echoing the value).

Decisions (the design was silent):

* ``FieldErrors`` is a ``ValueError``. The single-value parsers (``parse_judiciary_code``,
  ``parse_officer_number``) raise it with one entry keyed by the field id, so a command handler can
  catch ``ValueError`` and show ``str(error)``, and a card handler can read ``.errors``.
* Every text value is trimmed (Unicode whitespace at both ends) before it is checked and is stored
  trimmed. A value that is not a string (number, list, object, true/false) is refused with
  "... must be text": a Judiciary Code sent as the number 123 has lost its leading zero.
* "Control characters" are the Unicode categories Cc (C0/C1 controls, NUL, tab, newline), Cs (lone
  surrogates), Zl/Zp (line and paragraph separators) and the bidirectional embedding, override and
  isolate marks (U+202A–U+202E, U+2066–U+2069). Only the letterhead address may hold line breaks
  (CR LF and CR are stored as LF).
* Phone: a US number of 10 digits, area code 2–9 first, optionally preceded by ``1`` or ``+1``,
  groups separated by nothing, one space, ``.`` or ``-``, the area code optionally in parentheses,
  then optionally an extension (``x``, ``ext``, ``ext.`` or ``#`` and 1–6 digits). Stored as typed,
  trimmed.
* DPS network username: 1–64 ASCII letters, digits, ``.``, ``_``, ``-``, the first a letter or digit
  (``.`` or ``-`` alone is no username); stored as typed, trimmed.
* A text must hold at least one letter or digit: a name made only of invisible characters (U+200B,
  U+FEFF) or punctuation is refused. A tab (pasted from a spreadsheet) is taken as a space.
* E-mail: at most 254 characters, exactly one ``@``, a local part of 1–64 characters, a domain of
  dot-separated non-empty labels (at least two), no whitespace or control characters. Stored as
  typed, trimmed.
* Lengths: names (first, last, PoC, agency) 1–100 characters; letterhead address 1–300; extension
  reason 1–500.
* Dates are ISO ``YYYY-MM-DD`` (what Input.Date sends). The expected start date and an extension's
  "until" date must be today or later on the court calendar (``today`` is passed in), and at most a
  year ahead (``DATE_HORIZON_DAYS``): 9999-12-31 is a typing slip, not a plan.

The ``*_PATTERN`` strings mean the same in Python's ``re`` and in JavaScript (they use only
``^ $ [] {} ? | ()`` and ASCII classes), so cards can put them on ``Input.Text.regex``. For the
Judiciary Code, officer number, DPS username and phone they are the whole rule (before trimming);
for e-mail the card pattern is a first filter and the parser checks more.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, NamedTuple

from pydantic import StringConstraints, TypeAdapter, ValidationError

from domain.calendar import format_date
from domain.records import Agency, Officer, OfficerState, Stamp

JUDICIARY_CODE_PATTERN = "^[0-9]{4}$"
OFFICER_NUMBER_PATTERN = "^[A-Za-z][0-9]{4}$"
DPS_USERNAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
EMAIL_PATTERN = "^[^@ ]+@[^@ ]+\\.[^@ ]+$"
PHONE_PATTERN = (
    "^(\\+?1[ .-]?)?(\\([2-9][0-9]{2}\\)|[2-9][0-9]{2})[ .-]?[0-9]{3}[ .-]?[0-9]{4}"
    "( ?([Ee][Xx][Tt]\\.?|[Xx]|#) ?[0-9]{1,6})?$"
)
ISO_DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

JudiciaryCode = Annotated[str, StringConstraints(pattern=JUDICIARY_CODE_PATTERN)]
"""A Judiciary Code as sent: exactly 4 ASCII digits, leading zero allowed; the wizard's rule and the intake's."""

OfficerNumber = Annotated[str, StringConstraints(pattern=OFFICER_NUMBER_PATTERN)]
"""An officer number as sent: one letter and four digits, either case (stored upper case); the wizard's rule
and the intake's."""

NAME_MAX = 100
ADDRESS_MAX = 300
EMAIL_MAX = 254
EMAIL_LOCAL_MAX = 64
PHONE_MAX = 40
DPS_USERNAME_MAX = 64
REASON_MAX = 500
DATE_HORIZON_DAYS = 366

_DPS_USERNAME_RE = re.compile(DPS_USERNAME_PATTERN)
_PHONE_RE = re.compile(PHONE_PATTERN)
_ISO_DATE_RE = re.compile(ISO_DATE_PATTERN)
_DOMAIN_LABEL_RE = re.compile("^[^@.\\s]+$")

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_CONTROL_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


class FieldErrors(ValueError):
    """One or more fields were refused; ``errors`` maps each field id to a plain message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors: dict[str, str] = dict(errors)
        super().__init__(" ".join(self.errors.values()))


@dataclass(frozen=True)
class FieldRule:
    """What a card needs to render one input: label, limit, pattern (JavaScript-safe) and message."""

    field_id: str
    label: str
    max_length: int
    pattern: str | None
    message: str
    box_length: int | None = None
    """The card input's limit when it differs from ``max_length``: one more for fixed-length codes, so a
    pasted value too long is refused with the field's message instead of being cut short silently."""

    @property
    def input_length(self) -> int:
        """The ``maxLength`` a card's input of this field carries."""
        return self.box_length or self.max_length


JUDICIARY_CODE_MESSAGE = "Judiciary Code must be exactly 4 digits, like 9000 or 0123."
OFFICER_NUMBER_MESSAGE = "Officer number must be one letter and four digits, like A1234."
DPS_USERNAME_MESSAGE = (
    "DPS network username must be 1 to 64 letters, digits, dots, underscores or hyphens, starting with a letter "
    "or digit, like jsmith."
)
PHONE_MESSAGE = "Letterhead phone must be a US number with area code, like (802) 555-0100 or 802-555-0100 x12."
EMAIL_MESSAGE = "Point-of-Contact e-mail must be an e-mail address, like name@example.vt.gov."
DATE_MESSAGE = "must be a date written like 2026-11-24."

FIELD_RULES: dict[str, FieldRule] = {
    rule.field_id: rule
    for rule in (
        FieldRule("judiciary_code", "Judiciary Code", 4, JUDICIARY_CODE_PATTERN, JUDICIARY_CODE_MESSAGE, 5),
        FieldRule("agency_name", "Agency name", NAME_MAX, None, "Agency name is required (at most 100 characters)."),
        FieldRule(
            "letterhead_address",
            "Address on warning letterhead",
            ADDRESS_MAX,
            None,
            "Address on warning letterhead is required (at most 300 characters).",
        ),
        FieldRule("letterhead_phone", "Phone on warning letterhead", PHONE_MAX, PHONE_PATTERN, PHONE_MESSAGE),
        FieldRule(
            "poc_name",
            "Point-of-Contact name",
            NAME_MAX,
            None,
            "Point-of-Contact name is required (at most 100 characters).",
        ),
        FieldRule("poc_email", "Point-of-Contact e-mail", EMAIL_MAX, EMAIL_PATTERN, EMAIL_MESSAGE),
        FieldRule("officer_number", "Officer number", 5, OFFICER_NUMBER_PATTERN, OFFICER_NUMBER_MESSAGE, 6),
        FieldRule("first_name", "First name", NAME_MAX, None, "First name is required (at most 100 characters)."),
        FieldRule("last_name", "Last name", NAME_MAX, None, "Last name is required (at most 100 characters)."),
        FieldRule("dps_username", "DPS network username", DPS_USERNAME_MAX, DPS_USERNAME_PATTERN, DPS_USERNAME_MESSAGE),
        FieldRule("start_date", "Expected start date", 10, ISO_DATE_PATTERN, f"Expected start date {DATE_MESSAGE}"),
        FieldRule(
            "until", "Extend monitoring through", 10, ISO_DATE_PATTERN, f"Extend monitoring through {DATE_MESSAGE}"
        ),
        FieldRule("reason", "Reason", REASON_MAX, None, "Reason is required (at most 500 characters)."),
    )
}
"""Every field the parsers know, by field id."""

AGENCY_FIELDS = ("judiciary_code", "agency_name", "letterhead_address", "letterhead_phone", "poc_name", "poc_email")
OFFICER_FIELDS = ("officer_number", "first_name", "last_name", "dps_username", "start_date")
EXTENSION_FIELDS = ("until", "reason")


@dataclass(frozen=True)
class OfficerEntry:
    """One officer row of the Information Package as the PoC typed it (SOP 6.1 item 2), checked."""

    officer_number: str
    first_name: str
    last_name: str
    dps_username: str
    start_date: date

    def to_officer(self, judiciary_code: str, added: Stamp) -> Officer:
        """This entry as a new membership in monitoring in one agency's package."""
        return Officer(
            judiciary_code=judiciary_code,
            officer_number=self.officer_number,
            first_name=self.first_name,
            last_name=self.last_name,
            dps_username=self.dps_username,
            start_date=self.start_date,
            added=added,
            state=OfficerState.MONITORING,
        )


class ExtensionEntry(NamedTuple):
    """An extension of monitoring as JB staff typed it: through the end of ``until``, with a reason."""

    until: date
    reason: str


class _Invalid(Exception):
    """One field's problem, internal to this module."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _label(field_id: str) -> str:
    return FIELD_RULES[field_id].label


def has_control_characters(text: str, *, allow_line_breaks: bool = False) -> bool:
    """Whether the text holds a control character (see the module notes for which ones count)."""
    for char in text:
        if allow_line_breaks and char == "\n":
            continue
        if char in _BIDI_CONTROLS or unicodedata.category(char) in _CONTROL_CATEGORIES:
            return True
    return False


def _text(value: object, field_id: str, max_length: int, *, allow_line_breaks: bool = False) -> str:
    """A required text value, trimmed, within length, without control characters."""
    label = _label(field_id)
    if value is None:
        raise _Invalid(f"{label} is required.")
    if not isinstance(value, str):
        raise _Invalid(f"{label} must be text.")
    text = value.replace("\t", " ").strip()
    if allow_line_breaks:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        raise _Invalid(f"{label} is required.")
    if len(text) > max_length:
        raise _Invalid(f"{label} must be at most {max_length} characters.")
    if has_control_characters(text, allow_line_breaks=allow_line_breaks):
        raise _Invalid(f"{label} must not contain control characters.")
    if not any(char.isalnum() for char in text):
        raise _Invalid(f"{label} must contain letters or digits, not only spaces, punctuation or invisible marks.")
    return text


def _conforms(adapter: TypeAdapter[str]) -> Callable[[str], bool]:
    """Whether a text is a valid value of a constrained field type (``JudiciaryCode``, ``OfficerNumber``)."""

    def conforms(text: str) -> bool:
        try:
            adapter.validate_python(text)
        except ValidationError:
            return False
        return True

    return conforms


_is_judiciary_code = _conforms(TypeAdapter(JudiciaryCode))
_is_officer_number = _conforms(TypeAdapter(OfficerNumber))


def _patterned(value: object, field_id: str, matches: Callable[[str], object], message: str, max_length: int) -> str:
    """A required text value, trimmed, that ``matches`` whole (the patterns admit no control characters)."""
    label = _label(field_id)
    if value is None:
        raise _Invalid(f"{label} is required.")
    if not isinstance(value, str):
        raise _Invalid(f"{label} must be text.")
    text = value.strip()
    if not text:
        raise _Invalid(f"{label} is required.")
    if len(text) > max_length or not matches(text):
        raise _Invalid(message)
    return text


def _judiciary_code(value: object) -> str:
    return _patterned(value, "judiciary_code", _is_judiciary_code, JUDICIARY_CODE_MESSAGE, 4)


def _officer_number(value: object) -> str:
    return _patterned(value, "officer_number", _is_officer_number, OFFICER_NUMBER_MESSAGE, 5).upper()


def _email(value: object) -> str:
    text = _text(value, "poc_email", EMAIL_MAX)
    if any(char.isspace() for char in text) or text.count("@") != 1:
        raise _Invalid(EMAIL_MESSAGE)
    local, domain = text.split("@")
    labels = domain.split(".")
    if not local or len(local) > EMAIL_LOCAL_MAX or len(labels) < 2:
        raise _Invalid(EMAIL_MESSAGE)
    if not all(_DOMAIN_LABEL_RE.fullmatch(label) for label in labels):
        raise _Invalid(EMAIL_MESSAGE)
    return text


def _iso_date(value: object, field_id: str) -> date:
    label = _label(field_id)
    text = _patterned(value, field_id, _ISO_DATE_RE.fullmatch, f"{label} {DATE_MESSAGE}", 10)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _Invalid(f"{label} must be a real calendar date, like 2026-11-24.") from None


def _not_before(day: date, today: date, field_id: str, *, allow_past: bool = False) -> date:
    if day < today and not allow_past:
        raise _Invalid(f"{_label(field_id)} must be today ({format_date(today)}) or later.")
    horizon = today + timedelta(days=DATE_HORIZON_DAYS)
    if day > horizon:
        raise _Invalid(f"{_label(field_id)} must be within a year: {format_date(horizon)} at the latest.")
    return day


def _collect(values: Mapping[str, object], checks: Mapping[str, Callable[[object], object]]) -> dict[str, object]:
    """Run every field's check, gathering all problems before raising ``FieldErrors``."""
    results: dict[str, object] = {}
    errors: dict[str, str] = {}
    for field_id, check in checks.items():
        try:
            results[field_id] = check(values.get(field_id))
        except _Invalid as problem:
            errors[field_id] = problem.message
    if errors:
        raise FieldErrors(errors)
    return results


def _values(values: object) -> Mapping[str, object]:
    if not isinstance(values, Mapping):
        raise FieldErrors({"form": "The form arrived without its answers; please fill it in again."})
    return values


def parse_judiciary_code(text: object) -> str:
    """A Judiciary Code: exactly 4 ASCII digits, leading zero allowed; raises ``FieldErrors``."""
    try:
        return _judiciary_code(text)
    except _Invalid as problem:
        raise FieldErrors({"judiciary_code": problem.message}) from None


def parse_officer_number(text: object) -> str:
    """An officer number: one letter and four digits, returned upper case; raises ``FieldErrors``."""
    try:
        return _officer_number(text)
    except _Invalid as problem:
        raise FieldErrors({"officer_number": problem.message}) from None


def is_judiciary_code(text: object) -> bool:
    """Whether the text is a well-formed Judiciary Code (after trimming)."""
    try:
        _judiciary_code(text)
    except _Invalid:
        return False
    return True


def is_officer_number(text: object) -> bool:
    """Whether the text is a well-formed officer number, in either case (after trimming)."""
    try:
        _officer_number(text)
    except _Invalid:
        return False
    return True


def parse_agency(values: Mapping[str, object]) -> Agency:
    """The agency part of the Information Package (SOP 6.1 item 1); raises ``FieldErrors`` with every problem."""
    fields = _collect(
        _values(values),
        {
            "judiciary_code": _judiciary_code,
            "agency_name": lambda value: _text(value, "agency_name", NAME_MAX),
            "letterhead_address": lambda value: _text(value, "letterhead_address", ADDRESS_MAX, allow_line_breaks=True),
            "letterhead_phone": lambda value: _patterned(
                value, "letterhead_phone", _PHONE_RE.fullmatch, PHONE_MESSAGE, PHONE_MAX
            ),
            "poc_name": lambda value: _text(value, "poc_name", NAME_MAX),
            "poc_email": _email,
        },
    )
    return Agency.model_validate(fields)


def parse_officer(
    values: Mapping[str, object], today: date, *, kept_start: date | None = None, start_in_past: bool = False
) -> OfficerEntry:
    """One officer of the Information Package (SOP 6.1 item 2); ``today`` is the court calendar's today.

    ``kept_start``: correcting an officer, their stored start date may stay as it is even when past.
    ``start_in_past``: the expected start date may lie before today (the roster import of officers who
    began before the bot existed); it is still within a year ahead.
    """

    def start(value: object) -> date:
        day = _iso_date(value, "start_date")
        if day == kept_start:
            return day
        return _not_before(day, today, "start_date", allow_past=start_in_past)

    fields = _collect(
        _values(values),
        {
            "officer_number": _officer_number,
            "first_name": lambda value: _text(value, "first_name", NAME_MAX),
            "last_name": lambda value: _text(value, "last_name", NAME_MAX),
            "dps_username": lambda value: _patterned(
                value, "dps_username", _DPS_USERNAME_RE.fullmatch, DPS_USERNAME_MESSAGE, DPS_USERNAME_MAX
            ),
            "start_date": start,
        },
    )
    return OfficerEntry(**fields)  # type: ignore[arg-type]


def parse_poc_email(values: Mapping[str, object]) -> str:
    """The Point-of-Contact's e-mail (SOP 6.1 item 1), as the one field of a form; raises ``FieldErrors``."""
    fields = _collect(_values(values), {"poc_email": _email})
    return str(fields["poc_email"])


def parse_reason(values: Mapping[str, object]) -> str:
    """Why JB staff take a step that needs one (return to monitoring, end an extension, send again)."""
    fields = _collect(
        _values(values), {"reason": lambda value: _text(value, "reason", REASON_MAX, allow_line_breaks=True)}
    )
    return str(fields["reason"])


def parse_extension(values: Mapping[str, object], today: date) -> ExtensionEntry:
    """JB's extension of monitoring (SOP 6.6): ``until`` today or later, and a reason; raises ``FieldErrors``."""
    fields = _collect(
        _values(values),
        {
            "until": lambda value: _not_before(_iso_date(value, "until"), today, "until"),
            "reason": lambda value: _text(value, "reason", REASON_MAX, allow_line_breaks=True),
        },
    )
    return ExtensionEntry(until=fields["until"], reason=fields["reason"])  # type: ignore[arg-type]
