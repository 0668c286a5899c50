"""The readiness scheduler: re-checks every officer at start and every period, and the touched ones after events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest

from bot.scheduler import ReadinessScheduler
from services.context import AppContext
from settings import Settings
from storage.errors import StorageUnavailable
from storage.repositories import Database


@pytest.fixture
async def context(tmp_path: Path) -> AsyncIterator[AppContext]:
    db = await Database.open(tmp_path / "data")
    yield AppContext(Settings.from_env({"DATA_DIR": str(tmp_path / "data")}), db)
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


async def test_events_recheck_only_the_touched_officers_and_stop_unhooks(context: AppContext) -> None:
    recorder = Recorder()
    scheduler = ReadinessScheduler(context, period=3600, rechecker=recorder)
    scheduler.start()
    await recorder.wait_for(1)
    assert len(context.after_events) == 1
    for hook in context.after_events:
        await hook({"9000:A1234"})
    assert recorder.calls[-1] == {"9000:A1234"}
    await scheduler.stop()
    assert context.after_events == []
