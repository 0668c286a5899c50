"""The archive contract (``DocumentStore.archive`` and its readers), against the embedded store and PostgreSQL.

A bundle here is a closed ticket's state and its events, as the archiver would move them. The tests
go through ``Database.store`` (the ``DocumentStore``), and on PostgreSQL also through two replicas
on one database and straight at the schema.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import psycopg
import pytest

from storage import postgres
from storage.documents import Bundle, DocumentStore
from storage.engine import Put
from storage.errors import StorageUnavailable
from storage.migrations import COMMIT_LOCK
from storage.postgres import PgStore
from storage.repositories import Database

SLOW_POLL = 60.0


def ticket(number: str, *, events: int = 2, status: str = "closed") -> dict[str, dict[str, dict[str, Any]]]:
    """A ticket's documents, ``table -> key -> doc``: its state and ``events`` events."""
    key = f"9000:{number}"
    return {
        "ticket_states": {key: {"ticket_key": key, "officer_key": "9000:A1234", "status": status}},
        "ticket_events": {
            f"{number}-e{i}": {"event_id": f"{number}-e{i}", "ticket_key": key, "type": "submitted", "n": i}
            for i in range(events)
        },
    }


async def put(store: DocumentStore, docs: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Write ``docs`` durably."""
    await store.write([Put(table, key, doc) for table, by_key in docs.items() for key, doc in by_key.items()])


def in_memory(store: DocumentStore, bundle: Bundle) -> list[dict[str, Any] | None]:
    """What memory shows for each document of ``bundle``."""
    return [store.get(table, key) for table, by_key in bundle.docs.items() for key in by_key]


async def collect(bundles: AsyncIterator[Bundle]) -> list[Bundle]:
    return [bundle async for bundle in bundles]


async def archived_bundles(store: DocumentStore, *numbers: str, year: int = 2024) -> list[Bundle]:
    """Tickets written to memory, then their bundles (as the archiver builds them from memory)."""
    for number in numbers:
        await put(store, ticket(number))
    return [Bundle(f"9000:{number}", year, ticket(number)) for number in numbers]


# ----------------------------------------------------------------------------- both stores


async def test_archived_bundles_leave_memory_and_read_back_as_archived(db: Database) -> None:
    store = db.store
    bundles = await archived_bundles(store, "T1", "T2")
    await put(store, ticket("T3"))

    assert await store.archive(bundles) == 2

    for bundle in bundles:
        assert in_memory(store, bundle) == [None, None, None]
    assert store.count("ticket_states") == 1 and store.count("ticket_events") == 2  # T3 only
    assert store.get("ticket_states", "9000:T3") is not None
    assert await store.read_archived(["9000:T1", "9000:T2", "9000:T3"]) == {b.key: b for b in bundles}
    assert await store.read_archived(["9000:nothing"]) == {}
    assert await store.read_archived([]) == {}


async def test_the_archive_survives_a_restart_and_its_documents_do_not_come_back(
    db: Database, reopen: Callable[[], Awaitable[Database]]
) -> None:
    bundles = await archived_bundles(db.store, "T1", "T2")
    await put(db.store, ticket("T3"))
    assert await db.store.archive(bundles) == 2

    store = (await reopen()).store

    for bundle in bundles:
        assert in_memory(store, bundle) == [None, None, None]
    assert store.count("ticket_states") == 1 and store.count("ticket_events") == 2
    assert await store.read_archived(["9000:T1", "9000:T2"]) == {b.key: b for b in bundles}
    assert await store.archive_years() == {2024: 2}
    assert await collect(store.archived(2024)) == bundles


async def test_archiving_a_key_again_replaces_it_even_under_another_year(db: Database) -> None:
    store = db.store
    [first] = await archived_bundles(store, "T1", year=2023)
    assert await store.archive([first]) == 1
    again = Bundle(first.key, 2024, ticket("T1", events=3, status="reopened-and-closed"))

    assert await store.archive([again]) == 0  # none of its documents was in memory

    assert await store.read_archived([first.key]) == {first.key: again}
    assert await store.archive_years() == {2024: 1}
    assert await collect(store.archived(2023)) == []
    assert await collect(store.archived(2024)) == [again]


async def test_a_bundle_changed_before_it_is_archived_stays_in_memory_with_its_newer_doc(
    db: Database, reopen: Callable[[], Awaitable[Database]]
) -> None:
    store = db.store
    changed, unchanged = await archived_bundles(store, "T1", "T2")
    newer = {"ticket_key": "9000:T1", "officer_key": "9000:A1234", "status": "rejudged"}
    await store.write([Put("ticket_states", "9000:T1", newer)])

    assert await store.archive([changed, unchanged]) == 1

    assert store.get("ticket_states", "9000:T1") == newer
    assert in_memory(store, changed)[1:] == list(changed.docs["ticket_events"].values())  # all of it stays
    assert in_memory(store, unchanged) == [None, None, None]
    assert await store.read_archived([changed.key]) == {changed.key: changed}  # archived, and shadowed
    store = (await reopen()).store
    assert store.get("ticket_states", "9000:T1") == newer
    assert in_memory(store, unchanged) == [None, None, None]


async def test_a_doc_rewritten_while_archive_runs_keeps_its_newer_version(
    db: Database, reopen: Callable[[], Awaitable[Database]]
) -> None:
    store = db.store
    changed, unchanged = await archived_bundles(store, "T1", "T2")
    newer = {"event_id": "T1-e1", "ticket_key": "9000:T1", "type": "rejected", "n": 1}

    archiving = asyncio.create_task(store.archive([changed, unchanged]))
    await asyncio.sleep(0)  # archive() has started (and waits on its durable write)
    rewritten = store.write([Put("ticket_events", "T1-e1", newer)])
    await asyncio.gather(archiving, rewritten)

    assert store.get("ticket_events", "T1-e1") == newer
    assert in_memory(store, unchanged) == [None, None, None]
    store = (await reopen()).store
    assert store.get("ticket_events", "T1-e1") == newer


async def test_archive_years_count_each_year_oldest_first(db: Database) -> None:
    store = db.store
    assert await store.archive_years() == {}
    bundles = [
        *await archived_bundles(store, "T5", "T6", year=2025),
        *await archived_bundles(store, "T1", year=2019),
        *await archived_bundles(store, "T3", "T4", "T2", year=2024),
    ]

    assert await store.archive(bundles) == 6

    years = await store.archive_years()
    assert years == {2019: 1, 2024: 3, 2025: 2} and list(years) == [2019, 2024, 2025]


async def test_a_years_archive_reads_back_in_the_order_archived(db: Database) -> None:
    store = db.store
    first = await archived_bundles(store, "T9", "T1", "T5")
    other_year = await archived_bundles(store, "T2", year=2023)
    then = await archived_bundles(store, "T3", "T0")
    assert await store.archive(first) == 3
    assert await store.archive(other_year) == 1
    assert await store.archive(then) == 2

    assert [bundle.key for bundle in await collect(store.archived(2024))] == [
        "9000:T9",
        "9000:T1",
        "9000:T5",
        "9000:T3",
        "9000:T0",
    ]
    assert await collect(store.archived(2023)) == other_year
    assert await collect(store.archived(2030)) == []


# ----------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
async def replicas(postgres_url: str) -> AsyncIterator[tuple[PgStore, PgStore]]:
    """Two replicas' stores on one database (two bot processes), looking for changes only when told to."""
    a = await Database.connect(postgres_url, poll_every=SLOW_POLL)
    b = await Database.connect(postgres_url, poll_every=SLOW_POLL)
    assert isinstance(a.store, PgStore) and isinstance(b.store, PgStore)
    yield a.store, b.store
    await a.close()
    await b.close()


async def test_postgresql_what_one_replica_archives_leaves_the_others_memory_at_catch_up(
    replicas: tuple[PgStore, PgStore],
) -> None:
    a, b = replicas
    bundles = await archived_bundles(a, "T1", "T2")
    await b.catch_up()
    assert b.count("ticket_events") == 4

    assert await a.archive(bundles) == 2
    await b.catch_up()

    assert b.count("ticket_events") == 0 and b.count("ticket_states") == 0
    assert await b.read_archived(["9000:T1", "9000:T2"]) == {bundle.key: bundle for bundle in bundles}


async def test_postgresql_a_bundle_the_other_replica_changed_meanwhile_stays_and_the_rest_leave(
    replicas: tuple[PgStore, PgStore], postgres_url: str
) -> None:
    a, b = replicas
    changed, unchanged = await archived_bundles(a, "T1", "T2")
    await b.catch_up()
    newer = {"event_id": "T1-e0", "ticket_key": "9000:T1", "type": "rejected", "n": 0}

    await b.write([Put("ticket_events", "T1-e0", newer)])
    # a learns of it by notification before its deletes, or from their refusal: the same outcome either way
    assert await a.archive([changed, unchanged]) == 1

    assert a.get("ticket_events", "T1-e0") == newer
    assert a.get("ticket_states", "9000:T1") == changed.docs["ticket_states"]["9000:T1"]
    assert in_memory(a, unchanged) == [None, None, None]
    await b.catch_up()
    assert in_memory(b, unchanged) == [None, None, None]
    assert b.get("ticket_states", "9000:T1") is not None
    assert await b.read_archived([changed.key, unchanged.key]) == {changed.key: changed, unchanged.key: unchanged}
    restarted = await PgStore.open(postgres_url)
    try:
        assert restarted.get("ticket_events", "T1-e0") == newer
        assert in_memory(restarted, unchanged) == [None, None, None]
    finally:
        await restarted.close()


async def test_postgresql_refused_deletes_are_sent_again_without_the_changed_bundle(
    replicas: tuple[PgStore, PgStore], postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    a, _b = replicas
    changed, unchanged, also = await archived_bundles(a, "T1", "T2", "T3")
    newer = {"event_id": "T1-e0", "ticket_key": "9000:T1", "type": "rejected", "n": 0}
    # another replica's commit whose notification a never got (a polls once a minute): a's deletes expect the old seq
    async with await psycopg.AsyncConnection.connect(postgres_url) as conn:
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (COMMIT_LOCK,))
        await conn.execute(
            "UPDATE ticket_events SET doc = %s::json, seq = nextval('store_seq') WHERE key = 'T1-e0'",
            (json.dumps(newer),),
        )

    with caplog.at_level(logging.INFO, logger="storage.postgres"):
        assert await a.archive([changed, unchanged, also]) == 2

    assert "a write was refused" in caplog.text
    assert "archived 3 bundles; 1 of them stay in memory" in caplog.text
    assert a.get("ticket_events", "T1-e0") == newer
    assert a.get("ticket_states", "9000:T1") == changed.docs["ticket_states"]["9000:T1"]
    assert in_memory(a, unchanged) == in_memory(a, also) == [None, None, None]


async def test_postgresql_a_years_archive_is_read_in_pages_in_order(
    replicas: tuple[PgStore, PgStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _b = replicas
    monkeypatch.setattr(postgres, "ARCHIVE_PAGE", 3)
    bundles = [Bundle(f"9000:T{n}", 2024, {"ticket_states": {f"9000:T{n}": {"n": n}}}) for n in range(10, 0, -1)]

    assert await a.archive(bundles[:7]) == 0  # archived; none of them was in memory
    assert await a.archive(bundles[7:]) == 0

    assert await collect(a.archived(2024)) == bundles
    assert await a.archive_years() == {2024: 10}


async def test_postgresql_bad_bundles_are_refused_before_anything_is_archived(
    replicas: tuple[PgStore, PgStore],
) -> None:
    a, _b = replicas
    good = Bundle("9000:T1", 2024, ticket("T1"))
    bad: list[tuple[Any, type[Exception], str]] = [
        ([good, {"key": "9000:T2"}], TypeError, "not a Bundle"),
        ([Bundle("9000:T2", "2024", {})], TypeError, "year must be an int"),  # type: ignore[arg-type]
        ([Bundle("9000:T2", 20240, {})], ValueError, "year must be from 1 to 9999"),
        ([Bundle("", 2024, {})], ValueError, "non-empty string"),
        ([good, Bundle("9000:T1", 2023, {})], ValueError, "same key"),
        ([Bundle("9000:T2", 2024, {"tickets": {}})], ValueError, "not in the PostgreSQL schema"),
        ([Bundle("9000:T2", 2024, {"ticket_states": {"k": [1]}})], TypeError, "not a dict"),  # type: ignore[dict-item]
        ([good, Bundle("9000:T2", 2024, ticket("T1"))], ValueError, "in an earlier bundle too"),
        (good, TypeError, "sequence of Bundles"),
    ]
    for bundles, error, message in bad:
        with pytest.raises(error, match=message):
            await a.archive(bundles)
    with pytest.raises(TypeError, match="not one string"):
        await a.read_archived("9000:T1")
    with pytest.raises(TypeError, match="must be an int"):
        a.archived(2024.0)  # type: ignore[arg-type]
    assert await a.archive_years() == {}


async def test_postgresql_a_database_failure_is_storage_unavailable_and_the_bundle_stays(
    replicas: tuple[PgStore, PgStore], postgres_url: str
) -> None:
    a, _b = replicas
    [bundle] = await archived_bundles(a, "T1")
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
        await conn.execute("ALTER TABLE store_archive RENAME TO store_archive_away")

    with pytest.raises(StorageUnavailable, match=r"^archiving to PostgreSQL failed \(UndefinedTable 42P01\)$"):
        await a.archive([bundle])
    for reading in (a.read_archived([bundle.key]), a.archive_years(), collect(a.archived(2024))):
        with pytest.raises(StorageUnavailable, match=r"^reading the archive from PostgreSQL failed \(UndefinedTable"):
            await reading

    assert in_memory(a, bundle) == list(bundle.docs["ticket_states"].values()) + list(
        bundle.docs["ticket_events"].values()
    )
