"""Runs the archive pass (``services.archive.archive_due``) a minute after start and then every six hours, on one replica."""

from __future__ import annotations

from bot.periodic import Periodic
from services.archive import archive_due
from services.context import AppContext

PASS_SECONDS = 6 * 3600.0
"""Between two passes: a day's tickets become due each day, so a few passes a day keep memory flat."""


class ArchiveScheduler(Periodic):
    """A background task that moves the tickets due into the archive."""

    name = "archive"
    first_pause = 60.0  # the start's own work (and its first turns) go first

    def __init__(self, app: AppContext) -> None:
        super().__init__(app.db.leases)
        self._app = app

    async def round(self) -> None:
        """One pass over the tickets in memory, on the records as other replicas left them."""
        await self._app.db.catch_up()
        await archive_due(self._app)

    def pause(self) -> float:
        """Six hours."""
        return PASS_SECONDS
