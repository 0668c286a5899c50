"""Roster files for the import tests: Excel workbooks and CSV files made here, as a person would save them."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import Any

import openpyxl

from domain.roster import ROSTER_COLUMNS
from tests.support.factories import POC_AAD

HEADERS = tuple(column.header for column in ROSTER_COLUMNS)

AGENCY = {
    "Judiciary Code": "9000",
    "Agency Name": "Williston Police Department",
    "Letterhead Address": "7928 Williston Rd\nWilliston, VT 05495",
    "Letterhead Phone": "(802) 878-6611",
    "PoC Name": "Pat Poc",
    "PoC E-mail": "pat.poc@williston.example",
    "PoC Azure AD Object Id": POC_AAD,
}


def officer_row(number: str, first: str = "Casey", last: str = "Officer", **changes: Any) -> dict[str, Any]:
    """One roster row of agency 9000: an officer who started on 2024-03-01 and was approved on 2024-04-02."""
    return (
        AGENCY
        | {
            "First Name": first,
            "Last Name": last,
            "Officer Number": number,
            "DPS Network Username": f"{first[0]}{last}".lower(),
            "Expected Start Date": date(2024, 3, 1),
            "Approval Date": date(2024, 4, 2),
        }
        | changes
    )


def xlsx(rows: Sequence[dict[str, Any]], headers: Sequence[str] = HEADERS, *, sheet: str = "Roster") -> bytes:
    """A workbook with a header row and one row per dict (dates as date cells, as Excel keeps them)."""
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    ws.append(list(headers))
    for row in rows:
        ws.append([row.get(header) for header in headers])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(
    rows: Sequence[dict[str, Any]], headers: Sequence[str] = HEADERS, *, encoding: str = "utf-8", delimiter: str = ","
) -> bytes:
    """A CSV file with a header row (dates written as ISO text)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(headers)
    for row in rows:
        cells = [row.get(header) for header in headers]
        writer.writerow(
            ["" if cell is None else cell.isoformat() if isinstance(cell, date) else cell for cell in cells]
        )
    return buffer.getvalue().encode(encoding)


def encrypted(data: bytes, password: str = "secret") -> bytes:
    """The workbook encrypted with a password to open, as Excel's File › Info › Protect Workbook does."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()
