"""Child process: submits Information Packages and records ticket events until it is killed.

Usage: ``python package_event_writer.py DATA_DIR ROUND``. Prints ``package <code>`` once a package
(with its officer) is durably stored and ``event <id>`` once an event's request was recorded, so
the parent knows what must survive a SIGKILL. With ``JB_TEST_FSYNC_DELAY`` set, every journal fsync
is that much slower (``slow_fsync``).
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app import wire
from domain.records import EventType, TicketEvent
from services.tickets import record_events
from settings import Settings
from storage.repositories import Database
from tests.process import slow_fsync
from tests.support import seed


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main(data_dir: Path, round_no: int) -> None:
    db = await Database.open(data_dir, fsync=slow_fsync.from_env())
    app = wire(Settings.from_env({"DATA_DIR": str(data_dir)}), db)
    say("open")
    issued = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    for n in range(5000):  # far more than fits before the parent's kill; bounded all the same
        code = f"{(round_no * 5000 + n) % 10000:04d}"
        await db.commit([db.packages.put(seed.package(code)), db.officers.put(seed.officer("A1234", code))])
        say(f"package {code}")
        events = [
            TicketEvent(
                event_id=f"r{round_no}-{n}-{kind.value}",
                type=kind,
                ticket_number=f"T{round_no}-{n}",
                officer_number="A1234",
                judiciary_code=code,
                occurred_at=issued + timedelta(hours=1),
                issued_at=issued,
                reason="Bad plate" if kind is EventType.REJECTED else None,
            )
            for kind in (EventType.SUBMITTED, EventType.REJECTED)
        ]
        await record_events(app, events)
        for event in events:
            say(f"event {event.event_id}")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
