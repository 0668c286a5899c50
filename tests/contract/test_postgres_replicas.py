"""Two replicas on one PostgreSQL database: what one commits the other reads, and conflicting writes keep one.

Each replica is a ``Database`` over its own ``PgStore`` (its own memory and connections), as two bot
processes would have. They look for unannounced changes only once a minute here, so a change seen
sooner came by NOTIFY.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from domain.records import Actor, EventType, OfficerState, Stamp, TicketEvent
from storage.engine import Delete
from storage.errors import ConflictError, StorageError, StorageUnavailable
from storage.migrations import migrations
from storage.postgres import PgStore, StaleWrite
from storage.repositories import INDEXES, ConversationRecord, Database
from tests.support import seed
from tests.support.factories import JB_AAD, POC_AAD
from tests.support.waiting import settled

AT = datetime(2026, 11, 10, 14, 0, tzinfo=UTC)
JB = Actor(aad_id=JB_AAD, name="Jamie Staff")
SLOW_POLL = 60.0


@pytest.fixture
async def replicas(postgres_url: str) -> AsyncIterator[tuple[Database, Database]]:
    a = await Database.connect(postgres_url, poll_every=SLOW_POLL)
    b = await Database.connect(postgres_url, poll_every=SLOW_POLL)
    yield a, b
    await a.close()
    await b.close()


def store(db: Database) -> PgStore:
    assert isinstance(db.store, PgStore)
    return db.store


def rows(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        found = conn.execute(f"SELECT count(*) FROM {table} WHERE doc IS NOT NULL").fetchone()
    assert found is not None
    return int(found[0])


async def test_a_write_on_one_replica_is_read_on_the_other_after_catch_up(replicas: tuple[Database, Database]) -> None:
    a, b = replicas
    await a.commit([a.packages.put(seed.package("9000")), a.officers.put(seed.officer("A1234"))])
    await store(b).catch_up()
    assert b.packages.get("9000") == seed.package("9000")
    assert [o.officer_number for o in b.officers.of_agency("9000")] == ["A1234"]  # the index knows it too


async def test_a_write_reaches_the_other_replica_by_notification_alone(replicas: tuple[Database, Database]) -> None:
    a, b = replicas
    await a.commit([a.subscriptions.put("jb", "19:jb@thread", JB_AAD, AT)])
    await settled(
        lambda: b.subscriptions.conversation_for("jb") == "19:jb@thread", timeout=5, what="the notified change"
    )


async def test_conflicting_writes_keep_exactly_one_and_the_loser_catches_up(
    replicas: tuple[Database, Database],
) -> None:
    a, b = replicas
    await a.commit([a.officers.put(seed.officer("A1234"))])
    await store(b).catch_up()
    approved = seed.officer("A1234", state=OfficerState.APPROVED, approved=Stamp(actor=JB, at=AT))
    withdrawn = seed.officer("A1234", state=OfficerState.WITHDRAWN, withdrawn=Stamp(actor=JB, at=AT))
    results = await asyncio.gather(
        a.commit([a.officers.put(approved)]), b.commit([b.officers.put(withdrawn)]), return_exceptions=True
    )
    assert sum(result is None for result in results) == 1
    [refused] = [result for result in results if result is not None]
    assert isinstance(refused, ConflictError) and isinstance(refused, StaleWrite)
    winner, loser, lost = (approved, b, withdrawn) if results[0] is None else (withdrawn, a, approved)
    assert loser.officers.get("9000", "A1234") != lost  # undone at once
    await store(loser).catch_up()
    assert loser.officers.get("9000", "A1234") == winner
    assert [o.state for o in loser.officers.in_state(winner.state)] == [winner.state]
    assert loser.officers.in_state(lost.state) == []  # nothing of the refused write is left in the indexes


async def test_the_same_event_id_from_both_replicas_is_recorded_once(
    replicas: tuple[Database, Database], postgres_url: str
) -> None:
    a, b = replicas

    def event(received: int) -> TicketEvent:
        return TicketEvent(
            event_id="valcour-1",
            type=EventType.SUBMITTED,
            ticket_number="T-1",
            officer_number="A1234",
            judiciary_code="9000",
            occurred_at=AT,
            received_at=datetime(2026, 11, 10, 15, received, tzinfo=UTC),
        )

    assert not a.events.seen("valcour-1") and not b.events.seen("valcour-1")
    results = await asyncio.gather(
        a.commit([a.events.put(event(1))]), b.commit([b.events.put(event(2))]), return_exceptions=True
    )
    assert sorted(type(result).__name__ for result in results) == ["NoneType", "StaleWrite"]
    assert rows(postgres_url, "ticket_events") == 1
    for replica in (a, b):
        await store(replica).catch_up()
    assert a.events.get("valcour-1") == b.events.get("valcour-1")
    assert a.events.count() == b.events.count() == 1
    assert len(b.events.of_ticket("9000:T-1")) == 1


async def test_a_deleted_document_disappears_on_the_other_replica(replicas: tuple[Database, Database]) -> None:
    a, b = replicas
    record = ConversationRecord(conversation_id="a:1", kind="personal", reference={}, aad_id=POC_AAD)
    await a.conversations.save(record)
    await store(b).catch_up()
    assert b.conversations.personal_chat_of(POC_AAD) == record
    await a.commit([Delete("conversations", "a:1")])
    await store(b).catch_up()
    assert b.conversations.get("a:1") is None
    assert b.conversations.personal_chat_of(POC_AAD) is None  # gone from the index too
    await b.conversations.save(record)  # written again over the tombstone, from the other replica
    await store(a).catch_up()
    assert a.conversations.personal_chat_of(POC_AAD) == record


async def test_a_deleted_key_is_written_again_by_a_replica_that_never_saw_it_and_once_when_both_race(
    replicas: tuple[Database, Database], postgres_url: str
) -> None:
    a, b = replicas
    record = ConversationRecord(conversation_id="a:1", kind="personal", reference={}, aad_id=POC_AAD)
    await a.conversations.save(record)
    await a.commit([Delete("conversations", "a:1")])
    fresh = await Database.connect(postgres_url, poll_every=SLOW_POLL)  # opens after the delete: loads no tombstone
    try:
        await fresh.conversations.save(record)  # expects the key absent: the tombstone is no obstacle
        await store(a).catch_up()
        await store(b).catch_up()
        assert a.conversations.get("a:1") == record and b.conversations.get("a:1") == record
        await a.commit([Delete("conversations", "a:1")])
        await store(b).catch_up()
        await store(fresh).catch_up()
        again = record.model_copy(update={"aad_id": JB_AAD})
        results = await asyncio.gather(
            b.conversations.save(record), fresh.conversations.save(again), return_exceptions=True
        )
        assert sum(result is None for result in results) == 1  # both expected it absent: one wins
        assert isinstance(next(r for r in results if r is not None), ConflictError)
        assert rows(postgres_url, "conversations") == 1
    finally:
        await fresh.close()


async def test_local_writes_in_a_row_to_one_key_each_expect_the_one_before(
    replicas: tuple[Database, Database],
) -> None:
    a, b = replicas
    first = a.commit([a.officers.put(seed.officer("A1234"))])
    second = a.commit([a.officers.put(seed.officer("A1234", dps_username="casey.o"))])
    third = a.commit([a.officers.put(seed.officer("A1234", dps_username="casey.officer"))])
    await asyncio.gather(first, second, third)
    await store(b).catch_up()
    found = b.officers.get("9000", "A1234")
    assert found is not None and found.dps_username == "casey.officer"


async def test_a_change_caught_up_while_a_local_write_is_pending_waits_for_it_then_shows(
    replicas: tuple[Database, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    """B's write is held before it reaches the database while A's newer version arrives: B keeps showing its own
    write until the database refuses it (it expects the older version), then shows A's."""
    a, b = replicas
    await a.commit([a.officers.put(seed.officer("A1234"))])
    await store(b).catch_up()
    gate = asyncio.Event()
    pool = store(b)._pool
    real_connection = pool.connection

    @contextlib.asynccontextmanager
    async def held(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        task = asyncio.current_task()
        if task is not None and task.get_name() == "pg-store-writer":
            await gate.wait()
        async with real_connection(*args, **kwargs) as conn:
            yield conn

    monkeypatch.setattr(pool, "connection", held)
    on_b = seed.officer("A1234", dps_username="b-was-here")
    pending = b.commit([b.officers.put(on_b)])
    on_a = seed.officer("A1234", dps_username="a-was-first")
    await a.commit([a.officers.put(on_a)])
    await store(b).catch_up()
    assert b.officers.get("9000", "A1234") == on_b  # its own pending write, until it settles
    gate.set()
    with pytest.raises(StaleWrite):
        await pending
    assert b.officers.get("9000", "A1234") == on_a
    assert [o.dps_username for o in b.officers.of_agency("9000")] == ["a-was-first"]
    await b.commit([b.officers.put(on_b)])  # now it builds on A's version, and is kept
    await store(a).catch_up()
    assert a.officers.get("9000", "A1234") == on_b


async def test_a_third_replica_opening_later_reads_what_both_wrote(
    replicas: tuple[Database, Database], postgres_url: str
) -> None:
    a, b = replicas
    await a.commit([a.packages.put(seed.package("9000"))])
    await b.commit([b.packages.put(seed.package("0123"))])
    c = await Database.connect(postgres_url)
    try:
        assert [p.judiciary_code for p in c.packages.all()] == ["9000", "0123"]
    finally:
        await c.close()


async def test_connections_the_server_dropped_are_replaced_and_the_listener_hears_again(
    replicas: tuple[Database, Database], postgres_url: str
) -> None:
    a, b = replicas
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    await a.commit([a.packages.put(seed.package("9000"))])  # the pool replaces what the server dropped
    assert await a.check_writable() is None
    # b's listener lost its connection too: it reconnects and catches up at once, not at the next poll
    await settled(lambda: b.packages.get("9000") is not None, timeout=10, what="the change after a reconnect")


async def test_a_failed_commit_undoes_it_and_every_write_queued_after_it(
    replicas: tuple[Database, Database], postgres_url: str
) -> None:
    a, _ = replicas
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("ALTER TABLE packages RENAME TO packages_away")
        failing = a.commit([a.packages.put(seed.package("9000"))])
        behind = a.commit([a.officers.put(seed.officer("A1234"))])
        assert a.officers.get("9000", "A1234") is not None  # visible before it is committed
        for future in (failing, behind):
            with pytest.raises(StorageUnavailable):
                await future
        assert a.packages.get("9000") is None
        assert a.officers.get("9000", "A1234") is None
        assert a.officers.of_agency("9000") == []
        admin.execute("ALTER TABLE packages_away RENAME TO packages")
    await a.commit([a.officers.put(seed.officer("A1234"))])
    assert rows(postgres_url, "officers") == 1
    assert rows(postgres_url, "packages") == 0


async def test_two_replicas_starting_together_on_an_empty_database_migrate_it_once(postgres_url: str) -> None:
    a, b = await asyncio.gather(Database.connect(postgres_url), Database.connect(postgres_url))
    try:
        await a.commit([a.packages.put(seed.package("9000"))])
        await store(b).catch_up()
        assert b.packages.get("9000") is not None
    finally:
        await a.close()
        await b.close()
    with psycopg.connect(postgres_url) as conn:
        applied = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
        assert applied == [(m.version, m.name) for m in migrations()], "each migration applied once"
        assert applied[:3] == [(1, "documents"), (2, "leases"), (3, "archive")]


async def test_a_database_migrated_by_a_newer_bot_is_refused_and_left_alone(postgres_url: str) -> None:
    await (await Database.connect(postgres_url)).close()  # migrated
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        known = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
        conn.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, 'future', 'x')")
    with pytest.raises(StorageError, match="9999_future"):
        await PgStore.open(postgres_url, INDEXES)
    with psycopg.connect(postgres_url) as conn:
        after = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
        assert known is not None and after == (known[0] + 1,), "nothing applied, nothing removed"


async def test_an_applied_migration_that_was_edited_is_refused(postgres_url: str) -> None:
    db = await Database.connect(postgres_url)
    await db.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
    with pytest.raises(StorageError, match=r"0001_documents\.sql differs"):
        await PgStore.open(postgres_url, INDEXES)


async def test_writes_committed_together_keep_those_before_a_refused_one(postgres_url: str) -> None:
    a = await Database.connect(postgres_url, poll_every=3600)  # A learns of the change below only when refused
    try:
        await a.commit([a.packages.put(seed.package("9001"))])
        with psycopg.connect(postgres_url, autocommit=True) as other:  # another replica's commit, unannounced
            other.execute("UPDATE packages SET seq = nextval('store_seq') WHERE key = '9001'")
        # three writes queued at once on A (one transaction): the second builds on what changed since
        first = a.commit([a.packages.put(seed.package("9000"))])
        second = a.commit([a.packages.put(seed.package("9001").model_copy(update={"officers_trained": False}))])
        third = a.commit([a.packages.put(seed.package("9002"))])
        results = await asyncio.gather(first, second, third, return_exceptions=True)
        assert results[0] is None, "the write before the refused one is kept"
        assert isinstance(results[1], StaleWrite)
        assert isinstance(results[2], StaleWrite), "a write queued after a refused one is undone with it"
        assert a.packages.get("9000") is not None and a.packages.get("9002") is None
        kept = a.packages.get("9001")
        assert kept is not None and kept.officers_trained, "the refused change is undone in memory"
        assert rows(postgres_url, "packages") == 2
    finally:
        await a.close()
