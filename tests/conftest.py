"""Fixtures shared by the bot- and HTTP-level tiers."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from settings import Settings
from tests.support.factories import JB_AAD
from tests.support.fake_connector import FakeConnector
from tests.support.postgres import PostgresMissing, PostgresServer, start_server

SECRET = "test-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the session (tests/support/postgres.py), removed at the end.

    Without PostgreSQL's binaries the tests that need it are skipped, saying why; under CI=true they fail.
    """
    try:
        server = start_server()
    except PostgresMissing as missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs PostgreSQL: {missing}")
        pytest.skip(str(missing))
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The DATABASE_URL of a new, empty database on the session's server."""
    return postgres_server.create_database()


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = await FakeConnector().start()
    yield fake
    await fake.close()


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a bot under test: its own data dir, one JB staff member, a ticket-events secret."""

    def build(**env: str) -> Settings:
        values = {"DATA_DIR": str(tmp_path / "data"), "JB_STAFF_IDS": JB_AAD, "TICKET_EVENTS_SECRET": SECRET} | env
        return Settings.from_env(values)

    return build


@pytest.fixture
async def bot_client(
    settings_for: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[..., Any]]:
    """Start the whole app (create_app) on loopback; call it to get a TestClient, restartable.

    Its clocks do not tick by themselves: what a tick sends depends on the day the tests run (the
    weekly digest goes out on Wednesdays, reminders fall due as the seeded dates age), so a test
    about the clocks sets ``context.clock`` and calls ``services.clocks.tick`` itself.
    """
    from app import create_app
    from bot.clock_scheduler import ClockScheduler

    monkeypatch.setattr(ClockScheduler, "start", lambda self: None)

    clients: list[TestClient] = []

    async def start(settings: Settings | None = None) -> TestClient:
        server = TestServer(create_app(settings or settings_for()), host="127.0.0.1")
        await server.start_server(shutdown_timeout=0.5)  # don't wait 60 s for idle keep-alive connections
        client = TestClient(server)
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()
