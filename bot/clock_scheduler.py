"""Keeps the SOP's clocks: ``services.clocks.tick`` at start, then every minute while the court is open,
and at the next business morning (or the next court date's first minute, for the daily refresh of the
alerts) while it is closed. What a tick sends is remembered durably, so a restart repeats nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta

from domain.calendar import as_utc
from services import clocks
from services.context import AppContext
from storage.errors import StorageError

logger = logging.getLogger(__name__)

OPEN_PERIOD_SECONDS = 60.0
CLOSED_PERIOD_SECONDS = 900.0

Ticker = Callable[[AppContext], Awaitable[clocks.ClockRound]]


def seconds_to_next_tick(app: AppContext, now: datetime, *, open_period: float = OPEN_PERIOD_SECONDS) -> float:
    """Every minute while open; else until the next business morning or midnight court time, at most 15 minutes."""
    hours = clocks.business_hours(app)
    if hours.is_open(now):
        return open_period
    tz = app.settings.timezone
    midnight = datetime.combine(now.astimezone(tz).date() + timedelta(days=1), time(0), tzinfo=tz)
    until = min(hours.seconds_to_next_opening(now), (as_utc(midnight) - as_utc(now)).total_seconds())
    return max(1.0, min(CLOSED_PERIOD_SECONDS, until + 1.0))


class ClockScheduler:
    """A background task that runs the clocks' tick now and then on the court's hours."""

    def __init__(self, app: AppContext, *, ticker: Ticker = clocks.tick) -> None:
        self._app = app
        self._tick = ticker
        self._task: asyncio.Task[None] | None = None
        self.runs = 0

    def start(self) -> None:
        """Start the loop."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="clock-scheduler")

    async def stop(self) -> None:
        """Stop the loop; a tick in progress is cancelled (its commit is all or nothing)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self) -> None:
        """One tick; a failure is logged and the next tick tries again (nothing was kept of it)."""
        try:
            await self._tick(self._app)
        except StorageError as error:
            logger.warning("clock tick failed in storage: %s", type(error).__name__)
        except Exception:  # the clocks must outlive one bad tick
            logger.exception("clock tick failed")
        self.runs += 1

    async def _run(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(seconds_to_next_tick(self._app, self._app.now()))
