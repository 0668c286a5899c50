"""The clock scheduler ticks at start, every minute while the court is open, and at the next opening or
court midnight while it is closed; a failed tick is logged and the next one tries again."""

from __future__ import annotations

from datetime import date

from bot.clock_scheduler import ClockScheduler, seconds_to_next_tick
from services.clocks import ClockRound
from services.context import AppContext
from settings import Settings
from storage.errors import StorageUnavailable
from tests.support.clocks import Clock, court_time
from tests.support.memory_db import MemoryDatabase, RecordingNotifier


def app_at(clock: Clock) -> AppContext:
    return AppContext(settings=Settings.from_env({}), db=MemoryDatabase(), notifier=RecordingNotifier(), clock=clock)


def test_ticks_every_minute_while_open_and_wakes_for_the_next_opening_or_midnight() -> None:
    clock = Clock(court_time(date(2026, 11, 24), 10))
    app = app_at(clock)
    assert seconds_to_next_tick(app, clock.now) == 60.0
    clock.set(date(2026, 11, 24), 7, 50)  # ten minutes before opening
    assert seconds_to_next_tick(app, clock.now) == 601.0
    clock.set(date(2026, 11, 24), 23, 59)  # a minute before the next court date (its refresh of the alerts)
    assert seconds_to_next_tick(app, clock.now) == 61.0
    clock.set(date(2026, 11, 26), 12)  # Thanksgiving: every quarter hour at most, never in a busy loop
    assert seconds_to_next_tick(app, clock.now) == 900.0


async def test_a_failed_tick_is_survived() -> None:
    calls: list[int] = []

    async def ticker(app: AppContext) -> ClockRound:
        calls.append(1)
        if len(calls) == 1:
            raise StorageUnavailable("disk full")
        if len(calls) == 2:
            raise RuntimeError("bug")
        return ClockRound()

    scheduler = ClockScheduler(app_at(Clock(court_time(date(2026, 11, 24), 10))), ticker=ticker)
    for _ in range(3):
        await scheduler.run_once()
    assert scheduler.runs == 3 and len(calls) == 3
