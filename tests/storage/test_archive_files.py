"""The embedded store's archive and its line-a-document snapshot on disk: crash-safe at every step, loud when damaged."""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Any

import pytest
import tinydb

from storage.documents import Bundle
from storage.engine import MANIFEST_NAME, SNAPSHOT_NAME, Put, Store
from storage.errors import StorageDamaged, StorageUnavailable

INDEXES = {"ticket_events": ["ticket_key"]}
PACKED = ["ticket_events"]


async def open_store(data_dir: Path, **options: Any) -> Store:
    return await Store.open(data_dir, INDEXES, packed=PACKED, **options)


async def with_tickets(store: Store, *numbers: int) -> list[Bundle]:
    """Store a state and two events for each ticket; the bundles that archive them (year 2020 + number % 2)."""
    ops = []
    for n in numbers:
        key = f"9000:T{n}"
        ops.append(Put("ticket_states", key, {"ticket_number": f"T{n}", "n": n}))
        ops += [Put("ticket_events", f"T{n}-{e}", {"event_id": f"T{n}-{e}", "ticket_key": key}) for e in range(2)]
    await store.write(ops)
    return [bundle_of(store, n) for n in numbers]


def bundle_of(store: Store, n: int) -> Bundle:
    key = f"9000:T{n}"
    events = {doc["event_id"]: doc for doc in store.find("ticket_events", "ticket_key", key)}
    return Bundle(key, 2020 + n % 2, {"ticket_states": {key: store.get("ticket_states", key)}, "ticket_events": events})


def archive_files(data_dir: Path) -> list[str]:
    return sorted(name for name in os.listdir(data_dir) if name.startswith("archive-"))


async def test_a_crash_after_the_archive_is_written_leaves_the_ticket_in_both_and_the_next_pass_finishes(
    tmp_path: Path,
) -> None:
    failing = {"on": False}

    def fsync(fd: int) -> None:
        if failing["on"]:
            raise OSError(5, "I/O error")  # the journal write that takes the bundles out of memory fails
        os.fsync(fd)

    store = await open_store(tmp_path / "data", fsync=fsync)
    bundles = await with_tickets(store, 1, 2)
    failing["on"] = True
    with pytest.raises(StorageUnavailable):
        await store.archive(bundles)
    assert store.get("ticket_states", "9000:T1") is not None  # the failed delete was undone
    failing["on"] = False
    await store.close()

    store = await open_store(tmp_path / "data")
    assert store.count("ticket_states") == 2 and store.count("ticket_events") == 4
    assert set(await store.read_archived(["9000:T1", "9000:T2"])) == {"9000:T1", "9000:T2"}
    assert await store.archive([bundle_of(store, 1), bundle_of(store, 2)]) == 2  # archived again: replaced
    assert store.count("ticket_states") == 0
    assert await store.archive_years() == {2020: 1, 2021: 1}
    assert [bundle.key async for bundle in store.archived(2021)] == ["9000:T1"]
    await store.close()


async def test_files_a_pass_wrote_before_the_manifest_named_them_are_removed_at_open(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "data")
    await store.archive(await with_tickets(store, 1))
    await store.close()
    named = archive_files(tmp_path / "data")
    for name in ("archive-2021.2.json", "archive-2021.2.index", "archive-2030.1.json"):
        (tmp_path / "data" / name).write_bytes(b"half written")
    store = await open_store(tmp_path / "data")
    assert archive_files(tmp_path / "data") == named
    assert set(await store.read_archived(["9000:T1"])) == {"9000:T1"}
    await store.close()


async def test_a_missing_archive_is_refused_by_name_and_recovery_starts_without_it(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "data")
    await store.archive(await with_tickets(store, 1, 2))
    await store.close()
    (tmp_path / "data" / "archive-2021.1.json").unlink()
    with pytest.raises(StorageDamaged) as refused:
        await open_store(tmp_path / "data")
    assert refused.value.file == "archive-2021.1.json"
    store = await open_store(tmp_path / "data", recover=True)
    assert store.recovered is not None and "archive-2021.1.json" in store.recovered
    assert await store.archive_years() == {2020: 1}
    assert set(await store.read_archived(["9000:T1", "9000:T2"])) == {"9000:T2"}
    await store.close()


async def test_a_lost_index_is_rebuilt_from_its_archive(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "data")
    await store.archive(await with_tickets(store, 1, 3, 5))
    await store.close()
    (tmp_path / "data" / "archive-2021.1.index").write_bytes(b"JB-ARCHIVE-INDEX 1\n3\nshort")
    store = await open_store(tmp_path / "data")
    found = await store.read_archived(["9000:T3", "9000:T4"])
    assert list(found) == ["9000:T3"] and found["9000:T3"].docs["ticket_states"]["9000:T3"]["n"] == 3
    await store.close()


async def test_an_archive_is_tinydb_json_a_person_can_open(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "data")
    await store.archive(await with_tickets(store, 1, 3))
    await store.close()
    with tinydb.TinyDB(tmp_path / "data" / "archive-2021.1.json", access_mode="r") as archive:
        assert sorted(doc["key"] for doc in archive.table("bundles").all()) == ["9000:T1", "9000:T3"]
        assert archive.table("__archive__").all() == [{"year": 2021, "format": 1}]


async def test_the_snapshot_holds_one_document_a_line_and_names_the_offset_of_a_damaged_one(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "data")
    await with_tickets(store, 1, 2, 3)
    await store.close()
    path = tmp_path / "data" / SNAPSHOT_NAME
    lines = path.read_bytes().splitlines(keepends=True)
    assert len(lines) > 9  # meta, two table openings, three states, six events, closings
    with tinydb.TinyDB(path, access_mode="r") as snapshot:
        assert len(snapshot.table("ticket_events")) == 6
    damaged = next(i for i, line in enumerate(lines) if b'"event_id":"T2-1"' in line)
    offset = sum(len(line) for line in lines[:damaged])
    lines[damaged] = lines[damaged].replace(b"T2-1", b"T2-9")
    path.write_bytes(b"".join(lines))
    with pytest.raises(StorageDamaged) as refused:
        await open_store(tmp_path / "data")
    assert refused.value.file == SNAPSHOT_NAME and "checksum" in str(refused.value)
    lines[damaged] = b'{"not": json\n'
    path.write_bytes(b"".join(lines))
    with pytest.raises(StorageDamaged) as refused:
        await open_store(tmp_path / "data")
    assert refused.value.offset == offset


async def test_a_snapshot_written_on_one_line_by_the_version_before_is_still_read(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "data")
    await with_tickets(store, 1, 2)
    await store.close()
    path = tmp_path / "data" / SNAPSHOT_NAME
    text = path.read_bytes().replace(b'"format": 3', b'"format": 2').replace(b"\n", b"") + b"\n"
    head = b'{"__engine__": {"1": {"crc32": "'
    body = text[len(head) + 8 :]
    one_line = head + b"%08x" % zlib.crc32(body) + body
    path.write_bytes(one_line)
    manifest = json.loads((tmp_path / "data" / MANIFEST_NAME).read_bytes())
    assert manifest["snapshot"] is not None
    (tmp_path / "data" / MANIFEST_NAME).unlink()  # it named the line-a-document file this test rewrote
    store = await open_store(tmp_path / "data")
    assert store.count("ticket_events") == 4 and store.get("ticket_events", "T2-1") == {
        "event_id": "T2-1",
        "ticket_key": "9000:T2",
    }
    await store.write([Put("ticket_states", "9000:T3", {"n": 3})])
    await store.close()
    assert len(path.read_bytes().splitlines()) > 3  # rewritten in the current format


async def test_a_lost_manifest_deletes_no_archive_and_recovery_adopts_each_years_newest(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "data")
    await store.archive(await with_tickets(store, 1, 2))
    await store.archive([(await with_tickets(store, 3))[0]])  # 2021's second generation
    await store.close()
    (tmp_path / "data" / MANIFEST_NAME).unlink()
    before = archive_files(tmp_path / "data")
    with pytest.raises(StorageDamaged) as refused:
        await open_store(tmp_path / "data")
    assert refused.value.file == MANIFEST_NAME
    assert archive_files(tmp_path / "data") == before  # refused, and nothing deleted
    store = await open_store(tmp_path / "data", recover=True)
    assert await store.archive_years() == {2020: 1, 2021: 2}
    assert set(await store.read_archived(["9000:T1", "9000:T2", "9000:T3"])) == {"9000:T1", "9000:T2", "9000:T3"}
    await store.close()
    store = await open_store(tmp_path / "data")  # the healed manifest names them: a plain start keeps them
    assert await store.archive_years() == {2020: 1, 2021: 2}
    await store.close()
