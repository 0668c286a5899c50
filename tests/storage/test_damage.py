"""Storage damage is loud and safe: anything but a torn last record refuses to open, naming the file
and the byte offset; with recovery the store opens with the damage set aside and says so; never a
silent start with less data."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import tinydb

from storage.engine import MANIFEST_NAME, SNAPSHOT_NAME, Put, Store, encode_record, journal_name
from storage.errors import StorageDamaged, StorageError, StorageUnavailable

BEFORE_SNAPSHOT = 5  # writes folded into the snapshot
AFTER_SNAPSHOT = 4  # writes in the journal that follows it
WRITES = BEFORE_SNAPSHOT + AFTER_SNAPSHOT


def disk_picture(data_dir: Path, into: Path) -> Path:
    """Copy the data files as they are now (what a crash at this instant would leave), LOCK aside."""
    into.mkdir()
    for name in os.listdir(data_dir):
        if name != "LOCK":
            shutil.copy2(data_dir / name, into / name)
    return into


def state(store: Store) -> dict[str, Any]:
    return dict(zip(store.keys("t"), store.all("t"), strict=True))


@pytest.fixture
async def written(tmp_path: Path) -> AsyncIterator[tuple[Path, dict[str, Any]]]:
    """A data directory (copied while the store runs) holding a snapshot and a journal after it; its state."""
    store = await Store.open(tmp_path / "live")
    for i in range(BEFORE_SNAPSHOT):
        await store.write([Put("t", f"k{i}", {"n": i, "text": "x" * 40})])
    await store.close()  # the final snapshot holds these
    store = await Store.open(tmp_path / "live")
    for i in range(BEFORE_SNAPSHOT, WRITES):
        await store.write([Put("t", f"k{i}", {"n": i, "text": "x" * 40})])
    expected = state(store)
    picture = disk_picture(tmp_path / "live", tmp_path / "data")
    yield picture, expected
    await store.close()


def journal_of(data_dir: Path) -> Path:
    (name,) = [n for n in os.listdir(data_dir) if n.startswith("journal.") and n.endswith(".log")]
    return data_dir / name


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x04
    path.write_bytes(bytes(data))


async def refused(data_dir: Path) -> StorageDamaged:
    """Open must refuse; the refusal."""
    with pytest.raises(StorageDamaged) as raised:
        store = await Store.open(data_dir)
        await store.close()
    assert "--recover" in str(raised.value) and "STORAGE_RECOVER=1" in str(raised.value)
    return raised.value


async def recovered(data_dir: Path) -> tuple[dict[str, Any], str]:
    """Open with recovery, then once more without (the damage was set aside for good): state and reason."""
    store = await Store.open(data_dir, recover=True)
    reason = store.recovered
    assert reason is not None
    got = state(store)
    await store.write([Put("t", "after", {"n": -1})])
    await store.close()
    again = await Store.open(data_dir)
    assert again.recovered is None
    assert state(again) == got | {"after": {"n": -1}}
    await again.close()
    return got, reason


async def test_the_files_reopen_whole_and_the_snapshot_still_opens_in_tinydb(
    written: tuple[Path, dict[str, Any]],
) -> None:
    data_dir, expected = written
    assert {SNAPSHOT_NAME, MANIFEST_NAME} <= set(os.listdir(data_dir))
    db = tinydb.TinyDB(data_dir / SNAPSHOT_NAME, access_mode="r")
    try:
        assert db.table("t").all()[0] == {"n": 0, "text": "x" * 40}
        assert len(db.table("__engine__").all()[0]["crc32"]) == 8
    finally:
        db.close()
    store = await Store.open(data_dir)
    assert state(store) == expected and store.recovered is None
    await store.close()


async def test_a_bit_flip_in_the_middle_of_the_journal_is_refused_or_set_aside(
    written: tuple[Path, dict[str, Any]],
) -> None:
    data_dir, expected = written
    journal = journal_of(data_dir)
    lines = journal.read_bytes().split(b"\n")
    second_write = len(lines[0]) + len(lines[1]) + 2  # after the header and the first write
    flip(journal, second_write + 25)

    problem = await refused(data_dir)
    assert (problem.file, problem.offset) == (journal.name, second_write)
    assert "intact records follow" in problem.what

    got, reason = await recovered(data_dir)
    assert len(got) < len(expected) and set(got) < set(expected)
    assert f"{journal.name} at byte {second_write}" in reason
    dropped = data_dir / f"{journal.name}.{second_write}.dropped"
    assert dropped.exists() and f"{dropped.name}" in reason


async def test_a_bit_flip_in_the_snapshot_is_refused_or_loaded_with_a_warning(
    written: tuple[Path, dict[str, Any]],
) -> None:
    data_dir, expected = written
    snapshot = data_dir / SNAPSHOT_NAME
    text = snapshot.read_bytes()
    flip(snapshot, text.index(b"xxxx") + 2)  # inside a document: still valid JSON, wrong bytes

    problem = await refused(data_dir)
    assert problem.file == SNAPSHOT_NAME and problem.offset is not None
    assert "checksum does not match" in problem.what

    got, reason = await recovered(data_dir)
    assert set(got) == set(expected)  # what still parses is kept...
    assert "snapshot.json" in reason and "loaded as it is" in reason  # ...and said to be suspect
    assert (data_dir / "snapshot.json.0.dropped").exists()


async def test_a_snapshot_that_no_longer_parses_leaves_the_journals_data(
    written: tuple[Path, dict[str, Any]],
) -> None:
    data_dir, expected = written
    snapshot = data_dir / SNAPSHOT_NAME
    snapshot.write_bytes(snapshot.read_bytes()[:-40])

    problem = await refused(data_dir)
    assert problem.file == SNAPSHOT_NAME
    got, reason = await recovered(data_dir)
    assert got and set(got) < set(expected)
    assert "does not parse" in reason


async def test_a_torn_last_record_only_warns(
    written: tuple[Path, dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    data_dir, expected = written
    journal = journal_of(data_dir)
    os.truncate(journal, journal.stat().st_size - 9)
    with caplog.at_level(logging.WARNING, logger="storage.engine"):
        store = await Store.open(data_dir)
    assert store.recovered is None
    assert state(store) == {k: v for k, v in expected.items() if k != f"k{WRITES - 1}"}
    assert any("torn last journal record" in r.getMessage() and journal.name in r.getMessage() for r in caplog.records)
    assert not [n for n in os.listdir(data_dir) if n.endswith(".dropped")]
    await store.close()


async def test_a_journal_cut_below_what_was_durable_is_damage(written: tuple[Path, dict[str, Any]]) -> None:
    data_dir, _ = written
    journal = journal_of(data_dir)
    journal.write_bytes(b"")  # emptied: shorter than its header, which the manifest recorded
    problem = await refused(data_dir)
    assert (problem.file, problem.offset) == (journal.name, 0)
    assert "recorded as durable" in problem.what


async def test_a_deleted_snapshot_is_refused_or_the_journals_are_kept(
    written: tuple[Path, dict[str, Any]],
) -> None:
    data_dir, expected = written
    (data_dir / SNAPSHOT_NAME).unlink()
    problem = await refused(data_dir)
    assert problem.file == SNAPSHOT_NAME and problem.offset is None and "missing" in problem.what
    got, reason = await recovered(data_dir)
    assert got and set(got) < set(expected)
    assert "snapshot.json: it is missing" in reason


async def test_a_deleted_journal_is_refused(written: tuple[Path, dict[str, Any]]) -> None:
    data_dir, expected = written
    journal = journal_of(data_dir)
    journal.unlink()
    problem = await refused(data_dir)
    assert problem.file == journal.name and "manifest.json lists it" in problem.what
    got, reason = await recovered(data_dir)
    assert got and set(got) < set(expected) and f"{journal.name}: it is missing" in reason


async def test_a_deleted_journal_before_any_snapshot_is_refused(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "live")
    await store.write([Put("t", "k", {"n": 1})])
    picture = disk_picture(tmp_path / "live", tmp_path / "data")
    await store.close()
    (picture / journal_name(0)).unlink()
    problem = await refused(picture)
    assert problem.file == journal_name(0)


async def test_a_missing_or_damaged_manifest_is_refused(written: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    data_dir, expected = written
    other = disk_picture(data_dir, tmp_path / "other")
    (data_dir / MANIFEST_NAME).unlink()
    assert (await refused(data_dir)).file == MANIFEST_NAME
    manifest = json.loads((other / MANIFEST_NAME).read_text())
    manifest["snapshot"]["size"] += 1
    (other / MANIFEST_NAME).write_text(json.dumps(manifest))
    assert (await refused(other)).what == "its checksum does not match its contents"
    got, reason = await recovered(other)
    assert got == expected and "manifest.json" in reason


async def test_a_journal_deleted_under_the_running_store_refuses_writes(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "data")
    try:
        await store.write([Put("t", "k", {"n": 1})])
        (tmp_path / "data" / journal_name(0)).unlink()
        with pytest.raises(StorageUnavailable) as raised:
            await store.write([Put("t", "k2", {"n": 2})])
        assert "ESTALE" in str(raised.value) and journal_name(0) in str(raised.value)
        assert "ESTALE" in (await store.check_writable() or "")
    finally:
        await store.close()


async def test_deleting_lock_does_not_let_a_second_store_in(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "data")
    try:
        (tmp_path / "data" / "LOCK").unlink()
        with pytest.raises(StorageError) as raised:
            await Store.open(tmp_path / "data")
        assert "in use by another process" in str(raised.value)
    finally:
        await store.close()


async def test_a_directory_of_the_previous_version_opens_and_gains_a_manifest(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    snapshot = {
        "__engine__": {"1": {"format": 1, "journal_generation": 3, "keys": {"t": ["a"]}}},
        "t": {"1": {"n": 1}},
    }
    (data_dir / SNAPSHOT_NAME).write_text(json.dumps(snapshot))
    record = b'[["p","t","b",{"n":2}]]'
    (data_dir / journal_name(3)).write_bytes(encode_record(record))
    store = await Store.open(data_dir)
    assert state(store) == {"a": {"n": 1}, "b": {"n": 2}}
    assert MANIFEST_NAME in os.listdir(data_dir)
    await store.close()
    (data_dir / SNAPSHOT_NAME).unlink()
    assert (await refused(data_dir)).file == SNAPSHOT_NAME  # from now on, checked like the rest


async def test_an_unreadable_file_is_refused_with_its_name_and_errno(
    written: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, _ = written
    real = Path.open

    def denied(path: Path, *args: Any, **kwargs: Any) -> Any:
        if path.name == SNAPSHOT_NAME:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(StorageUnavailable) as raised:
        await Store.open(data_dir)
    assert SNAPSHOT_NAME in str(raised.value) and "EACCES" in str(raised.value)
