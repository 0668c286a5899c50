"""The whole bot with DATABASE_URL set: it keeps its records in PostgreSQL, says so, and never logs the URL."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlparse

import pytest

from storage.repositories import Database
from tests.support.factories import POC_AAD, make_message
from tests.support.fake_connector import FakeConnector


async def test_the_bot_serves_from_postgresql_and_keeps_nothing_on_local_disk(
    bot_client: Any,
    connector: FakeConnector,
    settings_for: Any,
    postgres_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = settings_for(DATABASE_URL=postgres_url)
    password = urlparse(postgres_url).password
    assert password
    with caplog.at_level(logging.DEBUG):
        client = await bot_client(settings)
        health = await client.get("/healthz")
        assert health.status == 200
        assert await health.json() == {"status": "ok", "store": "postgresql", "storage": "ok"}
        await client.post("/api/messages", json=make_message("/help", connector.url))
        sent = await connector.wait_for(lambda sent: len(sent) >= 1)
        assert "/new-package" in sent[0].text
        await client.close()
    assert not settings.data_dir.exists()
    assert all(password not in record.getMessage() for record in caplog.records)
    assert any("PostgreSQL" in record.getMessage() for record in caplog.records)  # the log says where, without it

    db = await Database.connect(postgres_url)  # what another replica, or the next start, reads
    try:
        personal = db.conversations.personal_chat_of(POC_AAD)
        assert personal is not None and personal.kind == "personal"
    finally:
        await db.close()


async def test_an_unreachable_database_stops_the_start_naming_host_and_database_only(
    settings_for: Any, postgres_server: Any
) -> None:
    from aiohttp.test_utils import TestServer

    from app import create_app
    from storage.errors import StorageUnavailable

    url = f"postgresql://bot:hunter2-secret@127.0.0.1:{postgres_server.port}/no_such_database"
    server = TestServer(create_app(settings_for(DATABASE_URL=url)), host="127.0.0.1")
    with pytest.raises(StorageUnavailable) as refused:
        await server.start_server()
    message = str(refused.value)
    assert 'database "no_such_database"' in message and "hunter2-secret" not in message
    await server.close()


async def test_two_bots_starting_together_on_an_empty_database_both_serve(settings_for: Any, postgres_url: str) -> None:
    """Their start-up work (the schema, the ticket-state backfill mark) races; each finds it done or does it once."""
    import asyncio

    from aiohttp.test_utils import TestClient, TestServer

    from app import create_app

    servers = [TestServer(create_app(settings_for(DATABASE_URL=postgres_url)), host="127.0.0.1") for _ in range(2)]
    await asyncio.gather(*(server.start_server() for server in servers))
    clients = [TestClient(server) for server in servers]
    try:
        for client in clients:
            await client.start_server()
            assert (await (await client.get("/healthz")).json())["store"] == "postgresql"
    finally:
        for client in clients:
            await client.close()
