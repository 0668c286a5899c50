"""Archiving: closed tickets of long ago leave memory for the yearly archive, and come back when an event needs them.

A ticket is archived, with its events, once it was issued more than ``ARCHIVE_AFTER_DAYS`` days ago
(400 by default: a year and a month) and none of its incidents is open, unless it counts for an
officer still in monitoring (readiness reads every ticket since monitoring began). Its incidents,
the officer's figures and the audit log stay in memory, so /status, /audit, the officer cards and
the exports read what they always read. A late event about an archived ticket brings the ticket
back: ``services.tickets`` reads it from the archive and records the event over its state as
archived, and the ticket stays in memory until it is due again.

An officer's figures count archived tickets too: they are brought up to date ticket by ticket and
never re-read the history. Built from scratch (a new start date, or a bot started with another
``TIMEZONE`` or ``READY_CLEAN_STREAK``), they are built by ``figures_counting_archive``, which
reads the officer's archived tickets as well as those in memory.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Final

from domain.readiness import OfficerFigures
from domain.records import Officer, OfficerState
from services import approval
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
    handed_back = time.perf_counter()
    for first in range(0, len(keys), 50):
        gathered += db.archive.due(keys[first : first + 50], issued_before, keep)
        if len(gathered) >= MOVE_EVERY:
            moved += await db.archive.move(gathered)
            gathered, handed_back = [], time.perf_counter()
        elif time.perf_counter() - handed_back > SLICE_SECONDS:
            await asyncio.sleep(0)  # the loop's other work goes first
            handed_back = time.perf_counter()
    if gathered:
        moved += await db.archive.move(gathered)
    if moved:
        logger.info("archived %d tickets issued before %s", moved, issued_before.date().isoformat())
    return moved


async def figures_counting_archive(app: AppContext, officers: Sequence[Officer]) -> list[OfficerFigures]:
    """The officers' figures from scratch: their tickets in memory and in the archive (memory's copy is newer).

    Reads the archive once for all of them (the years since the earliest membership began), again if a
    pass moved tickets meanwhile, then decides from memory with no await after. Raises
    StorageUnavailable when the archive cannot be read.
    """
    db = app.db
    since = {officer.key: officer.added.at for officer in officers}
    while True:
        held = await db.archive.years()
        archived = await db.archive.summaries_of(since) if held else {}
        if await db.archive.years() == held:
            break
    return [
        approval.rebuilt_figures(
            app,
            officer,
            [
                *(s for s in archived.get(officer.key, []) if not db.ticket_states.has(s.key)),
                *db.ticket_states.summaries_of(officer.key),
            ],
        )
        for officer in officers
    ]


async def refresh_stale_figures(app: AppContext) -> int:
    """Store the figures of every officer whose stored ones no longer fit their membership, archive included.

    Runs at start: a bot started with another ``TIMEZONE`` or ``READY_CLEAN_STREAK`` would otherwise
    rebuild them from the tickets in memory alone. Asks the archive nothing when every officer's
    figures fit. Returns how many officers' figures it stored.
    """
    db = app.db
    stale = [officer for officer in db.officers.all() if approval.stored_figures(app, officer) is None]
    if not stale or not await db.archive.years():
        return 0  # nothing to rebuild, or nothing archived: a rebuild from memory is whole
    figures = await figures_counting_archive(app, stale)
    for first in range(0, len(figures), 50):
        await app.commit([db.figures.put(one) for one in figures[first : first + 50]])
    logger.info("figures rebuilt with the archive: %d officers", len(figures))
    return len(figures)
