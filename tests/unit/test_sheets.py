"""The spreadsheet files as pure functions: Chart 1 as .xlsx and CSV, and the JB's workbook."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl

from cards.package import APPROVAL_HEADER, OFFICER_HEADERS
from domain.calendar import answer_window
from domain.exports import (
    AuditLine,
    ExportFormat,
    IncidentLine,
    OfficerLine,
    PackageExport,
    Period,
    ProgrammeExport,
)
from domain.incidents import incident_text
from domain.records import Actor, AuditEntry, Incident, IncidentKind, IncidentStatus, OfficerState, Stamp
from sheets import programme
from sheets.chart1 import OFFICER_COLUMNS, OFFICER_HEADER_ROW, chart1_csv, chart1_workbook
from sheets.programme import programme_workbook
from tests.support import seed

VERMONT = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)
JB = Actor(aad_id="22222222-2222-4222-8222-222222222222", name="Jamie Staff")


def chart_view(fmt: ExportFormat = ExportFormat.XLSX) -> PackageExport:
    approved = seed.officer(
        "B2345",
        first_name="Dana",
        last_name="Deputy-Ünal",
        state=OfficerState.APPROVED,
        approval_date=date(2026, 11, 20),
        approved=Stamp(actor=JB, at=NOW),
    )
    formula = seed.officer("C3456", first_name='=HYPERLINK("http://x")', last_name="-Sum", dps_username="csum")
    withdrawn = seed.officer("D4567", state=OfficerState.WITHDRAWN, withdrawn=Stamp(actor=JB, at=NOW))
    return PackageExport(seed.package(), (seed.officer(), approved, formula, withdrawn), NOW, VERMONT, fmt)


def test_chart_1_columns_are_the_cards_plus_approval_date_and_state() -> None:
    assert (*OFFICER_HEADERS, APPROVAL_HEADER, "State") == OFFICER_COLUMNS


def test_the_chart_1_workbook_holds_the_title_the_agency_block_and_every_officer() -> None:
    book = openpyxl.load_workbook(io.BytesIO(chart1_workbook(chart_view())))
    assert book.sheetnames == ["Chart 1"]
    sheet = book["Chart 1"]
    assert sheet["A1"].value == "E-Ticket Information Package — Williston Police Department (9000)"
    assert book.properties.title == sheet["A1"].value
    assert [cell.value for cell in sheet[5]][:6] == [
        "Agency Name",
        "Address (letterhead)",
        "Phone (letterhead)",
        "Judiciary Code",
        "Point-of-Contact",
        "Point-of-Contact e-mail",
    ]
    assert [cell.value for cell in sheet[6]][:6] == [
        "Williston Police Department",
        "7928 Williston Rd, Williston, VT 05495",
        "(802) 878-6611",
        "9000",
        "Pat Poc",
        "pat.poc@williston.example",
    ]
    header = [cell.value for cell in sheet[OFFICER_HEADER_ROW]]
    assert header == list(OFFICER_COLUMNS)
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=OFFICER_HEADER_ROW + 1)]
    assert [row[2] for row in rows] == ["A1234", "B2345", "C3456", "D4567"]
    assert rows[1] == [
        "Dana",
        "Deputy-Ünal",
        "B2345",
        "cofficer",
        datetime(2026, 11, 2),
        datetime(2026, 11, 20),
        "Approved",
    ]
    assert [row[6] for row in rows] == ["In monitoring", "Approved", "In monitoring", "Withdrawn"]
    assert rows[3][5] is None  # a withdrawn officer has no approval date
    start, approval = sheet.cell(OFFICER_HEADER_ROW + 2, 5), sheet.cell(OFFICER_HEADER_ROW + 2, 6)
    assert start.is_date and approval.is_date and start.number_format == "yyyy-mm-dd"
    # text typed by a person stays text: never a formula
    typed = sheet.cell(OFFICER_HEADER_ROW + 3, 1)
    assert typed.value == '=HYPERLINK("http://x")' and typed.data_type == "s"
    assert sheet.freeze_panes == f"A{OFFICER_HEADER_ROW + 1}"
    assert sheet.auto_filter.ref == f"A{OFFICER_HEADER_ROW}:G{OFFICER_HEADER_ROW + 4}"
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFG"}
    assert widths["D"] >= len("DPS Network Username") and widths["F"] >= len("Approval Date")
    assert all(8 <= width <= 60 for width in widths.values())
    assert widths["A"] < len("Vermont Law Enforcement Officer Information")  # section titles do not widen a column


def test_the_csv_holds_the_same_officer_rows_in_utf_8_with_a_header() -> None:
    data = chart1_csv(chart_view(ExportFormat.CSV))
    assert data.startswith(b"\xef\xbb\xbf")  # so Excel opens it as UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == list(OFFICER_COLUMNS)
    assert rows[2] == ["Dana", "Deputy-Ünal", "B2345", "cofficer", "2026-11-02", "2026-11-20", "Approved"]
    assert len(rows) == 5
    # a spreadsheet would run these as formulas: they are kept as text with an apostrophe in front
    assert rows[3][:2] == ['\'=HYPERLINK("http://x")', "'-Sum"]


def test_an_empty_package_still_has_its_header_row() -> None:
    view = PackageExport(seed.package(), (), NOW, VERMONT)
    sheet = openpyxl.load_workbook(io.BytesIO(chart1_workbook(view)))["Chart 1"]
    assert [cell.value for cell in sheet[OFFICER_HEADER_ROW]] == list(OFFICER_COLUMNS)
    assert sheet.max_row == OFFICER_HEADER_ROW
    assert chart1_csv(view).decode("utf-8-sig").splitlines() == [",".join(OFFICER_COLUMNS)]


def programme_view() -> ProgrammeExport:
    officer = seed.officer()
    approved = seed.officer(
        "B2345", state=OfficerState.APPROVED, approval_date=date(2026, 11, 20), approved=Stamp(actor=JB, at=NOW)
    )
    issued = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
    rejected = Incident(
        id="inc-1",
        kind=IncidentKind.REJECTED,
        judiciary_code="9000",
        officer_number="A1234",
        ticket_number="VT-0001",
        event_id="e1",
        raised_at=issued + timedelta(hours=2),
        issued_at=issued,
        detail="Plate state missing\x01",  # a control character Excel refuses
        status=IncidentStatus.RESOLVED,
        closed=Stamp(actor=JB, at=NOW),
    )
    unknown = Incident(
        id="inc-2",
        kind=IncidentKind.UNKNOWN_OFFICER,
        judiciary_code="9000",
        officer_number="Z9999",
        ticket_number="VT-0002",
        event_id="e2",
        raised_at=NOW,
    )
    entry = AuditEntry(
        id="a1",
        at=NOW,
        actor=JB,
        action="officer.approve",
        target="officer:9000:B2345",
        before={"state": "monitoring"},
        after={"state": "approved"},
    )
    return ProgrammeExport(
        packages=(seed.package().model_copy(update={"acknowledged": Stamp(actor=JB, at=NOW)}),),
        officers=(
            OfficerLine(officer, "Williston Police Department", "1 of 3 accepted, 0 of 7 days", 1),
            OfficerLine(approved, "Williston Police Department", "", 0),
        ),
        incidents=(
            IncidentLine(rejected, answer_window(issued, NOW.date(), VERMONT)),
            IncidentLine(unknown, answer_window(None, NOW.date(), VERMONT)),
        ),
        audit=(AuditLine(entry, "Approved"),),
        period=Period(date(2026, 8, 31), date(2026, 11, 28)),
        generated=NOW,
        tz=VERMONT,
    )


def rows_of(sheet: object) -> list[list[object]]:
    return [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]  # type: ignore[attr-defined]


def test_the_jb_workbook_has_packages_officers_incidents_and_the_audit_log() -> None:
    book = openpyxl.load_workbook(io.BytesIO(programme_workbook(programme_view())))
    assert book.sheetnames == ["Packages", "Officers", "Incidents", "Audit log"]
    for name, columns in zip(
        book.sheetnames,
        (programme.PACKAGE_COLUMNS, programme.OFFICER_COLUMNS, programme.INCIDENT_COLUMNS, programme.AUDIT_COLUMNS),
        strict=True,
    ):
        sheet = book[name]
        assert [cell.value for cell in sheet[2]] == list(columns), name
        assert sheet.freeze_panes == "A3", name
    packages = rows_of(book["Packages"])
    assert packages[0][0] == "9000" and packages[0][-4:] == [2, 1, 1, 0]
    assert packages[0][8] == datetime(2026, 11, 28, 12, 0)  # acknowledged, court time
    officers = rows_of(book["Officers"])
    assert [(row[2], row[7], row[8], row[9]) for row in officers] == [
        ("A1234", "In monitoring", "1 of 3 accepted, 0 of 7 days", None),
        ("B2345", "Approved", None, datetime(2026, 11, 20)),
    ]
    incidents = rows_of(book["Incidents"])
    assert incidents[0][:12] == [
        "inc-1",
        "rejected",
        incident_text(IncidentKind.REJECTED),
        "9000",
        "A1234",
        "VT-0001",
        datetime(2026, 11, 21),
        datetime(2026, 12, 12),
        datetime(2026, 11, 21, 11, 0),
        "Resolved",
        "Jamie Staff",
        datetime(2026, 11, 28, 12, 0),
    ]
    assert incidents[0][12] == "Plate state missing\ufffd"
    assert incidents[1][6:8] == [None, None]  # issue date unknown, so no deadline
    audit = rows_of(book["Audit log"])
    assert audit == [
        [
            datetime(2026, 11, 28, 12, 0),
            "Jamie Staff",
            JB.aad_id,
            "officer.approve",
            "Approved",
            "officer:9000:B2345",
            '{"state": "monitoring"}',
            '{"state": "approved"}',
        ]
    ]
    assert "Aug 31, 2026" in book["Audit log"]["A1"].value and "Nov 28, 2026" in book["Audit log"]["A1"].value
