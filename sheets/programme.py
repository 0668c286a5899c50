"""The JB's export: every agency's records as one workbook.

Sheets, each a title line and a frozen, filtered header row (row 2):

- ``Packages``: one row per Information Package, with its counts of officers by state;
- ``Officers``: one row per membership: the Chart 1 fields, state, progress toward readiness, approval date;
- ``Incidents``: kind, ticket, issued, answer deadline, opened, status, resolved by and when;
- ``Audit log``: every entry of the period: when, who, what, on what, before and after (JSON).

Instants are the court's wall-clock time (the title line says which zone); dates are date cells.
"""

from __future__ import annotations

import json
from typing import Any

from openpyxl import Workbook

from domain.calendar import format_date, format_instant
from domain.exports import AuditLine, IncidentLine, OfficerLine, ProgrammeExport
from domain.incidents import incident_text
from domain.records import IncidentStatus, OfficerState, Package
from sheets.cells import TITLE_FONT, Value, fit_widths, landscape, put, table, workbook_bytes
from sheets.chart1 import STATE_WORDS

HEADER_ROW = 2

PACKAGE_COLUMNS = (
    "Judiciary Code",
    "Agency Name",
    "Address (letterhead)",
    "Phone (letterhead)",
    "Point-of-Contact",
    "Point-of-Contact e-mail",
    "Point-of-Contact Azure AD object id",
    "Submitted",
    "Acknowledged",
    "Acknowledged By",
    "Officers",
    "In Monitoring",
    "Approved",
    "Withdrawn",
)
OFFICER_COLUMNS = (
    "Judiciary Code",
    "Agency Name",
    "Officer Number",
    "First Name",
    "Last Name",
    "DPS Network Username",
    "Expected Start Date",
    "State",
    "Progress",
    "Approval Date",
    "Extended Until",
    "Open Incidents",
    "Added",
)
INCIDENT_COLUMNS = (
    "Incident",
    "Kind",
    "Problem",
    "Judiciary Code",
    "Officer Number",
    "Ticket",
    "Issued",
    "Answer Deadline",
    "Opened",
    "Status",
    "Resolved By",
    "Resolved At",
    "Detail",
)
AUDIT_COLUMNS = ("At", "By", "By (Azure AD object id)", "Action", "What", "Target", "Before", "After")

STATUS_WORDS = {IncidentStatus.OPEN: "Open", IncidentStatus.RESOLVED: "Resolved", IncidentStatus.VOIDED: "Voided"}


def _package_row(package: Package, lines: list[OfficerLine]) -> tuple[Value, ...]:
    agency = package.agency
    states = [line.officer.state for line in lines]
    acknowledged = package.acknowledged
    return (
        agency.judiciary_code,
        agency.agency_name,
        agency.letterhead_address,
        agency.letterhead_phone,
        agency.poc_name,
        agency.poc_email,
        package.poc.aad_id,
        package.submitted.at,
        acknowledged.at if acknowledged else None,
        (acknowledged.actor.name or acknowledged.actor.aad_id) if acknowledged else None,
        len(lines),
        states.count(OfficerState.MONITORING),
        states.count(OfficerState.APPROVED),
        states.count(OfficerState.WITHDRAWN),
    )


def _officer_row(line: OfficerLine) -> tuple[Value, ...]:
    officer = line.officer
    return (
        officer.judiciary_code,
        line.agency_name,
        officer.officer_number,
        officer.first_name,
        officer.last_name,
        officer.dps_username,
        officer.start_date,
        STATE_WORDS[officer.state],
        line.progress,
        officer.approval_date if officer.state is OfficerState.APPROVED else None,
        officer.extension.until if officer.extension and officer.state is OfficerState.MONITORING else None,
        line.open_incidents,
        officer.added.at,
    )


def _incident_row(line: IncidentLine) -> tuple[Value, ...]:
    incident, window = line.incident, line.window
    closed = incident.closed
    return (
        incident.id,
        incident.kind.value,
        incident_text(incident.kind),
        incident.judiciary_code,
        incident.officer_number,
        incident.ticket_number,
        window.issue_date,
        window.deadline,
        incident.raised_at,
        STATUS_WORDS[incident.status],
        (closed.actor.name or closed.actor.aad_id) if closed else None,
        closed.at if closed else None,
        incident.detail,
    )


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def _audit_row(line: AuditLine) -> tuple[Value, ...]:
    entry = line.entry
    return (
        entry.at,
        entry.actor.name,
        entry.actor.aad_id,
        entry.action,
        line.what,
        entry.target,
        _json(entry.before),
        _json(entry.after),
    )


def programme_workbook(view: ProgrammeExport) -> bytes:
    """The JB's workbook: sheets Packages, Officers, Incidents and Audit log."""
    tz = view.tz
    period = f"{format_date(view.period.start)} – {format_date(view.period.end)}"
    when = f"exported {format_instant(view.generated, tz)}; times are {tz.key}"
    by_agency: dict[str, list[OfficerLine]] = {}
    for line in view.officers:
        by_agency.setdefault(line.officer.judiciary_code, []).append(line)
    sheets: list[tuple[str, str, tuple[str, ...], list[tuple[Value, ...]], tuple[int, ...]]] = [
        (
            "Packages",
            f"Information Packages: {len(view.packages)} ({when})",
            PACKAGE_COLUMNS,
            [_package_row(p, by_agency.get(p.judiciary_code, [])) for p in view.packages],
            (3,),
        ),
        (
            "Officers",
            f"Officers: {len(view.officers)} memberships ({when})",
            OFFICER_COLUMNS,
            [_officer_row(line) for line in view.officers],
            (),
        ),
        (
            "Incidents",
            f"Incidents raised {period}, and every incident still open: {len(view.incidents)} ({when})",
            INCIDENT_COLUMNS,
            [_incident_row(line) for line in view.incidents],
            (13,),
        ),
        (
            "Audit log",
            f"Audit log {period}: {len(view.audit)} entries, oldest first ({when})",
            AUDIT_COLUMNS,
            [_audit_row(line) for line in view.audit],
            (),
        ),
    ]
    book = Workbook()
    first = book.active
    assert first is not None  # a new workbook has its sheet
    book.remove(first)
    for name, title, headers, rows, wrapped in sheets:
        sheet = book.create_sheet(name)
        put(sheet, 1, 1, title, font=TITLE_FONT)
        table(sheet, HEADER_ROW, headers, rows, tz=tz, wrap_columns=wrapped)
        fit_widths(sheet, from_row=HEADER_ROW)
        landscape(sheet)
    return workbook_bytes(book, title=f"JB e-ticket records, {period}", generated=view.generated)
