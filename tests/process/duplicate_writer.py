"""Child process: posts each ticket event twice at once, as two senders would, until it is killed.

Usage: ``python duplicate_writer.py DATA_DIR ROUND``. For each event the first sender's request is
started and, while its write is on its way to disk, a second sender posts the same event. Prints
``recorded <id>`` when the first request returned and ``duplicate <id>`` when the second one was
answered ``duplicate``: both are acknowledgements to a sender, so the parent checks that every
printed event survives the SIGKILL. Run with ``JB_TEST_FSYNC_DELAY`` (``slow_fsync``) to make the
window between "in memory" and "on disk" wide: while one write's fsync runs, the writes queued
behind it are in memory only, and a SIGKILL loses them (bytes already written survive a SIGKILL, so
the lanes are kept out of step with small random pauses, or every write would share one fsync).
"""

from __future__ import annotations

import asyncio
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app import wire
from domain.records import EventType, TicketEvent
from services.context import AppContext
from services.tickets import record_events
from settings import Settings
from storage.repositories import Database
from tests.process import slow_fsync
from tests.support import seed

LANES = 4  # pairs of senders at work at the same time
ISSUED = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def event(event_id: str, ticket: str) -> TicketEvent:
    """A rejected e-ticket of the seeded agency's officer."""
    return TicketEvent(
        event_id=event_id,
        type=EventType.REJECTED,
        ticket_number=ticket,
        officer_number="A1234",
        judiciary_code="9000",
        occurred_at=ISSUED + timedelta(hours=1),
        issued_at=ISSUED,
        reason="Missing plate state",
    )


async def lane(app: AppContext, round_no: int, lane_no: int) -> None:
    """Post events one after the other, each by two senders at once."""
    rng = random.Random(f"{round_no}-{lane_no}")
    for n in range(100_000):  # far more than fits before the parent's kill; bounded all the same
        await asyncio.sleep(rng.random() * 0.02)  # out of step with the other lanes
        first = event(f"r{round_no}-l{lane_no}-{n}", f"T{round_no}-{lane_no}-{n}")
        first_sender = asyncio.create_task(record_events(app, [first]))
        await asyncio.sleep(0)  # the first request is decided and its write is in memory, not yet on disk
        # the second sender re-posts it, sometimes in a batch with an event of its own
        batch = [first] if n % 2 else [event(f"{first.event_id}-b", f"{first.ticket_number}-b"), first]
        second = await record_events(app, batch)
        for result in second:
            say(f"{result.status} {result.event_id}")
        for result in await first_sender:
            say(f"{result.status} {result.event_id}")


async def main(data_dir: Path, round_no: int) -> None:
    db = await Database.open(data_dir, fsync=slow_fsync.from_env())
    app = wire(Settings.from_env({"DATA_DIR": str(data_dir)}), db)
    if db.packages.get("9000") is None:
        await seed.seed_agency(app)
    say("open")
    await asyncio.gather(*(lane(app, round_no, n) for n in range(LANES)))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
