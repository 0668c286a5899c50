"""Reading a roster file (.xlsx or .csv) into rows of cells, or saying plainly why it cannot be read.

What is refused, each with a message that says what to do: an empty file; a file that is neither
.xlsx nor .csv; a password-protected (encrypted) workbook; an old .xls workbook; a damaged workbook;
a CSV that is not UTF-8 (UTF-16 "Unicode Text", Windows-1252 / Latin-1); a file larger than 20 MiB.
A workbook's sheet named "Roster" is read, or else its first sheet. The first row that holds
anything is the header; rows with nothing in them are skipped. Cells keep their types (text,
numbers, dates), so the field rules can refuse a wrong type.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from pathlib import PurePath

from openpyxl import load_workbook

from domain.roster import RosterSheet

MAX_FILE_BYTES = 20 * 1024 * 1024

_CFB_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
"""An OLE2 compound file: an encrypted .xlsx is one, and so is an old .xls."""
_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")
_SAVE_AS_CSV = 'In Excel, use File › Save As › "CSV UTF-8 (Comma delimited) (*.csv)".'


class RosterFileError(ValueError):
    """The file cannot be read as a roster; the message says why and what to do. Nothing was imported."""


def read_roster(file_name: str, data: bytes) -> RosterSheet:
    """The roster in a file's bytes, by its extension (.xlsx or .csv). Raises ``RosterFileError``."""
    suffix = PurePath(file_name).suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise RosterFileError(
            f"The roster must be an Excel workbook (.xlsx) or a CSV file (.csv), not {suffix or 'a file without an extension'}."
        )
    if not data:
        raise RosterFileError("The file is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise RosterFileError(
            f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; a roster is far smaller."
        )
    return _read_xlsx(data) if suffix == ".xlsx" else _read_csv(data)


def _sheet(rows: Sequence[tuple[object, ...]]) -> RosterSheet:
    """The header (first row with anything in it) and the non-empty rows after it, with spreadsheet row numbers."""
    numbered = [(number, _trimmed(cells)) for number, cells in enumerate(rows, start=1)]
    filled = [(number, cells) for number, cells in numbered if any(_has_value(cell) for cell in cells)]
    if not filled:
        raise RosterFileError("The roster has nothing in it: no header row and no officers.")
    (header_row, headers), data = filled[0], filled[1:]
    return RosterSheet(header_row, headers, tuple(data))


def _has_value(cell: object) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def _trimmed(cells: tuple[object, ...]) -> tuple[object, ...]:
    end = len(cells)
    while end and not _has_value(cells[end - 1]):
        end -= 1
    return tuple(cells[:end])


def _read_xlsx(data: bytes) -> RosterSheet:
    if data.startswith(_CFB_MAGIC):
        if _ENCRYPTION_STREAM in data:
            raise RosterFileError(
                "The workbook is password-protected (encrypted), so it cannot be read. Open it in Excel, remove the "
                "password (File › Info › Protect Workbook › Encrypt with Password, then clear it), save it and import "
                "it again."
            )
        raise RosterFileError(
            "This is an old Excel 97–2003 workbook (.xls) named .xlsx. Open it in Excel and save it as an Excel "
            "Workbook (.xlsx)."
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise RosterFileError("The file is not a readable Excel workbook (.xlsx): it is damaged or of another kind.")
    # openpyxl parses with defusedxml when it is installed (requirements.txt): no entity expansion bombs.
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds (KeyError, zip, XML, its own) for a damaged file
        raise RosterFileError(
            f"The file is not a readable Excel workbook (.xlsx): it is damaged ({type(error).__name__})."
        ) from None
    try:
        sheets = book.worksheets
        if not sheets:
            raise RosterFileError("The workbook has no worksheet.")
        chosen = next((sheet for sheet in sheets if sheet.title.strip().lower() == "roster"), sheets[0])
        try:
            rows = [tuple(row) for row in chosen.iter_rows(values_only=True)]
        except Exception as error:  # a damaged sheet part shows only when its rows are read
            raise RosterFileError(
                f"The workbook's sheet {chosen.title!r} cannot be read: it is damaged ({type(error).__name__})."
            ) from None
    finally:
        book.close()
    return _sheet(rows)


def _read_csv(data: bytes) -> RosterSheet:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RosterFileError(f'The CSV file is UTF-16 ("Unicode Text"), not UTF-8. {_SAVE_AS_CSV}')
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RosterFileError(
            f"The CSV file is not UTF-8 (byte {error.start + 1} is not UTF-8 text): it was saved in another encoding, "
            f"such as Windows-1252. {_SAVE_AS_CSV}"
        ) from None
    if "\x00" in text:
        raise RosterFileError("The CSV file holds NUL characters: it is not a text file (or it is damaged).")
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        rows = [tuple(record) for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as error:
        raise RosterFileError(f"The CSV file cannot be read: {error}.") from None
    return _sheet([tuple(cell if cell.strip() else None for cell in row) for row in rows])
