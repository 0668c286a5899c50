"""What an operator watches: the outbox's backlog, read from the store at the moment it is asked for."""

from __future__ import annotations

from dataclasses import dataclass

from services.context import AppContext


@dataclass(frozen=True)
class OutboxHealth:
    """The outbox as it stands now: notices still to deliver, kept for a reader, and given up on."""

    pending: int
    waiting: int
    failed: int
    oldest_pending_seconds: float
    """How long the oldest notice still to deliver has waited (0 when none is pending)."""


def outbox_health(app: AppContext) -> OutboxHealth:
    """Count the outbox's notices by status and age the oldest pending one against the app's clock."""
    outbox = app.db.outbox
    oldest = outbox.oldest_created("pending")
    age = 0.0 if oldest is None else max(0.0, (app.now() - oldest).total_seconds())
    return OutboxHealth(
        pending=outbox.count("pending"),
        waiting=outbox.count("waiting"),
        failed=outbox.count("failed"),
        oldest_pending_seconds=age,
    )
