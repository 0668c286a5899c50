"""Nothing is acknowledged before it is durable: "duplicate" and "already done" wait for the first write.

A write is visible in memory at once and made durable by the background writer. A second request
that finds the first's record must not answer from it until the first write's fsync completed, and
must get the first write's failure when that write is undone. The journal's fsync is held open here
(``Store.open(fsync=...)``) or the journal append fails (ENOSPC), as in tests/security/test_faults.py.
"""

from __future__ import annotations

import asyncio
import errno
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from app import wire
from domain.policy import Requester
from domain.records import Actor, EventType, TicketEvent
from services import approval, packages, tickets
from services.context import AppContext
from services.outcomes import AlreadyDone
from settings import Settings
from storage.engine import Put, Store
from storage.errors import StorageUnavailable
from storage.repositories import Database
from tests.support import seed
from tests.support.factories import JB_AAD

T = TypeVar("T")
STAFF = Requester(Actor(aad_id=JB_AAD, name="Jamie Staff"), is_staff=True)
OTHER_STAFF = Requester(Actor(aad_id=JB_AAD, name="Jamie Staff, second window"), is_staff=True)
ISSUED = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
STILL_WAITING = 0.2  # how long a request that must wait for the held fsync is watched


class HeldFsync:
    """A journal fsync that, once armed, blocks until released (a disk that is slow right now)."""

    def __init__(self) -> None:
        self.armed = False
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, fd: int) -> None:
        if self.armed:
            self.calls += 1
            self.entered.set()
            assert self.release.wait(10), "the test never released the fsync"
        os.fsync(fd)

    async def wait_entered(self) -> None:
        """Until a write is inside the held fsync."""
        entered = await asyncio.get_running_loop().run_in_executor(None, self.entered.wait, 10)
        assert entered, "no write reached the journal's fsync"


class FailingAppend:
    """A journal append that, once armed, blocks until released and then fails with ENOSPC (a full disk)."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

        def append(data: bytes) -> None:
            self.entered.set()
            assert self.release.wait(10), "the test never released the append"
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(store, "_append_and_sync", append)

    async def wait_entered(self) -> None:
        entered = await asyncio.get_running_loop().run_in_executor(None, self.entered.wait, 10)
        assert entered, "no write reached the journal"


@pytest.fixture
def held() -> Iterator[HeldFsync]:
    fsync = HeldFsync()
    yield fsync
    fsync.release.set()  # never leave the journal thread blocked, even when the test failed


@pytest.fixture
def failing_append(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Store], FailingAppend]]:
    """Arm a full disk on a store's journal append; released at the end whatever happened."""
    armed: list[FailingAppend] = []

    def arm(store: Store) -> FailingAppend:
        armed.append(FailingAppend(store, monkeypatch))
        return armed[-1]

    yield arm
    for fault in armed:
        fault.release.set()


@pytest.fixture
async def app(tmp_path: Path, held: HeldFsync) -> AsyncIterator[AppContext]:
    """The use cases over a real store whose journal fsync the test can hold open; one agency seeded."""
    db = await Database.open(tmp_path / "data", fsync=held)
    context = wire(Settings.from_env({"DATA_DIR": str(tmp_path / "data"), "JB_STAFF_IDS": JB_AAD}), db)
    await seed.seed_agency(context)
    yield context
    held.release.set()
    await db.close()


def rejected(event_id: str) -> TicketEvent:
    """A rejected e-ticket event of the seeded agency's officer."""
    return TicketEvent(
        event_id=event_id,
        type=EventType.REJECTED,
        ticket_number="VT-0001",
        officer_number="A1234",
        judiciary_code="9000",
        occurred_at=ISSUED + timedelta(hours=1),
        issued_at=ISSUED,
        reason="Missing plate state",
    )


async def still_waiting(task: asyncio.Future[Any]) -> bool:
    """Whether ``task`` is still not done after a short while (it must be waiting for the disk)."""
    done, _ = await asyncio.wait([task], timeout=STILL_WAITING)
    return not done


async def first_then_second(
    held: HeldFsync, first: Callable[[], Awaitable[T]], second: Callable[[], Awaitable[T]]
) -> tuple[asyncio.Task[T], asyncio.Task[T]]:
    """Start ``first`` and hold its write in the fsync; then start ``second``, which reads its record."""
    held.armed = True
    first_task = asyncio.create_task(first())
    await held.wait_entered()
    second_task = asyncio.create_task(second())
    return first_task, second_task


# ---- the engine ----------------------------------------------------------------------------------------


async def test_settled_follows_the_pending_write_of_that_key_only(tmp_path: Path, held: HeldFsync) -> None:
    store = await Store.open(tmp_path / "data", fsync=held)
    try:
        await store.write([Put("t", "durable", {"v": 1})])
        held.armed = True
        pending = store.write([Put("t", "k", {"v": 1})])
        await held.wait_entered()
        assert store.get("t", "k") == {"v": 1}  # visible at once...
        waiting = store.settled("t", "k")
        assert not waiting.done()  # ...but not settled while its fsync runs
        assert store.settled("t", "durable").done() and store.settled("other", "k").done()
        assert not store.settled("t", "durable", "k").done()
        pending.cancel()  # the first caller gave up (a client that hung up): the write still goes on
        assert await still_waiting(waiting)
        held.release.set()
        await waiting
        assert store.settled("t", "k").done()
    finally:
        held.release.set()
        await store.close()


async def test_settled_fails_when_the_write_it_follows_is_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_append: Callable[[Store], FailingAppend]
) -> None:
    store = await Store.open(tmp_path / "data")
    try:
        fault = failing_append(store)
        first = store.write([Put("t", "k", {"v": 1})])
        await fault.wait_entered()
        queued = store.write([Put("t", "other", {"v": 2})])
        waiting = store.settled("t", "k")
        fault.release.set()
        for future in (first, queued, waiting):
            with pytest.raises(StorageUnavailable):
                await future
        assert store.get("t", "k") is None
    finally:
        monkeypatch.undo()
        await store.close()


# ---- the intake: "duplicate" only once the first copy is durable -----------------------------------------


async def test_a_duplicate_is_answered_only_after_the_first_copy_is_fsynced(app: AppContext, held: HeldFsync) -> None:
    first, second = await first_then_second(
        held,
        lambda: tickets.record_events(app, [rejected("e1")]),
        lambda: tickets.record_events(app, [rejected("e1")]),
    )
    assert await still_waiting(second), "duplicate answered while the first copy's fsync was still running"
    assert not first.done()
    held.release.set()
    assert [r.status for r in await first] == ["recorded"]
    assert [r.status for r in await second] == ["duplicate"]


async def test_a_batch_with_a_pending_duplicate_waits_then_records_the_rest_once(
    app: AppContext, held: HeldFsync
) -> None:
    first, second = await first_then_second(
        held,
        lambda: tickets.record_events(app, [rejected("e1")]),
        lambda: tickets.record_events(app, [rejected("e2"), rejected("e1")]),
    )
    assert await still_waiting(second)
    held.release.set()
    await first
    assert [r.status for r in await second] == ["recorded", "duplicate"]
    assert len(app.db.incidents.open("9000")) == 2


async def test_on_a_full_disk_the_duplicate_gets_the_first_writes_failure(
    app: AppContext,
    monkeypatch: pytest.MonkeyPatch,
    failing_append: Callable[[Store], FailingAppend],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fault = failing_append(app.db.store)  # type: ignore[attr-defined]
    first = asyncio.create_task(tickets.record_events(app, [rejected("e1")]))
    await fault.wait_entered()
    second = asyncio.create_task(tickets.record_events(app, [rejected("e1")]))
    assert await still_waiting(second), "duplicate answered before the first copy was stored"
    fault.release.set()
    for task in (first, second):
        with pytest.raises(StorageUnavailable) as refused:
            await task
        assert "ENOSPC" in str(refused.value) and "journal.0.log" in str(refused.value)
    assert not app.db.events.seen("e1")
    logged = [r.getMessage() for r in caplog.records if r.name == "storage.engine" and r.levelname == "ERROR"]
    assert any("journal.0.log" in line and "ENOSPC" in line for line in logged), "the refusal's reason is logged"
    assert not any("Missing plate" in line or "A1234" in line for line in logged), "never a record's contents"
    monkeypatch.undo()
    assert [r.status for r in await tickets.record_events(app, [rejected("e1")])] == ["recorded"]


# ---- "already done by X" only once it is durable ------------------------------------------------------------


async def test_already_resolved_waits_for_the_resolution_and_fails_with_it(
    app: AppContext, failing_append: Callable[[Store], FailingAppend]
) -> None:
    (result,) = await tickets.record_events(app, [rejected("e1")])
    incident_id = result.incidents[0].id
    fault = failing_append(app.db.store)  # type: ignore[attr-defined]
    first = asyncio.create_task(tickets.resolve_incident(app, STAFF, incident_id))
    await fault.wait_entered()
    second = asyncio.create_task(tickets.resolve_incident(app, OTHER_STAFF, incident_id))
    assert await still_waiting(second), "'already resolved' answered before the resolution was stored"
    fault.release.set()
    for task in (first, second):
        with pytest.raises(StorageUnavailable):
            await task
    assert app.db.incidents.get(incident_id).is_open  # type: ignore[union-attr]


async def test_already_resolved_is_answered_once_the_resolution_is_durable(app: AppContext, held: HeldFsync) -> None:
    (result,) = await tickets.record_events(app, [rejected("e1")])
    incident_id = result.incidents[0].id
    first, second = await first_then_second(
        held,
        lambda: tickets.resolve_incident(app, STAFF, incident_id),
        lambda: tickets.resolve_incident(app, OTHER_STAFF, incident_id),
    )
    assert await still_waiting(second)
    held.release.set()
    await first
    answer = await second
    assert isinstance(answer, AlreadyDone) and answer.by.actor.name == "Jamie Staff"


async def test_already_approved_waits_for_the_first_press(app: AppContext, held: HeldFsync) -> None:
    first, second = await first_then_second(
        held,
        lambda: approval.approve(app, STAFF, "9000", "A1234", confirmed=True),
        lambda: approval.approve(app, OTHER_STAFF, "9000", "A1234", confirmed=True),
    )
    assert await still_waiting(second)
    held.release.set()
    await first
    answer = await second
    assert isinstance(answer, AlreadyDone) and answer.by.actor.name == "Jamie Staff"


async def test_already_acknowledged_waits_for_the_first_press(app: AppContext, held: HeldFsync) -> None:
    first, second = await first_then_second(
        held,
        lambda: packages.acknowledge(app, STAFF, "9000"),
        lambda: packages.acknowledge(app, OTHER_STAFF, "9000"),
    )
    assert await still_waiting(second)
    held.release.set()
    await first
    answer = await second
    assert isinstance(answer, AlreadyDone) and answer.by.actor.name == "Jamie Staff"


class RecordingAdapter:
    """An adapter that records what the outbox sender hands it (and sends nothing anywhere)."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    async def continue_conversation(self, reference: Any, callback: Any, bot_app_id: str | None = None) -> None:
        self.sent.append(reference)


async def test_a_notice_whose_write_is_undone_is_never_delivered(
    app: AppContext, failing_append: Callable[[Store], FailingAppend]
) -> None:
    from bot.outbox import OutboxSender
    from services.notices import Audience, Message, Notice
    from storage.repositories import ConversationRecord
    from tests.support.factories import POC_AAD

    db = app.db
    assert isinstance(db, Database)
    await db.conversations.save(
        ConversationRecord(
            conversation_id="a:personal-poc",
            kind="personal",
            aad_id=POC_AAD,
            reference={"conversation": {"id": "a:personal-poc"}, "serviceUrl": "http://127.0.0.1:9/"},
        )
    )
    adapter = RecordingAdapter()
    sender = OutboxSender(app, adapter)  # type: ignore[arg-type]
    fault = failing_append(db.store)  # type: ignore[arg-type]
    commit = asyncio.create_task(
        app.commit([], [Notice((Audience.person(POC_AAD),), Message("never stored", "body"), summary="never stored")])
    )
    await fault.wait_entered()  # the notice is in memory, its write on its way to a full disk
    delivering = asyncio.create_task(sender.deliver_due())
    assert await still_waiting(delivering), "the sender waits for the notice's write"
    fault.release.set()
    with pytest.raises(StorageUnavailable):
        await commit
    await delivering
    assert adapter.sent == [], "a notice whose use case failed was delivered"
    assert db.outbox.pending() == []
