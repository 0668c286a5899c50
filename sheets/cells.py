"""Writing cells the same way in every workbook: real dates, text that stays text, a frozen header, widths that fit."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

Value = str | int | float | date | datetime | None

DATE_FORMAT = "yyyy-mm-dd"
"""Dates as the roster import reads them back (ISO, the same in every locale)."""
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MAX_CELL_CHARS = 32_000
"""Excel holds at most 32,767 characters in a cell; longer text is cut with an ellipsis."""
MIN_WIDTH, MAX_WIDTH = 8, 60

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
TITLE_FONT = Font(bold=True, size=14)
SECTION_FONT = Font(bold=True, size=12)
LABEL_FONT = Font(bold=True)
TOP_WRAP = Alignment(vertical="top", wrap_text=True)


def cell_text(text: str) -> str:
    """Text as a cell may hold it: control characters Excel refuses become U+FFFD, long text is cut."""
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def court_time(instant: datetime, tz: ZoneInfo) -> datetime:
    """An aware instant as the court's wall-clock time (Excel cells have no zone; the header says which)."""
    return instant.astimezone(tz).replace(tzinfo=None)


def put(
    sheet: Worksheet,
    row: int,
    column: int,
    value: Value,
    *,
    tz: ZoneInfo | None = None,
    font: Font | None = None,
    wrap: bool = False,
) -> None:
    """Write one cell: text stays text (a value starting with "=" is never a formula), dates are date cells.

    An aware datetime is written in the court's time zone ``tz`` as a date-and-time cell.
    """
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = cell_text(value)
        cell.data_type = "s"  # openpyxl would take "=…" for a formula: names and reasons are typed by people
    elif isinstance(value, datetime):
        if value.tzinfo is not None:
            if tz is None:
                raise ValueError("an aware datetime needs the court's time zone")
            value = court_time(value, tz)
        cell.value = value
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = DATE_FORMAT
    else:
        cell.value = value
    if font is not None:
        cell.font = font
    if wrap:
        cell.alignment = TOP_WRAP


def table(
    sheet: Worksheet,
    first_row: int,
    headers: Sequence[str],
    rows: Iterable[Sequence[Value]],
    *,
    tz: ZoneInfo,
    wrap_columns: Iterable[int] = (),
) -> int:
    """A header row at ``first_row`` (frozen, with a filter) and the rows below it; returns the last row used."""
    for column, header in enumerate(headers, start=1):
        put(sheet, first_row, column, header, font=HEADER_FONT)
        sheet.cell(row=first_row, column=column).fill = HEADER_FILL
    wrapped = set(wrap_columns)
    row_number = first_row
    for row_number, values in enumerate(rows, start=first_row + 1):
        for column, value in enumerate(values, start=1):
            put(sheet, row_number, column, value, tz=tz, wrap=column in wrapped)
    sheet.freeze_panes = f"A{first_row + 1}"
    last_column = get_column_letter(len(headers))
    sheet.auto_filter.ref = f"A{first_row}:{last_column}{max(row_number, first_row)}"
    sheet.print_title_rows = f"{first_row}:{first_row}"
    return row_number


def _shown_length(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return len(DATETIME_FORMAT)
    if isinstance(value, date):
        return len(DATE_FORMAT)
    return max((len(line) for line in str(value).splitlines()), default=0)


def fit_widths(sheet: Worksheet, *, from_row: int = 1, skip_rows: Iterable[int] = ()) -> None:
    """Set each column's width to its longest value from ``from_row`` down (between 8 and 60 characters).

    Rows above ``from_row`` and ``skip_rows`` (titles that span the sheet) do not widen the columns.
    """
    widths: dict[int, int] = {}
    skipped = set(skip_rows)
    for row in sheet.iter_rows(min_row=from_row):
        for cell in row:
            if cell.row in skipped:
                continue
            column = cell.column
            if column is None:
                continue
            length = _shown_length(cell.value) + (2 if cell.font is not None and cell.font.bold else 1)
            widths[column] = max(widths.get(column, 0), length)
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = max(MIN_WIDTH, min(MAX_WIDTH, width + 1))


def landscape(sheet: Worksheet) -> None:
    """Print the sheet landscape, one page wide."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[union-attr]


def workbook_bytes(book: Workbook, *, title: str, generated: datetime) -> bytes:
    """The workbook as .xlsx bytes, with its document title and creation time set."""
    book.properties.title = cell_text(title)
    book.properties.creator = "JB e-Ticket Bot"
    book.properties.created = generated.astimezone(UTC).replace(tzinfo=None)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
