"""Keeps the SOP's clocks: ``services.clocks.tick`` at start, then every minute while the court is open,
and at the next business morning (or the next court date's first minute, for the daily refresh of the
alerts) while it is closed. What a tick sends is remembered durably, so a restart repeats nothing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta

from bot.periodic import Periodic
from domain.calendar import as_utc
from services import clocks
from services.context import AppContext

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


class ClockScheduler(Periodic):
    """A background task that runs the clocks' tick now and then on the court's hours."""

    name = "clock-scheduler"

    def __init__(self, app: AppContext, *, ticker: Ticker = clocks.tick) -> None:
        super().__init__(app.db.leases)
        self._app = app
        self._tick = ticker

    async def round(self) -> None:
        """One tick of the clocks (nothing is kept of a tick that failed), on the records as other replicas left them."""
        await self._app.db.catch_up()
        await self._tick(self._app)

    def pause(self) -> float:
        """Every minute while the court is open; else until its next opening or midnight."""
        return seconds_to_next_tick(self._app, self._app.now())
