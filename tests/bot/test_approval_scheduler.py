"""The readiness scheduler re-checks every officer at start and every period; recording events re-checks the\nofficers they touch by itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app import wire
from bot.scheduler import ReadinessScheduler
from domain.records import EventType, TicketEvent
from services.context import AppContext
from services.tickets import record_events
from settings import Settings
from storage.errors import StorageUnavailable
from storage.repositories import Database
from tests.support.seed import mark_jb_channel, seed_agency


@pytest.fixture
async def context(tmp_path: Path) -> AsyncIterator[AppContext]:
    db = await Database.open(tmp_path / "data")
    yield wire(Settings.from_env({"DATA_DIR": str(tmp_path / "data")}), db)
    await db.close()


class Recorder:
    """A stand-in for services.approval.recheck that records its calls."""

    def __init__(self, fail_first: bool = False) -> None:
        self.calls: list[set[str] | None] = []
        self.fail_first = fail_first
        self.changed = asyncio.Event()

    async def __call__(self, app: AppContext, keys: Iterable[str] | None) -> list[str]:
        self.calls.append(None if keys is None else set(keys))
        self.changed.set()
        if self.fail_first and len(self.calls) == 1:
            raise StorageUnavailable("disk full")
        return []

    async def wait_for(self, count: int) -> None:
        while len(self.calls) < count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 5)


async def test_runs_at_start_and_every_period(context: AppContext) -> None:
    recorder = Recorder()
    scheduler = ReadinessScheduler(context, period=0.01, rechecker=recorder)
    scheduler.start()
    await recorder.wait_for(3)
    await scheduler.stop()
    assert recorder.calls[:3] == [None, None, None]


async def test_a_failed_round_does_not_stop_the_loop(context: AppContext) -> None:
    recorder = Recorder(fail_first=True)
    scheduler = ReadinessScheduler(context, period=0.01, rechecker=recorder)
    scheduler.start()
    await recorder.wait_for(2)
    await scheduler.stop()


async def test_recording_events_rechecks_the_officers_they_touch_with_no_scheduler(context: AppContext) -> None:
    await seed_agency(context, officers=("A1234", "B2345"))
    await mark_jb_channel(context, "19:jb-channel@thread.tacv2")
    context.clock = lambda: datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    events = []
    for day in (10, 11, 12):
        issued = datetime(2026, 11, day, 14, 0, tzinfo=UTC)
        for kind in (EventType.SUBMITTED, EventType.ACCEPTED):
            events.append(
                TicketEvent(
                    event_id=f"{kind.value}-{day}",
                    type=kind,
                    ticket_number=f"VT-{day}",
                    officer_number="A1234",
                    judiciary_code="9000",
                    occurred_at=issued + timedelta(hours=1 if kind is EventType.SUBMITTED else 2),
                    issued_at=issued,
                )
            )
    await record_events(context, events)
    assert context.db.readiness.was_ready("9000:A1234")
    assert not context.db.readiness.was_ready("9000:B2345")
    assert [n.summary for n in context.db.outbox.pending()] == ["Ready for approval: A1234"]
