"""The bot over damaged storage: it refuses to start, or (STORAGE_RECOVER=1) starts and says so on /healthz."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from app import create_app
from settings import Settings, SettingsError
from storage.engine import Put, Store, journal_name
from storage.errors import StorageDamaged


async def damaged_data_dir(data_dir: Path) -> int:
    """What a store left after three writes, with a bit flip in the second one's record: the damage's offset."""
    live = data_dir.with_name("live")
    store = await Store.open(live)
    for i in range(3):
        await store.write([Put("t", f"k{i}", {"n": i})])
    data_dir.mkdir(mode=0o700)
    for name in os.listdir(live):
        if name != "LOCK":
            shutil.copy2(live / name, data_dir / name)
    await store.close()
    journal = data_dir / journal_name(0)
    data = bytearray(journal.read_bytes())
    lines = bytes(data).split(b"\n")  # the header record, then one record per write
    second = len(lines[0]) + len(lines[1]) + 2
    data[second + 22] ^= 0x01
    journal.write_bytes(bytes(data))
    return second


def test_storage_recover_is_a_validated_flag() -> None:
    assert Settings.from_env({}).storage_recover is False
    assert Settings.from_env({"STORAGE_RECOVER": "1"}).storage_recover is True
    assert Settings.from_env({"STORAGE_RECOVER": "true"}).storage_recover is True
    assert Settings.from_env({"STORAGE_RECOVER": "0"}).storage_recover is False
    with pytest.raises(SettingsError, match="STORAGE_RECOVER"):
        Settings.from_env({"STORAGE_RECOVER": "maybe"})


async def test_damaged_storage_stops_the_start(settings_for: Callable[..., Settings]) -> None:
    settings = settings_for()
    offset = await damaged_data_dir(settings.data_dir)
    server = TestServer(create_app(settings), host="127.0.0.1")
    with pytest.raises(StorageDamaged) as refused:
        await server.start_server()
    assert f"journal.0.log at byte {offset}" in str(refused.value)
    await server.close()


async def test_with_recovery_the_bot_starts_and_healthz_says_what_was_set_aside(
    bot_client: Callable[..., Any], settings_for: Callable[..., Settings]
) -> None:
    settings = settings_for(STORAGE_RECOVER="1")
    offset = await damaged_data_dir(settings.data_dir)
    client = await bot_client(settings)
    health = await client.get("/healthz")
    assert health.status == 200
    body = await health.json()
    assert body["status"] == "ok" and body["storage"] == "recovered"
    assert f"journal.0.log at byte {offset}" in body["reason"] and ".dropped" in body["reason"]
    await client.close()

    client = await bot_client(settings_for())  # the damage was set aside for good: a plain start is clean
    assert await (await client.get("/healthz")).json() == {"status": "ok", "store": "embedded", "storage": "ok"}
