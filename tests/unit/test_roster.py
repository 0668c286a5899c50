"""Reading and checking a roster: good files, bad rows named by row and column, bad files with clear errors."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest

from domain.roster import ROSTER_COLUMNS, RosterProblem, check_roster
from domain.validation import DPS_USERNAME_MESSAGE, OFFICER_NUMBER_MESSAGE, PHONE_MESSAGE
from sheets.roster_file import RosterFileError, read_roster
from tests.support.factories import POC_AAD
from tests.support.rosters import AGENCY, HEADERS, csv_bytes, encrypted, officer_row, xlsx

TODAY = date(2026, 11, 28)


def checked(name: str, data: bytes) -> tuple[list[object], list[str]]:
    entries, problems = check_roster(read_roster(name, data), TODAY)
    return list(entries), [str(problem) for problem in problems]


def test_a_good_workbook_gives_one_entry_per_row_with_real_dates() -> None:
    rows = [officer_row("a1234"), officer_row("B2345", "Dana", "Deputy", **{"Approval Date": None})]
    entries, problems = check_roster(read_roster("roster.xlsx", xlsx(rows)), TODAY)
    assert problems == []
    first, second = entries
    assert (first.row, first.officer.officer_number, first.officer.start_date) == (2, "A1234", date(2024, 3, 1))
    assert first.approval_date == date(2024, 4, 2) and second.approval_date is None
    assert first.agency.letterhead_address == "7928 Williston Rd\nWilliston, VT 05495"
    assert first.poc_aad_id == POC_AAD


def test_columns_are_found_by_header_in_any_order_and_spelling() -> None:
    headers = [
        "officer_number",
        "FIRST NAME",
        "last name",
        "DPS username",
        "Start Date",
        "Judiciary Code",
        "Agency",
        "Address (letterhead)",
        "Phone (letterhead)",
        "Point-of-Contact",
        "PoC Email",
    ]
    row = {
        "officer_number": "A1234",
        "FIRST NAME": "Casey",
        "last name": "Officer",
        "DPS username": "cofficer",
        "Start Date": date(2024, 3, 1),
        "Judiciary Code": "0123",
        "Agency": "Williston PD",
        "Address (letterhead)": "1 Main St",
        "Phone (letterhead)": "802-555-0100",
        "Point-of-Contact": "Pat Poc",
        "PoC Email": "pat@example.vt.gov",
    }
    entries, problems = checked("roster.xlsx", xlsx([row], headers))
    assert problems == []
    assert entries[0].agency.judiciary_code == "0123"  # type: ignore[attr-defined]


def test_a_csv_in_utf_8_with_commas_or_semicolons_reads_the_same() -> None:
    rows = [officer_row("A1234", "Zoë", "Lefèvre", **{"DPS Network Username": "zlefevre"})]
    for data in (csv_bytes(rows), csv_bytes(rows, delimiter=";"), b"\xef\xbb\xbf" + csv_bytes(rows)):
        entries, problems = checked("roster.csv", data)
        assert problems == []
        assert entries[0].officer.first_name == "Zoë"  # type: ignore[attr-defined]


def test_every_bad_row_is_named_with_its_column_and_what_is_wrong() -> None:
    rows = [
        officer_row("A1234"),
        officer_row("12345"),  # row 3
        officer_row("B2345", **{"Letterhead Phone": "555-0100", "Expected Start Date": "11/24/2026"}),  # row 4
        officer_row("C3456", **{"Judiciary Code": 9000}),  # row 5: a number, not text
        officer_row("D4567", **{"Approval Date": date(2027, 1, 1)}),  # row 6: after today
        officer_row("E5678", **{"Approval Date": date(2024, 1, 1)}),  # row 7: before the start date
        officer_row("A1234", "Another"),  # row 8: the number is on row 2 already
        officer_row("F6789", **{"Agency Name": "Williston PD"}),  # row 9: not what row 2 says
        officer_row("G7890", **{"PoC Azure AD Object Id": "not an id!"}),  # row 10
        officer_row("H8901", **{"Expected Start Date": datetime(2024, 3, 1, 9, 30)}),  # row 11: a time of day
        officer_row("J9012", **{"First Name": None, "DPS Network Username": "j smith"}),  # row 12
    ]
    entries, problems = checked("roster.xlsx", xlsx(rows))
    assert problems == [
        f"row 3, column 'Officer Number': {OFFICER_NUMBER_MESSAGE}",
        f"row 4, column 'Letterhead Phone': {PHONE_MESSAGE}",
        "row 4, column 'Expected Start Date': Expected start date must be a date written like 2026-11-24.",
        "row 5, column 'Judiciary Code': Judiciary Code must be text (the cell holds a number: format the column as "
        "Text in Excel so leading zeros are kept).",
        "row 6, column 'Approval Date': Approval Date must not be after today (2026-11-28).",
        "row 7, column 'Approval Date': Approval Date must not be before the Expected Start Date.",
        "row 8, column 'Officer Number': officer number A1234 is already on row 2 for Judiciary Code 9000: an officer "
        "number appears once in a package.",
        "row 9, column 'Agency Name': differs from row 2, the first row of Judiciary Code 9000: every row of one agency "
        "must give the same agency fields.",
        "row 10, column 'PoC Azure AD Object Id': PoC Azure AD Object Id must be 1 to 64 letters, digits and hyphens, "
        "like a GUID.",
        "row 11, column 'Expected Start Date': Expected Start Date must be a date without a time of day.",
        "row 12, column 'First Name': First name is required.",
        f"row 12, column 'DPS Network Username': {DPS_USERNAME_MESSAGE}",
    ]
    assert len(entries) == 3  # rows 2, 8 and 9 are fine on their own


def test_a_missing_or_renamed_column_is_named() -> None:
    renamed = tuple("Officer No" if header == "Officer Number" else header for header in HEADERS)
    rows = [officer_row("A1234") | {"Officer No": "A1234"}]
    _, problems = checked("roster.xlsx", xlsx(rows, renamed))
    assert problems == [
        "row 1: the roster has no 'Officer Number' column. Columns the import does not know: 'Officer No' (column I); "
        "was one of them renamed?"
    ]
    without = tuple(header for header in HEADERS if header not in ("Agency Name", "Last Name"))
    _, problems = checked("roster.csv", csv_bytes([officer_row("A1234")], without))
    assert problems == ["row 1: the roster has no 'Agency Name', 'Last Name' column."]


def test_an_unknown_column_is_not_silently_ignored() -> None:
    # "Approved On" instead of "Approval Date" would import approved officers into monitoring
    headers = (*(header for header in HEADERS if header != "Approval Date"), "Approved On")
    _, problems = checked("roster.xlsx", xlsx([officer_row("A1234") | {"Approved On": date(2024, 4, 2)}], headers))
    assert len(problems) == 1 and "'Approved On' (column M)" in problems[0]
    doubled = (*HEADERS, "officer number")
    _, problems = checked("roster.xlsx", xlsx([officer_row("A1234")], doubled))
    assert problems == ["row 1, column 'Officer Number': column N is a second 'Officer Number' column"]


def test_optional_columns_may_be_left_out() -> None:
    headers = tuple(column.header for column in ROSTER_COLUMNS if column.required)
    entries, problems = checked("roster.csv", csv_bytes([officer_row("A1234")], headers))
    assert problems == [] and entries[0].approval_date is None and entries[0].poc_aad_id is None  # type: ignore[attr-defined]


def test_a_header_without_officers_is_a_problem() -> None:
    _, problems = checked("roster.xlsx", xlsx([]))
    assert problems == ["row 1: the roster has a header row but no officer rows"]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("roster.xlsx", b"", "The file is empty."),
        ("roster.csv", b"", "The file is empty."),
        ("roster.xls", b"anything", "must be an Excel workbook (.xlsx) or a CSV file (.csv), not .xls"),
        ("roster", b"anything", "not a file without an extension"),
        ("roster.xlsx", b"Judiciary Code,Agency Name\n", "not a readable Excel workbook (.xlsx)"),
        ("roster.xlsx", xlsx([officer_row("A1234")])[:1500], "not a readable Excel workbook"),
        ("roster.xlsx", bytes.fromhex("d0cf11e0a1b11ae1") + bytes(600), "old Excel 97–2003 workbook (.xls)"),
        ("roster.csv", "Judiciary Code\nCafé".encode("cp1252"), "The CSV file is not UTF-8 (byte 19"),
        ("roster.csv", "Judiciary Code\n9000".encode("utf-16"), "The CSV file is UTF-16"),
        ("roster.csv", b"Judiciary Code\x00,x\n", "NUL characters"),
        ("roster.csv", b"\n\n ,  \n", "The roster has nothing in it"),
    ],
)
def test_a_bad_file_gets_a_clear_error(name: str, data: bytes, message: str) -> None:
    with pytest.raises(RosterFileError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        read_roster(name, data)


def test_a_password_protected_workbook_says_so() -> None:
    with pytest.raises(RosterFileError, match="password-protected"):
        read_roster("roster.xlsx", encrypted(xlsx([officer_row("A1234")])))


def test_a_zip_that_is_not_a_workbook_is_damaged() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(RosterFileError, match="damaged"):
        read_roster("roster.xlsx", buffer.getvalue())


def test_the_sheet_named_roster_is_read_or_else_the_first() -> None:
    assert read_roster("r.xlsx", xlsx([officer_row("A1234")], sheet="Sheet1")).headers == HEADERS
    assert AGENCY["Judiciary Code"] == "9000"


def test_a_problem_reads_with_where_it_is() -> None:
    assert str(RosterProblem("bad", 3, "Officer Number")) == "row 3, column 'Officer Number': bad"
    assert str(RosterProblem("bad")) == "bad"


def test_an_imported_start_date_may_lie_in_the_past_but_not_beyond_a_year_ahead() -> None:
    rows = [
        officer_row("A1234", **{"Expected Start Date": date(2019, 1, 2), "Approval Date": None}),
        officer_row("B2345", **{"Expected Start Date": date(2031, 1, 2), "Approval Date": None}),  # a typing slip
    ]
    entries, problems = checked("roster.xlsx", xlsx(rows))
    assert [entry.officer.start_date for entry in entries] == [date(2019, 1, 2)]  # type: ignore[attr-defined]
    assert len(problems) == 1 and problems[0].startswith(
        "row 3, column 'Expected Start Date': Expected start date must be within a year"
    )
