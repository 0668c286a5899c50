"""make migrate-to-postgres: an embedded DATA_DIR copied into an empty PostgreSQL database, then served from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from app import CONTEXT
from tests.http.test_ticket_alerts import event, post_events, setup
from tests.support.factories import JB_AAD, make_message
from tests.support.fake_connector import FakeConnector
from tools.migrate_to_postgres import main


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
