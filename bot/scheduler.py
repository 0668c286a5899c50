"""Re-checks readiness for approval at start and every hour: readiness changes with time (the 7 days
pass, an extension ends). The officers touched by ticket events and resolutions are re-checked by those
use cases themselves (``services.tickets``), right after they record."""

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
        """Start the hourly loop."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="readiness-scheduler")

    async def stop(self) -> None:
        """Stop the loop; a re-check in progress is cancelled (its commit is all or nothing)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

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
