"""One contract suite for botbuilder Storage, run against ours and botbuilder's MemoryStorage."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botbuilder.core import MemoryStorage, Storage

from bot.state_storage import DurableStorage
from storage.repositories import Database


@pytest.fixture(params=["durable", "memory"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "memory":
        yield MemoryStorage()
        return
    db = await Database.open(tmp_path / "data")
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


async def test_durable_state_survives_a_restart(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "data")
    await DurableStorage(db.state, db.commit).write({"conv/1": {"wizard": {"step": "officers"}}})
    await db.close()
    db = await Database.open(tmp_path / "data")
    try:
        found = await DurableStorage(db.state, db.commit).read(["conv/1"])
        assert found["conv/1"]["wizard"] == {"step": "officers"}
    finally:
        await db.close()
