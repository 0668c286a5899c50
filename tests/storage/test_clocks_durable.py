"""Nothing lost or repeated: what the clocks sent is remembered in the store with its outbox entries, so a
restart past a threshold sends nothing more; a write that fails keeps neither, and the next tick sends it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app import wire
from services import clocks
from services.context import AppContext
from settings import Settings
from storage.errors import StorageUnavailable
from storage.repositories import ConversationRecord, Database
from tests.support.clocks import CASES, WEDNESDAY, Clock, court_time
from tests.support.factories import JB_AAD, POC_AAD

JB_CHANNEL = "19:jb-channel@thread.tacv2"


async def open_app(data_dir: Path, clock: Clock) -> AppContext:
    settings = Settings.from_env({"DATA_DIR": str(data_dir), "JB_STAFF_IDS": JB_AAD})
    app = wire(settings, await Database.open(data_dir))
    app.clock = clock
    return app


async def know_conversations(app: AppContext) -> None:
    """The JB channel is marked and the PoC has a 1:1 chat, so that notices have somewhere to go."""
    for record in (
        ConversationRecord(conversation_id=JB_CHANNEL, kind="channel", reference={}),
        ConversationRecord(conversation_id="a:poc", kind="personal", reference={}, aad_id=POC_AAD),
    ):
        await app.db.conversations.save(record)
    await app.db.commit([app.db.subscriptions.put("jb", JB_CHANNEL, JB_AAD, app.now())])


def sends(app: AppContext) -> list[str]:
    """The summaries of the new messages queued (the weekly digest aside)."""
    return [e.summary for e in app.db.outbox.pending() if e.action == "send" and "digest" not in e.summary]


async def close(app: AppContext) -> None:
    assert isinstance(app.db, Database)
    await app.db.close()


@pytest.mark.parametrize("case", list(CASES))
async def test_after_a_restart_past_the_threshold_nothing_more_is_sent(case: str, tmp_path: Path) -> None:
    seeder, kind, hour = CASES[case]
    clock = Clock(court_time(WEDNESDAY, 7))
    app = await open_app(tmp_path / "data", clock)
    await know_conversations(app)
    await seeder(app, clock, WEDNESDAY)
    queued_before = sends(app)
    clock.set(WEDNESDAY, hour)
    assert {key.split(":")[0] for key in (await clocks.tick(app)).sent} >= {kind}
    queued = sends(app)
    assert len(queued) > len(queued_before)
    await close(app)

    # past the threshold, restarted, and before any later step of the same clock (Friday, after Thanksgiving)
    for day, at in ((WEDNESDAY, hour + 1), (WEDNESDAY + timedelta(days=2), 9), (WEDNESDAY + timedelta(days=2), 16)):
        clock.set(day, at)
        again = await open_app(tmp_path / "data", clock)
        round_ = await clocks.tick(again)
        assert [key for key in round_.sent if key.startswith(kind)] == [], f"sent again after a restart on {day}"
        assert sends(again) == queued, "no second copy of any notice"
        await close(again)


async def test_a_failed_write_keeps_neither_the_notice_nor_the_memory_and_the_next_tick_sends_it(
    tmp_path: Path,
) -> None:
    seeder, _, hour = CASES["package not acknowledged after 2 business days"]
    clock = Clock(court_time(WEDNESDAY, 7))
    app = await open_app(tmp_path / "data", clock)
    await know_conversations(app)
    await seeder(app, clock, WEDNESDAY)
    clock.set(WEDNESDAY, hour)
    assert isinstance(app.db, Database)
    real_write = app.db.store.write

    def full_disk(ops: object) -> object:
        raise StorageUnavailable("disk full")

    app.db.store.write = full_disk  # type: ignore[assignment,method-assign]
    with pytest.raises(StorageUnavailable):
        await clocks.tick(app)
    app.db.store.write = real_write  # type: ignore[method-assign]
    assert not app.db.clocks.done("package_unacknowledged:9000") and sends(app) == []
    clock.set(WEDNESDAY, hour, 1)
    assert "package_unacknowledged:9000" in (await clocks.tick(app)).sent
    assert sends(app) == ["Reminder: Information Package 9000 not acknowledged"]
    await close(app)
