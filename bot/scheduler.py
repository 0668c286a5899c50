"""Re-checks readiness for approval: every officer at start and every hour (readiness changes with time:
the 7 days pass, an extension ends), and the touched officers right after ticket events and resolutions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

from services.approval import recheck
from services.context import AppContext
from storage.errors import StorageError

logger = logging.getLogger(__name__)

RECHECK_PERIOD_SECONDS = 3600.0

Rechecker = Callable[[AppContext, Iterable[str] | None], Awaitable[list[str]]]


class ReadinessScheduler:
    """A background task that runs ``recheck(None)`` now and then every ``period`` seconds."""

    def __init__(
        self, app: AppContext, *, period: float = RECHECK_PERIOD_SECONDS, rechecker: Rechecker = recheck
    ) -> None:
        self._app = app
        self._period = period
        self._recheck = rechecker
        self._task: asyncio.Task[None] | None = None
        self.runs = 0

    def start(self) -> None:
        """Start the hourly loop and hook the re-check of touched officers into ticket events."""
        self._app.after_events.append(self.officers_touched)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="readiness-scheduler")

    async def stop(self) -> None:
        """Stop the loop and unhook; a re-check in progress is cancelled (its commit is all or nothing)."""
        if self.officers_touched in self._app.after_events:
            self._app.after_events.remove(self.officers_touched)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def officers_touched(self, officer_keys: set[str]) -> None:
        """The after-events hook: re-check just these officers (never fails the request that recorded the events)."""
        if not officer_keys:
            return
        try:
            await self._recheck(self._app, officer_keys)
        except StorageError as error:
            logger.warning("readiness re-check after events failed: %s", type(error).__name__)

    async def run_once(self) -> None:
        """Re-check every officer once; a failure is logged and the next round tries again."""
        try:
            await self._recheck(self._app, None)
        except StorageError as error:
            logger.warning("readiness re-check failed in storage: %s", type(error).__name__)
        except Exception:  # the scheduler must outlive one bad round
            logger.exception("readiness re-check failed")
        self.runs += 1

    async def _run(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self._period)
