"""Re-checks readiness for approval at start and every hour: readiness changes with time (the 7 days
pass, an extension ends). The officers touched by ticket events and resolutions are re-checked by those
use cases themselves (``services.tickets``), right after they record."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from bot.periodic import Periodic
from services.approval import recheck
from services.context import AppContext

logger = logging.getLogger(__name__)

RECHECK_PERIOD_SECONDS = 3600.0

Rechecker = Callable[[AppContext, Iterable[str] | None], Awaitable[list[str]]]


class ReadinessScheduler(Periodic):
    """A background task that runs ``recheck(None)`` now and then every ``period`` seconds."""

    name = "readiness-scheduler"

    def __init__(
        self, app: AppContext, *, period: float = RECHECK_PERIOD_SECONDS, rechecker: Rechecker = recheck
    ) -> None:
        super().__init__(app.db.leases)
        self._app = app
        self._period = period
        self._recheck = rechecker

    async def round(self) -> None:
        """Re-check every officer once, as other replicas left them."""
        await self._app.db.catch_up()
        await self._recheck(self._app, None)

    def pause(self) -> float:
        """The period between re-checks."""
        return self._period
