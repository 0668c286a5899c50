"""The storage engine keeps every acknowledged write, touches the disk only for real changes,
and leaves a state that reopens, even when the disk fails or the process dies mid-record."""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import stat
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import tinydb

from storage.engine import SNAPSHOT_NAME, Delete, Put, Store, journal_name
from storage.errors import StorageDamaged, StorageError, StorageUnavailable

INDEXES = {"ticket_events": ["ticket_key", "officer_key"]}


def event(ticket: str, officer: str = "O-1", **extra: Any) -> dict[str, Any]:
    """A ticket event doc with the indexed fields set."""
    return {"ticket_key": ticket, "officer_key": officer, **extra}


def disk_picture(data_dir: Path, into: Path) -> Path:
    """Copy the data files as they are now: what a crash at this instant would leave on disk."""
    into.mkdir()
    for name in os.listdir(data_dir):
        if name != "LOCK":
            shutil.copy2(data_dir / name, into / name)
    return into


def files_state(data_dir: Path) -> dict[str, tuple[int, int]]:
    """Size and mtime of every file in the data dir."""
    return {name: (st.st_size, st.st_mtime_ns) for name in os.listdir(data_dir) if (st := os.stat(data_dir / name))}


def full_state(store: Store, tables: list[str]) -> dict[str, dict[str, Any]]:
    """Every table as key -> doc."""
    return {t: dict(zip(store.keys(t), store.all(t), strict=True)) for t in tables}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory that does not exist yet."""
    return tmp_path / "data"


@pytest.fixture
async def store(data_dir: Path) -> AsyncIterator[Store]:
    """An open store with the ticket event indexes; closed after the test."""
    opened = await Store.open(data_dir, INDEXES)
    yield opened
    await opened.close()


async def test_put_get_delete_survive_close_and_reopen(data_dir: Path) -> None:
    store = await Store.open(data_dir, INDEXES)
    await store.write([Put("ticket_events", "e1", event("T-1", note="first"))])
    await store.write([Put("ticket_events", "e2", event("T-2"))])
    await store.write([Put("ticket_events", "e1", event("T-1", note="replaced"))])
    await store.write([Delete("ticket_events", "e2")])
    await store.close()

    reopened = await Store.open(data_dir, INDEXES)
    assert reopened.get("ticket_events", "e1") == event("T-1", note="replaced")
    assert reopened.get("ticket_events", "e2") is None
    assert reopened.get("no_such_table", "e1") is None
    assert reopened.keys("ticket_events") == ["e1"]
    assert reopened.count("ticket_events") == 1
    await reopened.close()


async def test_acknowledged_writes_survive_a_crash_without_close(store: Store, data_dir: Path, tmp_path: Path) -> None:
    for i in range(5):
        await store.write([Put("ticket_events", f"e{i}", event(f"T-{i}"))])
    crashed = await Store.open(disk_picture(data_dir, tmp_path / "crash"), INDEXES)
    assert crashed.keys("ticket_events") == [f"e{i}" for i in range(5)]
    await crashed.close()


async def test_unchanged_put_and_missing_delete_do_not_touch_the_disk(store: Store, data_dir: Path) -> None:
    await store.write([Put("conversations", "c1", {"ref": {"id": "a", "n": [1, 2]}})])
    before = files_state(data_dir)

    same = store.write([Put("conversations", "c1", {"ref": {"n": [1, 2], "id": "a"}})])
    gone = store.write([Delete("conversations", "never-there")])
    empty = store.write([])

    assert same.done() and gone.done() and empty.done()
    await asyncio.gather(same, gone, empty)
    await store.flush()
    assert files_state(data_dir) == before


async def test_put_of_a_different_json_type_is_a_change(store: Store, data_dir: Path) -> None:
    await store.write([Put("t", "k", {"flag": 1})])
    await store.write([Put("t", "k", {"flag": True})])
    assert store.get("t", "k") == {"flag": True} and store.get("t", "k")["flag"] is True


async def test_multi_op_write_is_all_or_nothing_when_its_record_is_torn(
    store: Store, data_dir: Path, tmp_path: Path
) -> None:
    await store.write([Put("ticket_events", "before", event("T-0"))])
    await store.write(
        [
            Put("ticket_events", "a", event("T-1")),
            Put("incidents", "i1", {"officer_key": "O-1", "text": "x" * 500}),
            Delete("ticket_events", "before"),
        ]
    )
    for n, cut_back in enumerate((1, 300)):  # lose only the newline; lose the middle of the record
        crash = disk_picture(data_dir, tmp_path / f"crash{n}")
        journal = crash / journal_name(0)
        os.truncate(journal, journal.stat().st_size - cut_back)
        reopened = await Store.open(crash, INDEXES)
        assert reopened.keys("ticket_events") == ["before"]
        assert reopened.count("incidents") == 0
        await reopened.close()
    whole = await Store.open(disk_picture(data_dir, tmp_path / "whole"), INDEXES)
    assert whole.keys("ticket_events") == ["a"] and whole.keys("incidents") == ["i1"]
    await whole.close()


async def test_torn_last_record_is_dropped_and_the_store_keeps_working(
    store: Store, data_dir: Path, tmp_path: Path
) -> None:
    for i in range(3):
        await store.write([Put("ticket_events", f"e{i}", event("T-1", n=i))])
    crash = disk_picture(data_dir, tmp_path / "crash")
    journal = crash / journal_name(0)
    os.truncate(journal, journal.stat().st_size - 7)

    reopened = await Store.open(crash, INDEXES)
    assert reopened.keys("ticket_events") == ["e0", "e1"]
    await reopened.write([Put("ticket_events", "e3", event("T-1", n=3))])
    again = await Store.open(disk_picture(crash, tmp_path / "crash2"), INDEXES)
    assert again.keys("ticket_events") == ["e0", "e1", "e3"]
    assert [d["n"] for d in again.find("ticket_events", "ticket_key", "T-1")] == [0, 1, 3]
    await again.close()
    await reopened.close()


async def test_damage_in_the_newest_journal_refuses_to_open_unless_recovering(
    store: Store, data_dir: Path, tmp_path: Path
) -> None:
    for i in range(3):
        await store.write([Put("t", f"k{i}", {"n": i})])
    crash = disk_picture(data_dir, tmp_path / "crash")
    journal = crash / journal_name(0)
    data = journal.read_bytes()
    lines = data.split(b"\n")  # the header record, then one record per write
    third = len(lines[0]) + len(lines[1]) + 2
    damaged = bytearray(data)
    damaged[third + 30] ^= 0x01  # inside the second write's payload
    journal.write_bytes(bytes(damaged))

    with pytest.raises(StorageDamaged) as refused:
        await Store.open(crash)
    assert (refused.value.file, refused.value.offset) == (journal_name(0), third)
    assert f"journal.0.log at byte {third}" in str(refused.value) and "--recover" in str(refused.value)

    reopened = await Store.open(crash, recover=True)
    assert reopened.keys("t") == ["k0"]
    kept = [name for name in os.listdir(crash) if name.endswith(".dropped")]
    assert kept == [f"journal.0.log.{third}.dropped"] and (crash / kept[0]).read_bytes() == bytes(damaged[third:])
    assert reopened.recovered is not None and f"journal.0.log at byte {third}" in reopened.recovered
    await reopened.close()


async def test_damage_in_an_older_journal_refuses_to_open(store: Store, data_dir: Path, tmp_path: Path) -> None:
    for i in range(3):
        await store.write([Put("t", f"k{i}", {"n": i})])
    crash = disk_picture(data_dir, tmp_path / "crash")
    older, newer = crash / journal_name(0), crash / journal_name(1)
    shutil.copy2(older, newer)
    damaged = bytearray(older.read_bytes())
    damaged[30] ^= 0x01
    older.write_bytes(bytes(damaged))
    with pytest.raises(StorageError):
        await Store.open(crash)


async def test_indexes_follow_replace_and_delete_and_survive_reopen(data_dir: Path) -> None:
    store = await Store.open(data_dir, INDEXES)
    await store.write([Put("ticket_events", "e1", event("T-1", "O-1"))])
    await store.write([Put("ticket_events", "e2", event("T-1", "O-2"))])
    await store.write([Put("ticket_events", "e3", event("T-2", "O-1"))])
    await store.write([Put("ticket_events", "e4", {"officer_key": "O-3"})])  # no ticket_key: not indexed
    await store.write([Put("ticket_events", "e1", event("T-2", "O-1"))])  # moves to T-2
    await store.write([Delete("ticket_events", "e3")])

    def check(s: Store) -> None:
        assert s.find("ticket_events", "ticket_key", "T-1") == [event("T-1", "O-2")]
        assert s.find("ticket_events", "ticket_key", "T-2") == [event("T-2", "O-1")]
        assert s.find("ticket_events", "officer_key", "O-1") == [event("T-2", "O-1")]
        assert s.find("ticket_events", "officer_key", "O-3") == [{"officer_key": "O-3"}]
        assert s.find("ticket_events", "ticket_key", "T-9") == []

    check(store)
    await store.close()
    reopened = await Store.open(data_dir, INDEXES)
    check(reopened)
    with pytest.raises(ValueError):
        reopened.find("ticket_events", "note", "x")
    with pytest.raises(ValueError):
        reopened.find("incidents", "officer_key", "O-1")
    await reopened.close()


async def test_find_where_takes_a_tinydb_query(store: Store) -> None:
    for i in range(6):
        await store.write([Put("ticket_events", f"e{i}", event(f"T-{i % 2}", amount=i * 10))])
    q = tinydb.Query()
    found = store.find_where("ticket_events", (q.ticket_key == "T-1") & (q.amount >= 30))
    assert [d["amount"] for d in found] == [30, 50]
    assert store.find_where("nothing", q.amount > 0) == []


async def test_compaction_then_reopen_gives_the_same_state(data_dir: Path, tmp_path: Path) -> None:
    store = await Store.open(data_dir, INDEXES, compact_every=5)
    for i in range(37):
        ops: list[Put | Delete] = [Put("ticket_events", f"e{i}", event(f"T-{i % 4}", n=i))]
        if i % 3 == 0:
            ops.append(Put("incidents", f"i{i}", {"officer_key": "O-1", "n": i}))
        if i % 7 == 6:
            ops.append(Delete("ticket_events", f"e{i - 3}"))
        await store.write(ops)
    await store.flush()
    assert (data_dir / SNAPSHOT_NAME).exists()
    expected = full_state(store, ["ticket_events", "incidents"])

    crashed = await Store.open(disk_picture(data_dir, tmp_path / "crash"), INDEXES)
    assert full_state(crashed, ["ticket_events", "incidents"]) == expected
    assert list(full_state(crashed, ["ticket_events"])["ticket_events"]) == store.keys("ticket_events")
    await crashed.close()
    await store.close()
    reopened = await Store.open(data_dir, INDEXES)
    assert full_state(reopened, ["ticket_events", "incidents"]) == expected
    assert [name for name in os.listdir(data_dir) if name.startswith("journal.")] == []
    await reopened.close()


async def test_a_half_written_snapshot_temp_file_is_ignored(store: Store, data_dir: Path, tmp_path: Path) -> None:
    await store.write([Put("t", "k", {"v": 1})])
    crash = disk_picture(data_dir, tmp_path / "crash")
    (crash / "snapshot.json.tmp").write_text('{"__engine__": {"1": {"format"')
    reopened = await Store.open(crash)
    assert reopened.get("t", "k") == {"v": 1}
    assert not (crash / "snapshot.json.tmp").exists()
    await reopened.close()


async def test_snapshot_opens_in_tinydb(data_dir: Path) -> None:
    store = await Store.open(data_dir, INDEXES)
    await store.write([Put("ticket_events", "e1", event("T-1", text="Montpélier"))])
    await store.write([Put("ticket_events", "e2", event("T-2"))])
    await store.write([Put("officers", "O-1", {"number": "1234"})])
    await store.close()

    db = tinydb.TinyDB(data_dir / SNAPSHOT_NAME, access_mode="r")
    try:
        assert {"ticket_events", "officers"} <= db.tables()
        assert db.table("ticket_events").all() == [event("T-1", text="Montpélier"), event("T-2")]
        assert db.table("ticket_events").search(tinydb.Query().ticket_key == "T-2") == [event("T-2")]
        assert db.table("officers").all() == [{"number": "1234"}]
    finally:
        db.close()


async def test_disk_full_refuses_the_write_and_memory_keeps_old_values(
    store: Store, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.write([Put("ticket_events", "e1", event("T-1", v="old")), Put("ticket_events", "e2", event("T-2"))])

    def disk_full(data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "_append_and_sync", disk_full)
    first = store.write(
        [
            Put("ticket_events", "e1", event("T-9", v="new")),
            Delete("ticket_events", "e2"),
            Put("ticket_events", "e3", event("T-9")),
        ]
    )
    queued_after = store.write([Put("ticket_events", "e4", event("T-9"))])
    relies_on_it = store.write([Put("ticket_events", "e3", event("T-9"))])  # no change given `first`
    assert store.get("ticket_events", "e3") == event("T-9")  # applied at once, before durability

    for future in (first, queued_after, relies_on_it):
        with pytest.raises(StorageUnavailable) as raised:
            await future
    assert isinstance(raised.value, StorageError)
    with pytest.raises(StorageUnavailable) as raised:
        await first
    assert isinstance(raised.value.__cause__, OSError) and raised.value.__cause__.errno == errno.ENOSPC

    assert store.get("ticket_events", "e1") == event("T-1", v="old")
    assert store.get("ticket_events", "e2") == event("T-2")
    assert store.get("ticket_events", "e3") is None and store.get("ticket_events", "e4") is None
    assert store.find("ticket_events", "ticket_key", "T-9") == []
    assert store.find("ticket_events", "ticket_key", "T-1") == [event("T-1", v="old")]
    assert await store.check_writable() is not None

    monkeypatch.undo()
    assert await store.check_writable() is None
    await store.write([Put("ticket_events", "e5", event("T-5"))])
    crashed = await Store.open(disk_picture(data_dir, tmp_path / "crash"), INDEXES)
    assert crashed.keys("ticket_events") == ["e1", "e2", "e5"]
    assert crashed.get("ticket_events", "e1") == event("T-1", v="old")
    await crashed.close()


async def test_failed_fsync_leaves_no_trace_of_the_write_on_disk(
    store: Store, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.write([Put("t", "kept", {"v": 1})])
    real_fsync = os.fsync

    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(StorageUnavailable):
        await store.write([Put("t", "lost", {"v": 2})])
    monkeypatch.setattr(os, "fsync", real_fsync)

    crashed = await Store.open(disk_picture(data_dir, tmp_path / "crash"))
    assert crashed.keys("t") == ["kept"]
    await crashed.close()
    await store.write([Put("t", "later", {"v": 3})])
    crashed = await Store.open(disk_picture(data_dir, tmp_path / "crash2"))
    assert crashed.keys("t") == ["kept", "later"]
    await crashed.close()


async def test_data_files_are_private_whatever_the_umask(data_dir: Path) -> None:
    old_umask = os.umask(0)
    try:
        store = await Store.open(data_dir, compact_every=2)
        for i in range(3):
            await store.write([Put("t", f"k{i}", {"v": i})])
        await store.flush()
        await store.write([Put("t", "k9", {"v": 9})])
        assert await store.check_writable() is None
        await store.flush()  # that write may start a compaction: let its temp file be renamed first
        await store.write([Put("t", "k10", {"v": 10})])  # and the journal of the generation after it begin
        names = set(os.listdir(data_dir))
        assert SNAPSHOT_NAME in names and any(n.startswith("journal.") for n in names)
        for name in names:
            assert stat.S_IMODE(os.stat(data_dir / name).st_mode) == 0o600, name
        assert stat.S_IMODE(os.stat(data_dir).st_mode) == 0o700
        await store.close()
    finally:
        os.umask(old_umask)


async def test_concurrent_writers_are_all_durable_and_share_fsyncs(
    store: Store, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    appends = 0
    real = store._append_and_sync

    def counting(data: bytes) -> None:
        nonlocal appends
        appends += 1
        real(data)

    monkeypatch.setattr(store, "_append_and_sync", counting)

    async def writer(w: int) -> None:
        for i in range(20):
            await store.write([Put("ticket_events", f"w{w}-{i}", event(f"T-{w}", i=i))])

    await asyncio.gather(*(writer(w) for w in range(25)))
    assert appends < 25 * 20 / 2  # group commit: many writes per fsync
    crashed = await Store.open(disk_picture(data_dir, tmp_path / "crash"), INDEXES)
    assert crashed.count("ticket_events") == 500
    for w in range(25):
        assert [d["i"] for d in crashed.find("ticket_events", "ticket_key", f"T-{w}")] == list(range(20))
    await crashed.close()


async def test_read_check_write_without_await_is_atomic(store: Store) -> None:
    async def claim(who: str) -> bool:
        if store.get("claims", "ticket-1") is not None:
            return False
        await store.write([Put("claims", "ticket-1", {"by": who})])
        return True

    results = await asyncio.gather(*(claim(f"u{i}") for i in range(10)))
    assert results.count(True) == 1


async def test_second_open_of_the_same_directory_is_refused(store: Store, data_dir: Path) -> None:
    with pytest.raises(StorageError):
        await Store.open(data_dir)


async def test_close_is_idempotent_and_later_writes_are_refused(data_dir: Path) -> None:
    store = await Store.open(data_dir)
    pending = store.write([Put("t", "k", {"v": 1})])
    await asyncio.gather(store.close(), store.close())
    await store.close()
    assert pending.done() and pending.exception() is None
    with pytest.raises(StorageUnavailable):
        store.write([Put("t", "k2", {"v": 2})])
    assert store.get("t", "k") == {"v": 1}
    assert await store.check_writable() is not None


async def test_malformed_writes_change_nothing(store: Store) -> None:
    await store.write([Put("t", "k", {"v": 1})])
    with pytest.raises(TypeError):
        store.write([Put("t", "k", {"v": 2}), Put("t", "bad", {"v": object()})])
    with pytest.raises(ValueError):
        store.write([Put("t", "k", {"v": 2}), Put("t", "nan", {"v": float("nan")})])
    with pytest.raises(ValueError):
        store.write([Put("__engine__", "k", {})])
    with pytest.raises(TypeError):
        store.write([Put("t", "k", ["not", "an", "object"])])  # type: ignore[arg-type]
    assert store.get("t", "k") == {"v": 1}


async def test_stored_doc_is_not_the_callers_dict(store: Store) -> None:
    doc = {"tags": ["a"]}
    await store.write([Put("t", "k", doc)])
    doc["tags"].append("b")
    assert store.get("t", "k") == {"tags": ["a"]}


async def test_a_snapshot_never_holds_a_write_that_later_fails(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await Store.open(data_dir, compact_every=1)
    real = store._append_and_sync
    started, release = threading.Event(), threading.Event()
    calls = 0

    def first_blocks_then_disk_full(data: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        started.set()
        release.wait(10)
        real(data)

    monkeypatch.setattr(store, "_append_and_sync", first_blocks_then_disk_full)
    first = store.write([Put("t", "a", {"v": 1})])
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
    second = store.write([Put("t", "b", {"v": 2})])  # queued while the first is being synced
    release.set()
    await first  # the snapshot starts now, with the second write in memory but not durable
    with pytest.raises(StorageUnavailable):
        await second
    await store.flush()
    assert (data_dir / SNAPSHOT_NAME).exists()

    crashed = await Store.open(disk_picture(data_dir, tmp_path / "crash"))
    assert crashed.keys("t") == ["a"]
    await crashed.close()
    monkeypatch.undo()
    await store.close()


async def test_a_data_file_left_world_readable_is_made_private(data_dir: Path, tmp_path: Path) -> None:
    store = await Store.open(data_dir)
    await store.write([Put("t", "k", {"v": 1})])
    crash = disk_picture(data_dir, tmp_path / "crash")
    os.chmod(crash / journal_name(0), 0o644)
    (crash / "LOCK").touch(mode=0o644)
    reopened = await Store.open(crash)
    await reopened.write([Put("t", "k2", {"v": 2})])
    for name in ("LOCK", journal_name(0)):
        assert stat.S_IMODE(os.stat(crash / name).st_mode) == 0o600, name
    await reopened.close()
    await store.close()


async def test_a_flood_of_health_checks_costs_no_fsync_after_a_recent_write(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/healthz reuses a journal fsync of the last 5 s instead of probing on every call (issue 12)."""
    await store.write([Put("t", "k", {"v": 1})])
    probes: list[int] = []
    real_probe = store._probe
    monkeypatch.setattr(store, "_probe", lambda: (probes.append(1), real_probe())[1])
    for _ in range(100):
        assert await store.check_writable() is None
    assert probes == []
    monkeypatch.setattr("storage.engine.time.monotonic", lambda: 10**9)  # long after that write
    assert await store.check_writable() is None
    assert probes == [1]
