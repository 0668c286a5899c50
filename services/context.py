"""What every use case needs: settings, the database and the clock."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from settings import Settings
from storage.repositories import Database


def utc_now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A short unique id for records (incidents, notices, audit entries)."""
    return uuid.uuid4().hex[:16]


@dataclass
class AppContext:
    """The shared objects of one running bot; built once in app.py's composition root.

    ``wake_outbox`` is called after notices are queued; ``after_events`` hooks run with the
    officer keys (``<judiciary code>:<officer number>``) whose tickets or incidents changed.
    """

    settings: Settings
    db: Database
    clock: Callable[[], datetime] = field(default=utc_now)
    wake_outbox: Callable[[], None] = field(default=lambda: None)
    after_events: list[Callable[[set[str]], Awaitable[None]]] = field(default_factory=list)

    def now(self) -> datetime:
        """The current instant (from the injectable clock)."""
        return self.clock()

    def today(self) -> date:
        """Today on the court's calendar (TIMEZONE), never the server's zone."""
        return self.now().astimezone(self.settings.timezone).date()
