"""Archiving: closed tickets of long ago leave memory for the yearly archive, and come back when an event needs them.

A ticket is archived, with its events, once it was issued more than ``ARCHIVE_AFTER_DAYS`` days ago
(400 by default: a year and a month) and none of its incidents is open, unless it counts for an
officer still in monitoring (readiness reads every ticket since monitoring began). Its incidents,
the officer's figures and the audit log stay in memory, so /status, /audit, the officer cards and
the exports read what they always read. A late event about an archived ticket brings the ticket
back: ``services.tickets`` reads it from the archive and records the event over its state as
archived, and the ticket stays in memory until it is due again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any, Final

from domain.records import OfficerState
from services.context import AppContext

logger = logging.getLogger(__name__)

SLICE_SECONDS: Final = 0.01
"""How long one slice of the pass looks through tickets before it hands the event loop back."""
MOVE_EVERY: Final = 2000
"""Tickets gathered before they are moved together (one archive generation per year touched)."""


async def archive_due(app: AppContext) -> int:
    """Move every ticket now due into the archive; how many moved. Raises StorageUnavailable (what moved stays moved)."""
    db = app.db
    issued_before = app.now() - timedelta(days=app.settings.archive_after_days)
    keep = {officer.key for officer in db.officers.in_state(OfficerState.MONITORING)}
    keys = db.archive.ticket_keys()
    gathered: list[Any] = []
    moved = 0
    position = 0
    while position < len(keys):
        started = time.perf_counter()
        while position < len(keys) and time.perf_counter() - started < SLICE_SECONDS:
            gathered += db.archive.due(keys[position : position + 50], issued_before, keep)
            position += 50
        if len(gathered) >= MOVE_EVERY:
            moved += await db.archive.move(gathered)
            gathered = []
        else:
            await asyncio.sleep(0)  # the loop's other work goes first
    if gathered:
        moved += await db.archive.move(gathered)
    if moved:
        logger.info("archived %d tickets issued before %s", moved, issued_before.date().isoformat())
    return moved
