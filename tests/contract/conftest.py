"""The repository contract's fixtures: one ``Database`` per store, embedded and PostgreSQL, that tests can reopen."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from storage.repositories import Database

Opener = Callable[[], Awaitable[Database]]


@pytest.fixture(params=["embedded", "postgresql"])
async def open_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens the same stored data again each call (a restart); every database opened is closed at the end."""
    opened: list[Database] = []
    if request.param == "embedded":

        async def open_once() -> Database:
            opened.append(await Database.open(tmp_path / "data"))
            return opened[-1]

    else:
        url = request.getfixturevalue("postgres_url")

        async def open_once() -> Database:
            opened.append(await Database.connect(url))
            return opened[-1]

    yield open_once
    for db in opened:
        await db.close()


@pytest.fixture
async def db(open_db: Opener) -> Database:
    """A database over an empty store."""
    return await open_db()


@pytest.fixture
def reopen(db: Database, open_db: Opener) -> Callable[[], Awaitable[Database]]:
    """Close the newest database and open its store again: what a restarted bot reads."""
    newest = [db]

    async def restart() -> Database:
        await newest[-1].close()
        newest.append(await open_db())
        return newest[-1]

    return restart
