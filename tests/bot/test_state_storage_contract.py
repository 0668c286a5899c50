"""One contract suite for botbuilder Storage, run against ours (on the embedded store and on PostgreSQL) and botbuilder's MemoryStorage."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from botbuilder.core import MemoryStorage, Storage

from bot.state_storage import DurableStorage, StateConflict
from storage.postgres import PgStore
from storage.repositories import Database


def opener(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Awaitable[Database]]:
    """Opens the durable store of that kind (again, each call: a restart)."""
    if kind == "embedded":
        return lambda: Database.open(tmp_path / "data")
    url = request.getfixturevalue("postgres_url")
    return lambda: Database.connect(url)


@pytest.fixture(params=["embedded", "postgresql"])
def open_db(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Awaitable[Database]]:
    return opener(request.param, request, tmp_path)


@pytest.fixture(params=["embedded", "postgresql", "memory"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "memory":
        yield MemoryStorage()
        return
    db = await opener(request.param, request, tmp_path)()
    yield DurableStorage(db.state, db.commit)
    await db.close()


async def test_reading_missing_keys_finds_nothing(storage: Storage) -> None:
    assert await storage.read(["nobody"]) == {}


async def test_written_state_reads_back(storage: Storage) -> None:
    await storage.write({"conv/1": {"wizard": {"step": "agency", "answers": {"agency_name": "Williston PD"}}}})
    found = await storage.read(["conv/1", "conv/2"])
    assert list(found) == ["conv/1"]
    assert found["conv/1"]["wizard"] == {"step": "agency", "answers": {"agency_name": "Williston PD"}}


async def test_a_stale_etag_is_refused_and_changes_nothing(storage: Storage) -> None:
    await storage.write({"conv/1": {"count": 1, "e_tag": "initial"}})
    first = copy.deepcopy((await storage.read(["conv/1"]))["conv/1"])
    second = copy.deepcopy((await storage.read(["conv/1"]))["conv/1"])
    first["count"] = 2
    await storage.write({"conv/1": first})
    second["count"] = 3
    with pytest.raises(KeyError):
        await storage.write({"conv/1": second})
    assert (await storage.read(["conv/1"]))["conv/1"]["count"] == 2


async def test_wildcard_etag_overwrites(storage: Storage) -> None:
    await storage.write({"conv/1": {"count": 1, "e_tag": "*"}})
    await storage.write({"conv/1": {"count": 5, "e_tag": "*"}})
    assert (await storage.read(["conv/1"]))["conv/1"]["count"] == 5


async def test_delete_removes_and_ignores_missing(storage: Storage) -> None:
    await storage.write({"conv/1": {"x": 1}, "conv/2": {"x": 2}})
    await storage.delete(["conv/1", "conv/9"])
    assert list(await storage.read(["conv/1", "conv/2"])) == ["conv/2"]


async def test_durable_state_survives_a_restart(open_db: Callable[[], Awaitable[Database]]) -> None:
    db = await open_db()
    await DurableStorage(db.state, db.commit).write({"conv/1": {"wizard": {"step": "officers"}}, "conv/2": {"x": 2}})
    await DurableStorage(db.state, db.commit).delete(["conv/2"])
    await db.close()
    db = await open_db()
    try:
        found = await DurableStorage(db.state, db.commit).read(["conv/1", "conv/2"])
        assert list(found) == ["conv/1"]
        assert found["conv/1"]["wizard"] == {"step": "officers"}
    finally:
        await db.close()


async def test_state_written_on_another_replica_since_it_was_read_is_a_conflict(postgres_url: str) -> None:
    """Two replicas read the same state; the second to write is refused as a stale eTag is, and keeps nothing."""
    a, b = await Database.connect(postgres_url), await Database.connect(postgres_url)
    try:
        on_a, on_b = DurableStorage(a.state, a.commit), DurableStorage(b.state, b.commit)
        await on_a.write({"conv/1": {"count": 1}})
        assert isinstance(b.store, PgStore)
        await b.store.catch_up()
        read_a, read_b = (await on_a.read(["conv/1"]))["conv/1"], (await on_b.read(["conv/1"]))["conv/1"]
        read_a["count"], read_b["count"] = 2, 3
        await on_a.write({"conv/1": read_a})
        with pytest.raises(StateConflict) as refused:  # b's memory still had the old eTag: the commit refused it
            await on_b.write({"conv/1": read_b})
        assert isinstance(refused.value, KeyError)
        await b.store.catch_up()
        assert (await on_b.read(["conv/1"]))["conv/1"]["count"] == 2
    finally:
        await a.close()
        await b.close()
