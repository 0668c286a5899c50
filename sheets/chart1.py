"""Chart 1 of the SOP, "The E-Ticket Information Package", as an Excel workbook and as CSV (the PoC's digital copy).

The workbook has one sheet, ``Chart 1``: the package's title, the agency block (SOP 6.1 item 1: agency
name, address and phone as on warning letterhead, Judiciary Code, Point-of-Contact name and e-mail)
and the officer table (SOP 6.1 item 2) with the approval-date column the SOP suggests (6.6) and each
officer's state. Its header row is frozen and filtered; dates are date cells. The CSV holds the same
officer rows under the same header, in UTF-8.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook

from domain.calendar import format_instant
from domain.exports import PackageExport
from domain.records import Officer, OfficerState
from sheets.cells import (
    LABEL_FONT,
    SECTION_FONT,
    TITLE_FONT,
    Value,
    fit_widths,
    landscape,
    put,
    table,
    workbook_bytes,
)

SHEET_TITLE = "Chart 1"
CHART_TITLE = "E-Ticket Information Package"
AGENCY_SECTION = "Vermont Law Enforcement Agency Information"
OFFICER_SECTION = "Vermont Law Enforcement Officer Information"
AGENCY_LABELS = (
    "Agency Name",
    "Address (letterhead)",
    "Phone (letterhead)",
    "Judiciary Code",
    "Point-of-Contact",
    "Point-of-Contact e-mail",
)
OFFICER_COLUMNS = (
    "First Name",
    "Last Name",
    "Officer Number",
    "DPS Network Username",
    "Expected Start Date",
    "Approval Date",
    "State",
)
"""Chart 1's officer columns (as on the /package card), then Approval Date and the officer's state."""

STATE_WORDS = {
    OfficerState.MONITORING: "In monitoring",
    OfficerState.APPROVED: "Approved",
    OfficerState.WITHDRAWN: "Withdrawn",
}

AGENCY_LABEL_ROW = 5
OFFICER_HEADER_ROW = 9
"""Where the officer table's header sits (frozen): title rows 1–2, agency block 4–6, officer section 8."""

_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def package_title(view: PackageExport) -> str:
    """ "E-Ticket Information Package — Williston Police Department (9000)"."""
    agency = view.package.agency
    return f"{CHART_TITLE} — {agency.agency_name} ({agency.judiciary_code})"


def officer_values(officer: Officer) -> tuple[Value, ...]:
    """One officer's Chart 1 row: names, number, username, start date, approval date, state."""
    approval = officer.approval_date if officer.state is OfficerState.APPROVED else None
    return (
        officer.first_name,
        officer.last_name,
        officer.officer_number,
        officer.dps_username,
        officer.start_date,
        approval,
        STATE_WORDS[officer.state],
    )


def chart1_workbook(view: PackageExport) -> bytes:
    """The Information Package as an .xlsx workbook with one sheet, ``Chart 1``."""
    package, tz = view.package, view.tz
    agency = package.agency
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its sheet
    sheet.title = SHEET_TITLE
    put(sheet, 1, 1, package_title(view), font=TITLE_FONT)
    put(
        sheet,
        2,
        1,
        f"Chart 1 of the SOP (6.1), with approval dates (6.6). {len(view.officers)} officers. "
        f"Downloaded {format_instant(view.generated, tz)}; dates are on the court's calendar ({tz.key}).",
    )
    put(sheet, 4, 1, AGENCY_SECTION, font=SECTION_FONT)
    values = (
        agency.agency_name,
        agency.letterhead_address,
        agency.letterhead_phone,
        agency.judiciary_code,
        agency.poc_name,
        agency.poc_email,
    )
    for column, (label, value) in enumerate(zip(AGENCY_LABELS, values, strict=True), start=1):
        put(sheet, AGENCY_LABEL_ROW, column, label, font=LABEL_FONT)
        put(sheet, AGENCY_LABEL_ROW + 1, column, value, wrap=True)
    put(sheet, OFFICER_HEADER_ROW - 1, 1, OFFICER_SECTION, font=SECTION_FONT)
    table(sheet, OFFICER_HEADER_ROW, OFFICER_COLUMNS, [officer_values(o) for o in view.officers], tz=tz)
    fit_widths(sheet, from_row=AGENCY_LABEL_ROW, skip_rows=(OFFICER_HEADER_ROW - 1,))
    landscape(sheet)
    return workbook_bytes(book, title=package_title(view), generated=view.generated)


def _csv_cell(value: Value) -> str:
    """A CSV field: dates in ISO; text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return f"'{text}" if text.startswith(_CSV_FORMULA_START) else text


def chart1_csv(view: PackageExport) -> bytes:
    """The officer rows of Chart 1 as CSV: UTF-8 (with a byte-order mark, so Excel reads it as UTF-8), a header row."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(OFFICER_COLUMNS)
    rows: Sequence[tuple[Value, ...]] = [officer_values(o) for o in view.officers]
    writer.writerows([_csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")
