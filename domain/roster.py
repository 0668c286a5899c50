"""The existing roster, imported (issue 17): its columns, and every row checked with the wizard's field rules.

A roster has one row per officer membership: the agency's fields (Chart 1 item 1), the officer's
(item 2), an optional approval date and an optional Point-of-Contact Azure AD object id. Rows of
one Judiciary Code form one Information Package.

Decisions (the issue left them open):

* Columns are found by their header, in any order, ignoring case, spaces and punctuation
  ("PoC E-mail" = "poc_email"); the labels of the bot's own Chart 1 download are accepted too.
  A column the import does not know is an error, not ignored: a renamed "Approval Date" must not
  silently import approved officers into monitoring.
* Fields are checked by ``domain.validation`` exactly as the wizard checks them, with one
  exception: an imported officer's expected start date may lie in the past (they may have been
  issuing e-tickets for years). A value that is not text where text is expected (a Judiciary
  Code typed into Excel as the number 123 has lost its leading zero) is refused as the wizard
  refuses it.
* An approval date is a real date, not after today and not before the expected start date.
* The Point-of-Contact's object id is 1–64 letters, digits and hyphens (no strict GUID check, as
  everywhere: the Agents Playground's ids are not GUIDs), stored lower case.
* Every row of one Judiciary Code gives the same agency fields (and the same PoC object id where
  one is given); an officer number appears once per agency.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from domain.records import Agency
from domain.validation import (
    AGENCY_FIELDS,
    DATE_MESSAGE,
    FIELD_RULES,
    ISO_DATE_PATTERN,
    OFFICER_FIELDS,
    FieldErrors,
    OfficerEntry,
    parse_agency,
    parse_officer,
)


@dataclass(frozen=True)
class RosterColumn:
    """One column of the roster: the field it fills, its header, other headers it may have."""

    field_id: str
    header: str
    required: bool = True
    is_date: bool = False
    aliases: tuple[str, ...] = ()


ROSTER_COLUMNS: tuple[RosterColumn, ...] = (
    RosterColumn("judiciary_code", "Judiciary Code"),
    RosterColumn("agency_name", "Agency Name", aliases=("Agency",)),
    RosterColumn("letterhead_address", "Letterhead Address", aliases=("Address (letterhead)", "Address")),
    RosterColumn("letterhead_phone", "Letterhead Phone", aliases=("Phone (letterhead)", "Phone")),
    RosterColumn("poc_name", "PoC Name", aliases=("Point-of-Contact", "Point-of-Contact Name")),
    RosterColumn("poc_email", "PoC E-mail", aliases=("Point-of-Contact e-mail",)),
    RosterColumn("first_name", "First Name"),
    RosterColumn("last_name", "Last Name"),
    RosterColumn("officer_number", "Officer Number", aliases=("VT LEO Number",)),
    RosterColumn("dps_username", "DPS Network Username", aliases=("DPS Username",)),
    RosterColumn("start_date", "Expected Start Date", is_date=True, aliases=("Start Date",)),
    RosterColumn("approval_date", "Approval Date", required=False, is_date=True),
    RosterColumn(
        "poc_aad_id",
        "PoC Azure AD Object Id",
        required=False,
        aliases=("Point-of-Contact Azure AD object id", "PoC Object Id"),
    ),
)
"""The roster's columns in the order of the template; approval date and PoC object id may be left out."""

COLUMN_BY_FIELD: dict[str, RosterColumn] = {column.field_id: column for column in ROSTER_COLUMNS}
MAX_ROWS = 20_000
"""The most officer rows one import takes (about a hundred times Vermont's e-ticketing officers)."""

AAD_ID_PATTERN = "^[A-Za-z0-9-]{1,64}$"
_AAD_ID_RE = re.compile(AAD_ID_PATTERN)
_ISO_DATE_RE = re.compile(ISO_DATE_PATTERN)
_AGENCY_FIELDS = AGENCY_FIELDS
_OFFICER_FIELDS = OFFICER_FIELDS


def header_key(text: str) -> str:
    """A header as compared: lower case, letters and digits only ("PoC E-mail" → "pocemail")."""
    return "".join(char for char in text.lower() if char.isalnum())


_BY_HEADER: dict[str, RosterColumn] = {
    header_key(name): column for column in ROSTER_COLUMNS for name in (column.header, column.field_id, *column.aliases)
}


@dataclass(frozen=True)
class RosterProblem:
    """What is wrong, where: a spreadsheet row number (1 = the first row) and a column header, when known."""

    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass(frozen=True)
class RosterSheet:
    """A roster as read from a file: the header row's cells and each data row's cells, with row numbers."""

    header_row: int
    headers: tuple[object, ...]
    rows: tuple[tuple[int, tuple[object, ...]], ...]


@dataclass(frozen=True)
class RosterEntry:
    """One checked row: the agency, the officer, the approval date and the PoC's object id (when given)."""

    row: int
    agency: Agency
    officer: OfficerEntry
    approval_date: date | None
    poc_aad_id: str | None


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def map_columns(sheet: RosterSheet) -> tuple[dict[str, int], list[RosterProblem]]:
    """Which cell of a row holds which field, from the header row; every header problem at once."""
    problems: list[RosterProblem] = []
    found: dict[str, int] = {}
    unknown: list[str] = []
    for index, header in enumerate(sheet.headers):
        letter = _column_letter(index)
        if header is None or (isinstance(header, str) and not header.strip()):
            if any(index < len(cells) and _blank(cells[index]) is not None for _, cells in sheet.rows):
                problems.append(RosterProblem(f"column {letter} has values but no header", sheet.header_row))
            continue
        if not isinstance(header, str):
            problems.append(RosterProblem(f"the header of column {letter} is not text", sheet.header_row))
            continue
        column = _BY_HEADER.get(header_key(header))
        if column is None:
            unknown.append(f"{header.strip()!r} (column {letter})")
            continue
        if column.field_id in found:
            problems.append(
                RosterProblem(f"column {letter} is a second {column.header!r} column", sheet.header_row, column.header)
            )
            continue
        found[column.field_id] = index
    missing = [column.header for column in ROSTER_COLUMNS if column.required and column.field_id not in found]
    renamed = f" Columns the import does not know: {', '.join(unknown)}; was one of them renamed?" if unknown else ""
    if missing:
        names = ", ".join(repr(name) for name in missing)
        problems.append(RosterProblem(f"the roster has no {names} column.{renamed}", sheet.header_row))
    elif unknown:
        known = ", ".join(repr(column.header) for column in ROSTER_COLUMNS)
        problems.append(
            RosterProblem(
                f"columns the import does not know: {', '.join(unknown)}. The roster's columns are {known}.",
                sheet.header_row,
            )
        )
    return found, problems


def _blank(value: object) -> object:
    """None for an empty cell (None or only spaces), else the value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value


def _date_cell(value: object, field_id: str) -> object:
    """A date column's cell as the field rules read it: a date cell becomes ``YYYY-MM-DD`` text.

    Raises ``FieldErrors`` for a date with a time of day and for a number (a date Excel does not know).
    """
    label = COLUMN_BY_FIELD[field_id].header
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise FieldErrors({field_id: f"{label} must be a date without a time of day."})
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise FieldErrors({field_id: f"{label} must be a date (the cell holds a number, not a date)."})
    return value


def _number_hint(value: object, message: str) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool) and message.endswith("must be text."):
        return (
            message[:-1] + " (the cell holds a number: format the column as Text in Excel so leading zeros are kept)."
        )
    return message


def _approval_date(value: object, start_date: date | None, today: date) -> date | None:
    label = COLUMN_BY_FIELD["approval_date"].header
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldErrors({"approval_date": f"{label} must be a date."})
    text = value.strip()
    if not _ISO_DATE_RE.match(text):
        raise FieldErrors({"approval_date": f"{label} {DATE_MESSAGE}"})
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise FieldErrors({"approval_date": f"{label} must be a real calendar date, like 2026-11-24."}) from None
    if day > today:
        raise FieldErrors({"approval_date": f"{label} must not be after today ({today.isoformat()})."})
    if start_date is not None and day < start_date:
        raise FieldErrors({"approval_date": f"{label} must not be before the Expected Start Date."})
    return day


def _poc_aad_id(value: object) -> str | None:
    label = COLUMN_BY_FIELD["poc_aad_id"].header
    if value is None:
        return None
    if not isinstance(value, str) or not _AAD_ID_RE.match(value.strip()):
        raise FieldErrors({"poc_aad_id": f"{label} must be 1 to 64 letters, digits and hyphens, like a GUID."})
    return value.strip().lower()


def check_row(row: int, values: Mapping[str, object], today: date) -> RosterEntry | list[RosterProblem]:
    """One row checked with the wizard's field rules (see the module notes); every problem of the row at once."""
    problems: list[RosterProblem] = []
    reported: set[str] = set()

    def note(errors: Mapping[str, str]) -> None:
        for field_id, message in errors.items():
            if field_id not in reported:
                reported.add(field_id)
                problems.append(RosterProblem(_number_hint(values.get(field_id), message), row, field_label(field_id)))

    cells: dict[str, object] = {}
    for field_id, raw in values.items():
        value = _blank(raw)
        if COLUMN_BY_FIELD[field_id].is_date and value is not None:
            try:
                value = _date_cell(value, field_id)
            except FieldErrors as problem:
                note(problem.errors)
                value = None
        cells[field_id] = value
    agency: Agency | None = None
    officer: OfficerEntry | None = None
    approval: date | None = None
    poc: str | None = None
    try:
        agency = parse_agency({field_id: cells.get(field_id) for field_id in _AGENCY_FIELDS})
    except FieldErrors as problem:
        note(problem.errors)
    try:
        # an imported officer's expected start date may be in the past (module notes)
        officer = parse_officer(
            {field_id: cells.get(field_id) for field_id in _OFFICER_FIELDS}, today, start_in_past=True
        )
    except FieldErrors as problem:
        note(problem.errors)
    if "approval_date" not in reported:
        try:
            approval = _approval_date(cells.get("approval_date"), officer.start_date if officer else None, today)
        except FieldErrors as problem:
            note(problem.errors)
    try:
        poc = _poc_aad_id(cells.get("poc_aad_id"))
    except FieldErrors as problem:
        note(problem.errors)
    if problems or agency is None or officer is None:
        return problems
    return RosterEntry(row, agency, officer, approval, poc)


def check_roster(sheet: RosterSheet, today: date) -> tuple[list[RosterEntry], list[RosterProblem]]:
    """Every row of a roster checked, and the rows checked against each other; all problems, by row."""
    columns, problems = map_columns(sheet)
    if problems:
        return [], problems
    if not sheet.rows:
        return [], [RosterProblem("the roster has a header row but no officer rows", sheet.header_row)]
    if len(sheet.rows) > MAX_ROWS:
        return [], [
            RosterProblem(f"the roster has {len(sheet.rows)} officer rows; one import takes at most {MAX_ROWS}")
        ]
    entries: list[RosterEntry] = []
    for row, cells in sheet.rows:
        values = {field: cells[index] if index < len(cells) else None for field, index in columns.items()}
        checked = check_row(row, values, today)
        if isinstance(checked, list):
            problems += checked
        else:
            entries.append(checked)
    problems += _across_rows(entries)
    return entries, sorted(problems, key=lambda p: p.row or 0)


def _across_rows(entries: Sequence[RosterEntry]) -> list[RosterProblem]:
    """Rows of one agency agree on its fields and PoC; an officer number appears once per agency."""
    problems: list[RosterProblem] = []
    first: dict[str, RosterEntry] = {}
    poc_of: dict[str, RosterEntry] = {}
    numbers: dict[tuple[str, str], int] = {}
    for entry in entries:
        code = entry.agency.judiciary_code
        lead = first.setdefault(code, entry)
        for field_id in _AGENCY_FIELDS:
            if getattr(entry.agency, field_id) != getattr(lead.agency, field_id):
                problems.append(
                    RosterProblem(
                        f"differs from row {lead.row}, the first row of Judiciary Code {code}: every row of one "
                        "agency must give the same agency fields.",
                        entry.row,
                        COLUMN_BY_FIELD[field_id].header,
                    )
                )
        if entry.poc_aad_id is not None:
            named = poc_of.setdefault(code, entry)
            if named.poc_aad_id != entry.poc_aad_id:
                problems.append(
                    RosterProblem(
                        f"differs from row {named.row}: one agency has one Point-of-Contact.",
                        entry.row,
                        COLUMN_BY_FIELD["poc_aad_id"].header,
                    )
                )
        key = (code, entry.officer.officer_number)
        if key in numbers:
            problems.append(
                RosterProblem(
                    f"officer number {entry.officer.officer_number} is already on row {numbers[key]} for Judiciary "
                    f"Code {code}: an officer number appears once in a package.",
                    entry.row,
                    COLUMN_BY_FIELD["officer_number"].header,
                )
            )
        else:
            numbers[key] = entry.row
    return problems


def field_label(field_id: str) -> str:
    """The roster header of a field (the wizard's label for fields the roster does not have)."""
    column = COLUMN_BY_FIELD.get(field_id)
    return column.header if column else FIELD_RULES[field_id].label
