"""``GET /api/exports/<token>``: the download behind a card's Download / Export button.

Answers, in this order: 503 when downloads are not configured (PUBLIC_BASE_URL, EXPORTS_SECRET);
403 with no data for a forged, altered or expired token and for a person who may not (or no longer)
download it; 404 for a package that is gone; 400 for a bad period (``days``, ``from``, ``to`` on the
JB's export); 503 when the download cannot be audited; else 200 with the file. HEAD is not served
(a link checker must not count as a download). Logs carry reasons and ids, never the token.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

from aiohttp import web

from domain.calendar import court_date
from domain.exports import ExportFormat, PackageExport, ProgrammeExport
from services.context import AppContext
from services.exports import EXPORT_PATH, download, missing_settings
from services.outcomes import Done, Invalid, NotFound, Refused
from sheets.chart1 import chart1_csv, chart1_workbook
from sheets.programme import programme_workbook
from storage.errors import StorageError

logger = logging.getLogger(__name__)

V = TypeVar("V")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv"
RENDERS_AT_ONCE = 2
"""Workbooks drawn at the same time (each is built in memory, in a worker thread)."""

_PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
"""Every answer: not cached, no Referer carrying the token onward, no content sniffing."""


def _text(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text + "\n", content_type="text/plain", charset="utf-8", headers=_PRIVATE)


def _file(body: bytes, content_type: str, name: str) -> web.Response:
    headers = _PRIVATE | {"Content-Disposition": f'attachment; filename="{name}"'}
    if content_type == CSV_TYPE:
        return web.Response(body=body, content_type=content_type, charset="utf-8", headers=headers)
    return web.Response(body=body, content_type=content_type, headers=headers)


class _ExportHandlers:
    """The download handler over the running bot's context, drawing at most ``RENDERS_AT_ONCE`` files at once."""

    def __init__(self, context: Callable[[], AppContext]) -> None:
        self._context = context
        self._renders = asyncio.Semaphore(RENDERS_AT_ONCE)

    async def get_export(self, request: web.Request) -> web.Response:
        """Check the token and the person's rights again, audit the download, and send the file."""
        app = self._context()
        missing = missing_settings(app)
        if missing:
            logger.warning("export refused: %s not set; status=503", " and ".join(missing))
            return _text(503, "Downloads are not configured on this bot.")
        query = {key: request.query.getone(key) for key in request.query}
        try:
            outcome = await download(app, request.match_info["token"], query)
        except StorageError as error:
            logger.warning("export not served, audit could not be written: %s; status=503", type(error).__name__)
            return _text(503, "The download could not be recorded just now, so it was not sent. Please try again.")
        match outcome:
            case Refused(who_may=text):
                return _text(403, text)
            case NotFound():
                return _text(404, "This Information Package is not in the bot any more.")
            case Invalid(errors=errors):
                return _text(400, " ".join(errors.values()))
            case Done(view=PackageExport() as view):
                day = court_date(view.generated, view.tz).isoformat()
                name = f"information-package-{view.package.judiciary_code}-{day}.{view.format.value}"
                if view.format is ExportFormat.CSV:
                    return _file(await self._draw(chart1_csv, view), CSV_TYPE, name)
                return _file(await self._draw(chart1_workbook, view), XLSX_TYPE, name)
            case Done(view=ProgrammeExport() as view):
                period = view.period
                name = f"jb-eticket-records-{period.start.isoformat()}-to-{period.end.isoformat()}.xlsx"
                return _file(await self._draw(programme_workbook, view), XLSX_TYPE, name)
        logger.error("export use case answered %s; status=500", type(outcome).__name__)
        return _text(500, "The download failed.")

    async def _draw(self, draw: Callable[[V], bytes], view: V) -> bytes:
        """Draw a file off the event loop (a large workbook takes a while), a few at a time."""
        async with self._renders:
            return await asyncio.to_thread(draw, view)


def setup_export_routes(app: web.Application, *, context: Callable[[], AppContext]) -> None:
    """Add ``GET /api/exports/{token}``; ``context`` gives the running bot's context (opened on startup)."""
    handlers = _ExportHandlers(context)
    app.router.add_get(EXPORT_PATH + "{token}", handlers.get_export, allow_head=False)
