"""What every use case needs: settings, the database, the notifier and the clock; and the one way to commit."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TypeVar

from services.notices import Audience, CopiesUpdate, Notice
from services.ports import Change, Database, Notifier
from settings import Settings
from storage.errors import CONFLICT_ATTEMPTS, decide_again_on_conflict

__all__ = ["CONFLICT_ATTEMPTS", "AppContext", "RefusalLog", "new_id", "utc_now"]
T = TypeVar("T")


def utc_now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A short unique id for records (incidents, audit entries, wizards)."""
    return uuid.uuid4().hex[:16]


@dataclass
class RefusalLog:
    """Refused requests counted per person, action and hour, in memory (bounded)."""

    limit: int = 10_000
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    total: int = 0

    def note(self, aad_id: str, action: str, at: datetime) -> bool:
        """Count one refusal; True when it is the first of this person and action in this hour."""
        self.total += 1
        key = (aad_id, action, at.astimezone(UTC).strftime("%Y-%m-%dT%H"))
        seen = self.counts.get(key, 0)
        if seen == 0 and len(self.counts) >= self.limit:
            self.counts = {k: v for k, v in self.counts.items() if k[2] == key[2]}  # keep this hour only
            if len(self.counts) >= self.limit:
                self.counts.clear()
        self.counts[key] = seen + 1
        return seen == 0


@dataclass
class AppContext:
    """The shared objects of one running bot, built once in app.py's composition root."""

    settings: Settings
    db: Database
    notifier: Notifier
    clock: Callable[[], datetime] = field(default=utc_now)
    refusals: RefusalLog = field(default_factory=RefusalLog)

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

    async def retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run a use case; when another replica committed a change to one of its records first (its commit
        raised ``ConflictError``, nothing kept), read what that replica wrote and decide again.

        So two presses of Approve on two replicas approve once, and the second is answered "already
        approved by …". Raises the last ``ConflictError`` after ``CONFLICT_ATTEMPTS`` runs.
        """
        return await decide_again_on_conflict(attempt, self.db.catch_up)

    async def release_all(self) -> int:
        """At start: send whatever waited for a reader who can be reached now (a crash may have kept it)."""
        return await self.release(self.notifier.waiting_readers())

    async def release(self, audiences: Sequence[Audience]) -> int:
        """Send what waited for these readers to the conversations that reach them now; returns how many."""
        released = self.notifier.release(audiences, now=self.now())
        if released:
            await self.db.commit(released)
            self.notifier.wake()
        return len(released)
