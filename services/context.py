"""What every use case needs: settings, the database, the notifier and the clock; and the one way to commit."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from services.notices import CopiesUpdate, Notice
from services.ports import Change, Database, Notifier
from settings import Settings


def utc_now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A short unique id for records (incidents, audit entries, wizards)."""
    return uuid.uuid4().hex[:16]


@dataclass
class AppContext:
    """The shared objects of one running bot, built once in app.py's composition root."""

    settings: Settings
    db: Database
    notifier: Notifier
    clock: Callable[[], datetime] = field(default=utc_now)

    def now(self) -> datetime:
        """The current instant (from the injectable clock)."""
        return self.clock()

    def today(self) -> date:
        """Today on the court's calendar (TIMEZONE), never the server's zone."""
        return self.now().astimezone(self.settings.timezone).date()

    async def commit(
        self,
        changes: Iterable[Change],
        notices: Sequence[Notice] = (),
        updates: Sequence[CopiesUpdate] = (),
        *,
        shown: str | None = None,
    ) -> None:
        """Make a use case's changes durable in one atomic write, with the outbox entries of its notices.

        Raises ``StorageUnavailable`` (nothing kept, nothing queued). ``shown`` is the edge's opaque
        token for a copy of a card already brought up to date in the turn.
        """
        queued = self.notifier.changes_for(notices, updates, now=self.now(), shown=shown)
        await self.db.commit([*changes, *queued])
        if queued:
            self.notifier.wake()
