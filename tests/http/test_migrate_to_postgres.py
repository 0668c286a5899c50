"""make migrate-to-postgres: an embedded DATA_DIR copied into an empty PostgreSQL database, then served from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from app import CONTEXT
from storage.documents import Bundle
from storage.engine import Put
from storage.postgres import PgStore
from storage.repositories import Database
from tests.http.test_ticket_alerts import event, post_events, setup
from tests.support.factories import JB_AAD, make_message
from tests.support.fake_connector import FakeConnector
from tests.support.postgres import PostgresServer
from tools.migrate_to_postgres import copy_store, main


async def _embedded_bot_with_history(bot_client: Any, connector: FakeConnector, settings: Any) -> dict[str, int]:
    """A bot on the embedded store that saw conversations, a package and a rejected e-ticket; its counts."""
    client = await bot_client(settings)
    await setup(client, connector)
    response = await post_events(
        client, {"events": [event("e1", "submitted"), event("e2", "rejected", reason="Missing plate state")]}
    )
    assert response.status == 200
    store = client.server.app[CONTEXT].db.store
    counts = {name: store.count(name) for name in store.table_names() if store.count(name)}
    await client.close()
    return counts


async def test_the_copy_matches_and_the_bot_then_serves_from_postgresql(
    bot_client: Any, connector: FakeConnector, settings_for: Any, postgres_url: str, tmp_path: Path, capsys: Any
) -> None:
    counts = await _embedded_bot_with_history(bot_client, connector, settings_for())
    assert counts["ticket_events"] == 2 and counts["incidents"] == 1 and counts["packages"] == 1

    assert await _main(["--data-dir", str(tmp_path / "data"), "--database-url", postgres_url]) == 0
    report = capsys.readouterr().out
    assert "counts match" in report
    for name, count in counts.items():
        assert f"{name}" in report and f"{count}" in report

    connector.sent.clear()
    served = await bot_client(settings_for(DATABASE_URL=postgres_url, DATA_DIR=str(tmp_path / "elsewhere")))
    db = served.server.app[CONTEXT].db
    assert db.events.seen("e1") and db.events.seen("e2")
    assert [incident.kind.value for incident in db.incidents.open("9000")] == ["rejected"]
    await served.post(
        "/api/messages", json=make_message("/status", connector.url, user_aad=JB_AAD, user_name="Jamie Staff")
    )
    sent = await connector.wait_for(lambda sent: len(sent) >= 1)
    assert "Williston" in sent[-1].text, "JB /status lists the agency copied from the embedded store"
    duplicate = await post_events(served, {"events": [event("e2", "rejected", reason="Missing plate state")]})
    assert (await duplicate.json())["results"][0]["status"] == "duplicate", "the copied event is known"


async def test_a_database_that_is_not_empty_is_refused_and_left_as_it_was(
    bot_client: Any, connector: FakeConnector, settings_for: Any, postgres_url: str, tmp_path: Path
) -> None:
    await _embedded_bot_with_history(bot_client, connector, settings_for())
    arguments = ["--data-dir", str(tmp_path / "data"), "--database-url", postgres_url]
    assert await _main(arguments) == 0
    before = await _documents(postgres_url)
    assert await _main(arguments) == 2, "a second copy would mix two stores"
    assert await _documents(postgres_url) == before


async def test_without_a_database_url_nothing_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert await _main(["--data-dir", str(tmp_path)]) == 2


async def _main(arguments: list[str]) -> int:
    """Run the tool's main (which runs its own event loop) in a thread, as ``make`` would in a process."""
    import asyncio

    return await asyncio.to_thread(main, arguments)


async def _documents(url: str) -> int:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        cursor = await connection.execute("SELECT count(*) FROM ticket_events")
        row = await cursor.fetchone()
        return int(row[0]) if row else 0


async def test_the_archives_are_copied_year_by_year_and_checked(
    bot_client: Any, connector: FakeConnector, settings_for: Any, postgres_url: str, tmp_path: Path, capsys: Any
) -> None:
    await _embedded_bot_with_history(bot_client, connector, settings_for())
    embedded = await Database.open(tmp_path / "data")
    events = {doc["event_id"]: doc for doc in embedded.store.all("ticket_events")}
    bundles = [
        Bundle("9000:T-old", 2023, {"ticket_events": {"old-1": {"event_id": "old-1", "ticket_key": "9000:T-old"}}}),
        Bundle("9000:T-1", 2025, {"ticket_events": events}),
    ]
    assert await embedded.store.archive(bundles) == 1  # T-old was never in memory: archived, nothing left memory
    kept = {name: embedded.store.count(name) for name in embedded.store.table_names() if embedded.store.count(name)}
    await embedded.close()

    assert await _main(["--data-dir", str(tmp_path / "data"), "--database-url", postgres_url]) == 0
    report = capsys.readouterr().out
    assert "copied" in report and "2 archived bundles" in report and "counts match" in report
    assert [line.split() for line in report.splitlines() if line.startswith(("2023", "2025"))] == [
        ["2023", "1", "1"],
        ["2025", "1", "1"],
    ]

    served = await Database.connect(postgres_url)
    try:
        assert await served.store.archive_years() == {2023: 1, 2025: 1}
        assert await served.store.read_archived(["9000:T-old", "9000:T-1"]) == {b.key: b for b in bundles}
        assert served.store.count("ticket_events") == 0, "archived documents stay out of the working set"
        assert {name: served.store.count(name) for name in kept} == kept
    finally:
        await served.close()


async def test_a_database_whose_archive_holds_bundles_is_refused(
    bot_client: Any, connector: FakeConnector, settings_for: Any, postgres_url: str, tmp_path: Path
) -> None:
    await _embedded_bot_with_history(bot_client, connector, settings_for())
    occupied = await Database.connect(postgres_url)
    archived = Bundle("9000:T-9", 2024, {"ticket_states": {"9000:T-9": {"ticket_key": "9000:T-9"}}})
    await occupied.store.archive([archived])
    await occupied.close()

    arguments = ["--data-dir", str(tmp_path / "data"), "--database-url", postgres_url]
    assert await _main(arguments) == 2, "the archive of another store is not empty"

    assert await _documents(postgres_url) == 0
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as connection:
        cursor = await connection.execute("SELECT key, year FROM store_archive")
        assert await cursor.fetchall() == [("9000:T-9", 2024)]


async def test_the_copy_reads_the_archive_through_the_store_interface(postgres_server: PostgresServer) -> None:
    """Any store with the archive readers is a source: here a PostgreSQL one, copied into another database."""
    source = await Database.connect(postgres_server.create_database())
    target_url = postgres_server.create_database()
    try:
        in_memory = {"event_id": "e9", "ticket_key": "9000:T-9"}
        await source.store.write([Put("ticket_events", "e9", in_memory), Put("ticket_events", "e8", in_memory)])
        bundles = [
            Bundle(f"9000:T-{n}", year, {"ticket_events": {f"e{n}": {"event_id": f"e{n}", "n": n}}})
            for n, year in ((3, 2024), (1, 2022), (2, 2024))
        ]
        assert await source.store.archive(bundles) == 0  # archived; none was in memory
        assert await source.store.archive([Bundle("9000:T-9", 2025, {"ticket_events": {"e9": in_memory}})]) == 1

        assert isinstance(source.store, PgStore)
        copied = await copy_store(source.store, target_url)
    finally:
        await source.close()

    assert copied.matches
    assert copied.archive_embedded == copied.archive_postgresql == {2022: 1, 2024: 2, 2025: 1}
    assert copied.embedded == copied.postgresql == {"ticket_events": 1}
    target = await Database.connect(target_url)
    try:
        assert [bundle.key async for bundle in target.store.archived(2024)] == ["9000:T-3", "9000:T-2"]
        assert await target.store.read_archived(["9000:T-1", "9000:T-9"]) == {
            "9000:T-1": bundles[1],
            "9000:T-9": Bundle("9000:T-9", 2025, {"ticket_events": {"e9": in_memory}}),
        }
        assert target.store.get("ticket_events", "e8") == in_memory and target.store.get("ticket_events", "e9") is None
    finally:
        await target.close()
