"""The PostgreSQL document store: the embedded store's interface, with one database as the durable truth for every replica.

Each replica holds the working set in memory (``storage.documents.WorkingSet``), loaded at open, and
reads from it synchronously, as with the embedded store; nothing is kept on local disk. The database
has one table per store table (``storage/migrations/0001_documents.sql``), each row a document with
the global sequence number of the commit that last wrote it; a deleted document stays as a tombstone.

Writes: ``write(ops)`` applies to memory at once and returns a future. One writer task commits the
writes in order, each as its own transaction (``store_commit``): under the commit lock it checks that
every key still has the seq this replica last saw for it (a key it saw absent is INSERTed, so the
primary key records it once), writes the documents with new seqs and notifies ``store_changes``. A
refused check fails the write with ``StaleWrite`` (a ``ConflictError``), a lost connection or another
database error with ``StorageUnavailable``; either way that write and every later queued one are
undone in memory (each key a pending write touched shows its newest committed version again), their
futures failed, and the replica catches up. A later local write to a key an earlier pending one wrote
expects that write's new seq.

Catch-up: every row with a seq above the last one seen, across tables, is applied to memory (indexes
kept) unless memory already has that version. A key a pending local write touched keeps the local
document: the newer version is what memory shows once no pending write touches the key (and the
pending write is refused, as it expects the older seq). A listener task catches up on each
notification, and every ``poll_every`` seconds when none came (a lost notification, a reconnect).

Commits are serialized across replicas, so ``seq > last seen`` never skips a commit that becomes
visible later. A commit whose connection broke after it was sent may have been committed all the
same: its caller got ``StorageUnavailable``, and the next catch-up brings the rows back into memory.

Archive: ``archive(bundles)`` upserts the bundles into ``store_archive`` (``storage/migrations/0003_archive.sql``)
in one transaction, then deletes their documents by an ordinary write, so every replica's catch-up drops
them too and the next open does not load them. The archive is never held in memory: ``read_archived``,
``archive_years`` and ``archived`` query it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool
from tinydb.queries import QueryLike

from storage.documents import Bundle, Doc, PendingWrite, WorkingSet, same_json
from storage.engine import Delete, Op, Put
from storage.errors import ConflictError, StorageError, StorageUnavailable
from storage.migrations import migrate

logger = logging.getLogger(__name__)

CHANNEL: Final = "store_changes"
POLL_EVERY_SECONDS: Final = 5.0
"""How often a replica looks for changes it was not notified of."""
PROBE_EVERY_SECONDS: Final = 5.0
"""How long a successful commit stands in for a /healthz probe."""
CONNECT_TIMEOUT_SECONDS: Final = 5
PROBE_TIMEOUT_SECONDS: Final = 5.0
_REFUSED: Final = frozenset({"23505", "JB409"})
"""SQLSTATEs of a write refused by the optimistic check: unique_violation (a key seen absent exists) and store_commit's own."""
_COMMIT: Final = "SELECT before, seqs FROM store_commit(%s::text[], %s::text[], %s::bigint[], %s::json[])"
GROUP_COMMIT: Final = 64
"""The most pending writes one transaction commits (a group shares one flush of PostgreSQL's log)."""
ARCHIVE_PAGE: Final = 500
"""How many bundles ``archived(year)`` fetches per query."""
ARCHIVE_ATTEMPTS: Final = 3
"""How many times ``archive`` deletes the bundles still in memory as given when another replica's write refuses it."""
YEARS: Final = range(1, 10_000)
"""The years an archive may be named by (a four-digit year, as ``datetime`` has)."""
_ARCHIVE: Final = (
    "INSERT INTO store_archive (key, year, docs)"
    " SELECT key, year, docs FROM unnest(%s::text[], %s::integer[], %s::json[]) WITH ORDINALITY AS b(key, year, docs, n)"
    " ORDER BY n"
    " ON CONFLICT (key) DO UPDATE"
    " SET year = excluded.year, docs = excluded.docs, seq = excluded.seq, archived_at = excluded.archived_at"
)
_READ_ARCHIVED: Final = "SELECT key, year, docs::text FROM store_archive WHERE key = ANY(%s::text[])"
ARCHIVE_YEARS: Final = "SELECT year, count(*) FROM store_archive GROUP BY year ORDER BY year"
"""Archived bundles per year, oldest first (the copy to PostgreSQL checks its counts with it too)."""
_ARCHIVED_PAGE: Final = (
    "SELECT key, seq, docs::text FROM store_archive WHERE year = %s AND seq > %s"
    " AND (%s::text IS NULL OR strpos(docs::text, %s::text) > 0) ORDER BY seq LIMIT %s"
)


class StaleWrite(ConflictError):
    """A write was refused: a document it changes was changed by another replica since this one read it.

    Nothing of the write (nor of the local writes queued after it) is kept; memory is caught up.
    """


def describe(url: str) -> str:
    """Where a DATABASE_URL points, without its user or password: ``database "jb" on db.example:5432``."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "an unreadable DATABASE_URL"
    host = parts.get("host") or parts.get("hostaddr") or "the local socket"
    port = parts.get("port")
    where = f"{host}:{port}" if port else str(host)
    return f'database "{parts.get("dbname", "")}" on {where}'


def _check_year(year: object) -> None:
    """Raise TypeError/ValueError unless ``year`` can name an archive (an int in ``YEARS``)."""
    if isinstance(year, bool) or not isinstance(year, int):
        raise TypeError(f"an archive's year must be an int, not {type(year).__name__}")
    if year not in YEARS:
        raise ValueError(f"an archive's year must be from {YEARS.start} to {YEARS.stop - 1}")


def _reason(error: BaseException) -> str:
    """A short, safe reason for a database error: its class and SQLSTATE (libpq's text may name hosts and users)."""
    sqlstate = getattr(error, "sqlstate", None)
    return f"{type(error).__name__} {sqlstate}" if sqlstate else type(error).__name__


@dataclass
class _Write(PendingWrite):
    """One ``write()`` call on its way to the database: the documents it leaves (None: deleted, with their JSON)."""

    changes: dict[tuple[str, str], tuple[Doc | None, bytes]] = field(default_factory=dict)


class PgStore:
    """Documents in PostgreSQL, the working set in memory; same interface as ``storage.engine.Store``.

    Use from one event loop. Reads are synchronous and never raise for a missing record.
    """

    def __init__(
        self,
        url: str,
        indexes: Mapping[str, Sequence[str]],
        tables: frozenset[str],
        pool: AsyncConnectionPool[AsyncConnection[TupleRow]],
        poll_every: float,
        packed: frozenset[str] = frozenset(),
    ) -> None:
        """Build an empty store; use ``PgStore.open`` instead."""
        self._url = url
        self._where = describe(url)
        self._known_tables = tables
        self._memory = WorkingSet(indexes, packed=packed)
        self._seqs: dict[str, dict[str, int]] = {table: {} for table in tables}
        self._last_seen = 0
        self._catch_up_query = sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT {}, key, doc, seq, created FROM {} WHERE seq > %(since)s").format(
                sql.Literal(table), sql.Identifier(table)
            )
            for table in sorted(tables)
        )
        self._pool = pool
        self._poll_every = poll_every
        self._loop = asyncio.get_running_loop()
        self._pending: list[_Write] = []  # oldest first; the first may be committing now
        # For each key a pending write touched: the newest committed version known (doc, seq), which
        # memory shows again once no pending write touches the key, and how many pending writes touch it.
        # While a key is pending, self._seqs holds the seq its local writes build on (what they expect).
        self._base: dict[tuple[str, str], tuple[Doc | None, int | None]] = {}
        self._touched: dict[tuple[str, str], int] = {}
        self._wakeup = asyncio.Event()
        self._catch_up_wanted = asyncio.Event()
        self._catch_up_lock = asyncio.Lock()
        self._closing = False
        self._close_task: asyncio.Task[None] | None = None
        self._last_committed = float("-inf")
        self._writer_task: asyncio.Task[None] | None = None
        self._listener_task: asyncio.Task[None] | None = None
        self._catch_up_task: asyncio.Task[None] | None = None

    # ----------------------------------------------------------------------------- lifecycle

    @classmethod
    async def open(
        cls,
        url: str,
        indexes: Mapping[str, Sequence[str]] | None = None,
        *,
        poll_every: float = POLL_EVERY_SECONDS,
        packed: Sequence[str] = (),
    ) -> PgStore:
        """Connect, apply the schema migrations (under the migration lock), load every document, start listening.

        Raises StorageUnavailable when the database cannot be reached or fails (the message names the
        host and database, never the URL's user or password), StorageError when its schema is one this
        code must not touch, ValueError/TypeError for bad ``indexes``. Tables named in ``packed`` keep
        their docs as JSON text in memory (``storage.documents.WorkingSet``).
        """
        checked: dict[str, tuple[str, ...]] = {}
        for table, fields in (indexes or {}).items():
            if isinstance(fields, str) or not all(isinstance(f, str) for f in fields):
                raise TypeError(f"indexes[{table!r}] must be a sequence of field names")
            checked[table] = tuple(fields)
        where = describe(url)
        started = time.monotonic()
        control: AsyncConnection[TupleRow] | None = None
        pool: AsyncConnectionPool[AsyncConnection[TupleRow]] | None = None
        try:
            control = await AsyncConnection.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
            await migrate(control)
            cursor = await control.execute("SELECT name FROM store_tables")
            tables = frozenset(name for (name,) in await cursor.fetchall())
            await control.execute(f"LISTEN {CHANNEL}")
            pool = AsyncConnectionPool(
                url,
                min_size=1,
                max_size=4,
                kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_SECONDS},
                check=AsyncConnectionPool.check_connection,  # a connection the server dropped is replaced, not used
                timeout=CONNECT_TIMEOUT_SECONDS * 2,  # a write waits this long for a connection, then fails
                open=False,
                name="store",
            )
            await pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS * 2)
            store = cls(url, checked, tables, pool, poll_every)
            loaded = await store._load(control)
        except psycopg.Error as exc:
            for resource in (control, pool):
                if resource is not None:
                    with contextlib.suppress(Exception):
                        await resource.close()
            raise StorageUnavailable(f"PostgreSQL ({where}) could not be opened ({_reason(exc)})") from exc
        except BaseException:
            for resource in (control, pool):
                if resource is not None:
                    with contextlib.suppress(Exception):
                        await resource.close()
            raise
        store._start(control)
        logger.info(
            "PostgreSQL store opened (%s): %d tables, %d docs, in %.2f s",
            where,
            len(tables),
            loaded,
            time.monotonic() - started,
        )
        return store

    async def _load(self, conn: AsyncConnection[TupleRow]) -> int:
        """Read every table from one snapshot into memory, in insertion order; how many docs."""
        loaded = 0
        await conn.set_autocommit(False)
        try:
            await conn.set_isolation_level(psycopg.IsolationLevel.REPEATABLE_READ)
            await conn.set_read_only(True)
            async with conn.transaction():
                for table in sorted(self._known_tables):
                    # deleted documents (tombstones) are not loaded: only the newest seq among them counts
                    cursor = await conn.execute(sql.SQL("SELECT max(seq) FROM {}").format(sql.Identifier(table)))
                    newest = await cursor.fetchone()
                    if newest is not None and newest[0] is not None:
                        self._last_seen = max(self._last_seen, newest[0])
                    cursor = await conn.execute(
                        sql.SQL("SELECT key, doc::text, seq FROM {} WHERE doc IS NOT NULL ORDER BY created").format(
                            sql.Identifier(table)
                        )
                    )
                    rows = await cursor.fetchall()
                    # one parse of the whole table costs less than one per document (a third of the open time)
                    docs = json.loads("[" + ",".join(row[1] for row in rows) + "]")
                    seqs = self._seqs[table]
                    for (key, _text, seq), doc in zip(rows, docs, strict=True):
                        seqs[key] = seq
                        self._memory.set(table, key, doc)
                        loaded += 1
                    del rows, docs
        finally:
            await conn.set_read_only(None)
            await conn.set_isolation_level(None)
            await conn.set_autocommit(True)
        return loaded

    def _start(self, listener: AsyncConnection[TupleRow]) -> None:
        self._writer_task = asyncio.create_task(self._writer_loop(), name="pg-store-writer")
        self._listener_task = asyncio.create_task(self._listen(listener), name="pg-store-listener")
        self._catch_up_task = asyncio.create_task(self._catch_up_loop(), name="pg-store-catch-up")

    @property
    def pool(self) -> AsyncConnectionPool[AsyncConnection[TupleRow]]:
        """The store's connection pool, for the replica's leases (storage/pg_leases.py); closed with the store."""
        return self._pool

    @property
    def recovered(self) -> str | None:
        """Always None: nothing is ever set aside on PostgreSQL."""
        return None

    async def close(self) -> None:
        """Commit pending writes, stop listening and close the connections; idempotent. Never raises for a failed write."""
        if self._close_task is None:
            self._close_task = asyncio.create_task(self._close(), name="pg-store-close")
        await asyncio.shield(self._close_task)

    async def _close(self) -> None:
        self._closing = True
        self._wakeup.set()
        try:
            if self._writer_task is not None:
                await self._writer_task
        finally:
            for task in (self._listener_task, self._catch_up_task):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            await self._pool.close()
            logger.info("PostgreSQL store closed")

    # ----------------------------------------------------------------------------- reads

    def table_names(self) -> list[str]:
        """Every table that holds or held a doc in memory, in the order first written (as ``Store.table_names``)."""
        return self._memory.table_names()

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        """The doc stored under ``key``, or None; callers must not mutate it. Never raises."""
        return self._memory.get(table, key)

    def all(self, table: str) -> list[dict[str, Any]]:
        """Every doc of ``table`` in insertion order (a replaced doc keeps its place). Never raises."""
        return self._memory.all(table)

    def keys(self, table: str) -> list[str]:
        """Every key of ``table`` in insertion order. Never raises."""
        return self._memory.keys(table)

    def count(self, table: str) -> int:
        """How many docs ``table`` holds. Never raises."""
        return self._memory.count(table)

    def newest(self, table: str) -> dict[str, Any] | None:
        """The doc whose key entered ``table`` last (here or on another replica, as caught up), or None."""
        return self._memory.newest(table)

    def find(self, table: str, field: str, value: Any) -> list[dict[str, Any]]:
        """Docs whose top-level ``field`` equals ``value``, via its index (ValueError: none declared; TypeError: value)."""
        return self._memory.find(table, field, value)

    def find_where(self, table: str, query: QueryLike) -> list[dict[str, Any]]:
        """Docs of ``table`` matching a ``tinydb.Query``, by a linear scan."""
        return self._memory.find_where(table, query)

    # ----------------------------------------------------------------------------- writes

    def write(self, ops: Sequence[Op]) -> asyncio.Future[None]:
        """Apply ``ops`` to memory now and return a future that resolves once they are committed.

        As ``Store.write``: ops that change nothing are dropped, one call is atomic, memory changes
        before this returns. Raises (synchronously, nothing applied) TypeError/ValueError for a
        malformed op, a doc that is not a JSON object or a table the schema does not have, and
        StorageUnavailable once the store is closing. The future fails with StaleWrite when another
        replica changed one of these documents first, with StorageUnavailable when the database
        could not commit; the write and every one queued after it are then undone in memory.
        """
        if self._closing:
            raise StorageUnavailable("the store is closed")
        prepared = [self._prepare(op) for op in ops]
        changes: dict[tuple[str, str], tuple[Doc | None, bytes]] = {}
        for table, key, doc, encoded in prepared:
            current = self._memory.get(table, key)
            if doc is None:
                if current is None:
                    continue
            elif current is not None and same_json(current, doc):
                continue
            if (table, key) not in changes:
                if (table, key) not in self._base:
                    self._base[table, key] = (current, self._seqs[table].get(key))
                self._touched[table, key] = self._touched.get((table, key), 0) + 1
            changes[table, key] = (doc, encoded)
            self._memory.set(table, key, doc)
        if not changes:
            return self._settled_future()
        future: asyncio.Future[None] = self._loop.create_future()
        self._pending.append(_Write(future, changes=changes))
        self._wakeup.set()
        return future

    def _prepare(self, op: Op) -> tuple[str, str, Doc | None, bytes]:
        """Check one op and, for a Put, normalize its doc through JSON (what the other replicas load)."""
        if not isinstance(op, (Put, Delete)):
            raise TypeError(f"write() takes Put and Delete ops, not {type(op).__name__}")
        if not isinstance(op.table, str) or not op.table:
            raise ValueError("table must be a non-empty string")
        if op.table not in self._known_tables:
            raise ValueError(f"table {op.table!r} is not in the PostgreSQL schema (add a migration)")
        if not isinstance(op.key, str):
            raise TypeError("key must be a string")
        if "\x00" in op.key:
            raise ValueError("a key cannot hold a NUL character on PostgreSQL")
        if isinstance(op, Delete):
            return op.table, op.key, None, b""
        if not isinstance(op.doc, dict):
            raise TypeError("doc must be a dict (a JSON object)")
        encoded = json.dumps(op.doc, allow_nan=False, separators=(",", ":")).encode()
        return op.table, op.key, json.loads(encoded), encoded

    def _settled_future(self) -> asyncio.Future[None]:
        if self._pending:
            return self._pending[-1].follow(self._loop)
        future: asyncio.Future[None] = self._loop.create_future()
        future.set_result(None)
        return future

    def settled(self, table: str, *keys: str) -> asyncio.Future[None]:
        """A future that resolves once what ``get(table, key)`` shows now for each key is committed.

        It follows the newest pending write that touched one of the keys (writes commit in order), and
        is already done when there is none (a document caught up from another replica is committed).
        It fails as that write does. Never raises itself.
        """
        wanted = set(keys)
        for write in reversed(self._pending):
            for touched_table, touched_key in write.changes:
                if touched_key in wanted and touched_table == table:
                    return write.follow(self._loop)
        future: asyncio.Future[None] = self._loop.create_future()
        future.set_result(None)
        return future

    async def flush(self) -> None:
        """Wait until every write made so far has settled. Never raises."""
        if self._pending:
            await asyncio.wait([self._pending[-1].follow(self._loop)])

    # ----------------------------------------------------------------------------- writer

    async def _writer_loop(self) -> None:
        """Commit pending writes in order, several at a time in one transaction (one flush to disk for all)."""
        while True:
            if not self._pending:
                if self._closing:
                    return
                await self._wakeup.wait()
                self._wakeup.clear()
                continue
            group = self._group()
            calls = [self._call_of(write) for write in group]
            done: list[tuple[int, list[int]]] = []  # (before, seqs) of each write committed, in order
            refusal: psycopg.Error | None = None
            try:
                async with self._pool.connection() as conn, conn.transaction():
                    for call in calls:
                        if call is None:  # it writes nothing the database has: committed as it is
                            done.append((self._last_seen, []))
                            continue
                        try:
                            async with conn.transaction():  # a savepoint: a refused write leaves the ones before it
                                cursor = await conn.execute(_COMMIT, call)
                                row = await cursor.fetchone()
                        except psycopg.Error as exc:
                            if getattr(exc, "sqlstate", None) not in _REFUSED:
                                raise
                            refusal = exc
                            break
                        if row is None:
                            raise psycopg.InterfaceError("store_commit returned no row")
                        done.append((row[0], list(row[1])))
            except psycopg.Error as exc:
                self._fail(exc, refused=False)
                continue
            except Exception as exc:  # anything else must not lose the writer either
                self._fail(exc, refused=False)
                continue
            self._last_committed = time.monotonic()
            for write, call, (before, seqs) in zip(group, calls, done, strict=False):
                sent = [] if call is None else list(zip(call[0], call[1], strict=True))
                self._committed(write, dict(zip(sent, seqs, strict=True)))
                if seqs and before <= self._last_seen:  # nothing committed since what memory has seen: no gap
                    self._last_seen = max(self._last_seen, seqs[-1])
                self._pending.pop(0)
                write.succeeded()
            if refusal is not None:
                self._fail(refusal, refused=True)  # the refused write is first now; it and those after it

    def _group(self) -> list[_Write]:
        """The oldest pending writes that touch no key in common (a later one builds on an earlier one's new seq,
        which is known only once that one is committed), at most ``GROUP_COMMIT`` of them."""
        group: list[_Write] = []
        touched: set[tuple[str, str]] = set()
        for write in self._pending:
            keys = set(write.changes)
            if group and (keys & touched or len(group) >= GROUP_COMMIT):
                break
            group.append(write)
            touched |= keys
        return group

    def _call_of(self, write: _Write) -> tuple[list[str], list[str], list[int | None], list[str | None]] | None:
        """store_commit's arguments for one write (tables, keys, expected seqs, docs), or None when it sends nothing."""
        tables: list[str] = []
        keys: list[str] = []
        expected: list[int | None] = []
        docs: list[str | None] = []
        for (table, key), (doc, encoded) in write.changes.items():
            seen = self._seqs[table].get(key)
            if doc is None and seen is None:
                continue  # deleting what the database never had here (a put and a delete in a row)
            tables.append(table)
            keys.append(key)
            expected.append(seen)
            docs.append(None if doc is None else encoded.decode())
        return (tables, keys, expected, docs) if keys else None

    def _committed(self, write: _Write, seqs: dict[tuple[str, str], int]) -> None:
        """Record the new seqs of a committed write; a key no later pending write touches leaves the pending set.

        Such a key shows the newest committed version: this write's, or a newer one a catch-up brought
        while it was committing.
        """
        for (table, key), (doc, _encoded) in write.changes.items():
            base_doc, base_seq = self._base[table, key]
            seq = seqs.get((table, key))
            if seq is not None:
                self._seqs[table][key] = seq
                if base_seq is None or seq > base_seq:
                    base_doc, base_seq = doc, seq
                    self._base[table, key] = (base_doc, base_seq)
            left = self._touched[table, key] - 1
            if left:
                self._touched[table, key] = left
                continue
            del self._touched[table, key], self._base[table, key]
            if self._memory.get(table, key) is not base_doc:
                self._memory.set(table, key, base_doc)
            if base_seq is None or base_doc is None:  # absent: a write expecting it absent needs no version
                self._seqs[table].pop(key, None)
            else:
                self._seqs[table][key] = base_seq

    def _fail(self, exc: BaseException, *, refused: bool) -> None:
        """Undo the failed write and every one queued after it, newest first; fail their futures; catch up."""
        failed, self._pending = self._pending, []
        if not refused:
            self._last_committed = float("-inf")  # /healthz probes again at once
        for (table, key), (doc, seq) in self._base.items():
            if self._memory.get(table, key) is not doc:
                self._memory.set(table, key, doc)
            if seq is None or doc is None:
                self._seqs[table].pop(key, None)
            else:
                self._seqs[table][key] = seq
        self._base.clear()
        self._touched.clear()
        error: StorageError
        if refused:
            logger.warning("a write was refused: another replica changed it first; %d writes undone", len(failed))
            error = StaleWrite("another replica changed these records first; nothing of this write was kept")
        else:
            logger.error("commit to PostgreSQL failed (%s); %d writes undone and refused", _reason(exc), len(failed))
            error = StorageUnavailable(f"the commit to PostgreSQL failed ({_reason(exc)})")
        for write in failed:
            write.failed(error, exc)
        self._catch_up_wanted.set()

    # ----------------------------------------------------------------------------- catch-up

    async def catch_up(self) -> int:
        """Apply every change committed (by any replica) since the last one seen; how many documents changed in memory.

        Raises StorageUnavailable when the database cannot be read.
        """
        async with self._catch_up_lock:
            since = self._last_seen
            try:
                async with self._pool.connection() as conn:
                    cursor = await conn.execute(self._catch_up_query, {"since": since})
                    rows = await cursor.fetchall()
            except psycopg.Error as exc:
                raise StorageUnavailable(f"catching up from PostgreSQL failed ({_reason(exc)})") from exc
            return self._apply(rows)

    def _apply(self, rows: list[TupleRow]) -> int:
        """Bring memory up to the fetched rows (synchronously: no write can interleave)."""
        rows.sort(key=lambda row: row[4])
        changed = 0
        for table, key, doc, seq, _created in rows:
            self._last_seen = max(self._last_seen, seq)
            base = self._base.get((table, key))
            if base is not None:  # a pending local write has this key: the newer version waits for it to settle
                if base[1] is None or seq > base[1]:
                    self._base[table, key] = (doc, seq)
                continue
            known = self._seqs[table].get(key)
            if known is not None and seq <= known:
                continue
            if doc is None:
                self._seqs[table].pop(key, None)  # deleted: nothing to remember (a tombstone needs no version)
            else:
                self._seqs[table][key] = seq
            current = self._memory.get(table, key)
            if doc is None and current is None:
                continue
            if current is not None and doc is not None and same_json(current, doc):
                continue
            self._memory.set(table, key, doc)
            changed += 1
        return changed

    async def _catch_up_loop(self) -> None:
        """Catch up whenever asked (a notification, the poll, a refused write)."""
        while True:
            await self._catch_up_wanted.wait()
            self._catch_up_wanted.clear()
            try:
                await self.catch_up()
            except StorageUnavailable as error:
                logger.warning("%s; trying again in %.0f s", error, self._poll_every)
            except Exception:  # a bug must not stop every later catch-up
                logger.exception("catching up from PostgreSQL failed; trying again in %.0f s", self._poll_every)

    async def _listen(self, conn: AsyncConnection[TupleRow]) -> None:
        """Wait for notifications on ``store_changes`` (and poll when none came), reconnecting when the connection drops."""
        retry = 0.5
        while True:
            try:
                if conn.closed:
                    conn = await AsyncConnection.connect(
                        self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
                    )
                    await conn.execute(f"LISTEN {CHANNEL}")
                    logger.info("listening for PostgreSQL store changes again")
                self._catch_up_wanted.set()  # whatever happened while not listening
                retry = 0.5
                while True:
                    async for notify in conn.notifies(timeout=self._poll_every):
                        if not notify.payload.isdigit() or int(notify.payload) > self._last_seen:
                            self._catch_up_wanted.set()
                    self._catch_up_wanted.set()  # the poll
            except Exception as exc:  # psycopg.Error mostly; the listener must outlive anything
                logger.warning("listening for PostgreSQL store changes failed (%s); retrying", _reason(exc))
                with contextlib.suppress(Exception):
                    await conn.close()
                await asyncio.sleep(retry)
                retry = min(retry * 2, self._poll_every)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await conn.close()
                raise

    # ----------------------------------------------------------------------------- archive

    async def archive(self, bundles: Sequence[Bundle]) -> int:
        """Upsert the bundles into the archive (one transaction), then delete their documents; how many left memory.

        A bundle's row replaces any row of its key, whatever its year. Then every bundle whose documents
        memory still holds as given (equal as JSON: a catch-up replaces a document's object, never an
        unchanged document) has them deleted in one write, so other replicas' catch-up drops them too.
        A bundle one of whose documents changed or went meanwhile stays in memory, newer than its archived
        copy. When another replica's write refuses the deletes (StaleWrite), memory catches up and the
        bundles still as given are deleted again without the changed ones, up to ``ARCHIVE_ATTEMPTS``
        times; after that the rest stay in memory until archived again.

        Raises (before anything is written) TypeError/ValueError for a malformed bundle, one naming a
        table the schema does not have, or two bundles sharing a key or a document; StorageUnavailable
        when the store is closed or the database fails (the bundles then stay in memory; their rows may
        have been committed, and archiving them again replaces them).
        """
        if self._closing:
            raise StorageUnavailable("the store is closed")
        given = self._checked_bundles(bundles)
        if not given:
            return 0
        rows: tuple[list[str], list[int], list[str]] = ([], [], [])
        for bundle, encoded in given:
            rows[0].append(bundle.key)
            rows[1].append(bundle.year)
            rows[2].append(encoded)
        try:
            async with self._pool.connection() as conn, conn.transaction():
                await conn.execute(_ARCHIVE, rows)
        except psycopg.Error as exc:
            raise StorageUnavailable(f"archiving to PostgreSQL failed ({_reason(exc)})") from exc
        return await self._forget([bundle for bundle, _encoded in given])

    def _checked_bundles(self, bundles: Sequence[Bundle]) -> list[tuple[Bundle, str]]:
        """Each bundle with its documents normalized through JSON (as ``write`` stores them), and that JSON."""
        if isinstance(bundles, (str, bytes)) or not isinstance(bundles, Sequence):
            raise TypeError("archive() takes a sequence of Bundles")
        checked: list[tuple[Bundle, str]] = []
        keys: set[str] = set()
        documents: set[tuple[str, str]] = set()
        for i, bundle in enumerate(bundles):
            where = f"bundles[{i}]"
            if not isinstance(bundle, Bundle):
                raise TypeError(f"{where} is a {type(bundle).__name__}, not a Bundle")
            if not isinstance(bundle.key, str) or not bundle.key or "\x00" in bundle.key:
                raise ValueError(f"{where}: a bundle's key must be a non-empty string without NUL characters")
            if bundle.key in keys:
                raise ValueError(f"{where}: an earlier bundle has the same key (a key is archived once per call)")
            keys.add(bundle.key)
            _check_year(bundle.year)
            if not isinstance(bundle.docs, Mapping):
                raise TypeError(f"{where}: docs must map table -> key -> doc")
            for table, docs in bundle.docs.items():
                if table not in self._known_tables:
                    raise ValueError(f"{where}: table {table!r} is not in the PostgreSQL schema")
                if not isinstance(docs, Mapping):
                    raise TypeError(f"{where}: docs[{table!r}] must map key -> doc")
                for key, doc in docs.items():
                    if not isinstance(key, str) or "\x00" in key:
                        raise ValueError(f"{where}: a document key of {table} is not a string without NUL characters")
                    if not isinstance(doc, dict):
                        raise TypeError(f"{where}: a document of {table} is not a dict (a JSON object)")
                    if (table, key) in documents:
                        raise ValueError(f"{where}: a document of {table} is in an earlier bundle too")
                    documents.add((table, key))
            encoded = json.dumps(
                {table: dict(docs) for table, docs in bundle.docs.items()}, allow_nan=False, separators=(",", ":")
            )
            checked.append((Bundle(bundle.key, bundle.year, json.loads(encoded)), encoded))
        return checked

    async def _forget(self, bundles: list[Bundle]) -> int:
        """Delete the documents of the bundles memory still holds as given; how many bundles that was."""
        for _attempt in range(ARCHIVE_ATTEMPTS):
            still = [bundle for bundle in bundles if self._holds(bundle)]
            ops = [Delete(table, key) for bundle in still for table, docs in bundle.docs.items() for key in docs]
            try:
                await self.write(ops)
            except ConflictError:
                await self.catch_up()  # the changed documents show their new version: those bundles stay
                continue
            if len(still) < len(bundles):
                logger.info(
                    "archived %d bundles; %d of them stay in memory: a write changed them meanwhile",
                    len(bundles),
                    len(bundles) - len(still),
                )
            return len(still)
        logger.warning(
            "%d bundles were archived but stay in memory: other replicas kept changing their documents", len(bundles)
        )
        return 0

    def _holds(self, bundle: Bundle) -> bool:
        """Whether memory holds every document of ``bundle`` as it is there."""
        return all(
            same_json(self._memory.get(table, key), doc)
            for table, docs in bundle.docs.items()
            for key, doc in docs.items()
        )

    async def read_archived(self, keys: Iterable[str]) -> dict[str, Bundle]:
        """The bundles the archive holds under ``keys`` (one query), in the order asked; a key it lacks is left out.

        Raises TypeError for keys that are not strings (or one string for ``keys``), ValueError for a key
        with a NUL character, StorageUnavailable when the store is closed or the database fails.
        """
        if isinstance(keys, (str, bytes)):
            raise TypeError("read_archived() takes an iterable of keys, not one string")
        wanted = list(dict.fromkeys(keys))
        for key in wanted:
            if not isinstance(key, str):
                raise TypeError(f"an archive key must be a string, not {type(key).__name__}")
            if "\x00" in key:
                raise ValueError("a key cannot hold a NUL character on PostgreSQL")
        if not wanted:
            return {}
        rows = await self._query(_READ_ARCHIVED, (wanted,), "reading the archive")
        found = {key: Bundle(key, year, json.loads(text)) for key, year, text in rows}
        return {key: found[key] for key in wanted if key in found}

    async def archive_years(self) -> dict[int, int]:
        """How many bundles the archive of each year holds, oldest year first. Raises StorageUnavailable."""
        rows = await self._query(ARCHIVE_YEARS, (), "reading the archive")
        return {int(year): int(count) for year, count in rows}

    def archived(self, year: int, containing: str | None = None) -> AsyncIterator[Bundle]:
        """Every bundle the archive of ``year`` holds, in the order archived, fetched ``ARCHIVE_PAGE`` at a time.

        No connection is held between pages, so the iteration sees no single snapshot: a bundle archived
        again while it runs can come twice, or not at all if it moved to another year (the migration copies
        with the bot stopped). Raises TypeError/ValueError for a bad ``year`` at once; iterating raises
        StorageUnavailable when the store is closed or the database fails.
        """
        _check_year(year)
        return self._archived_pages(year, containing)

    async def _archived_pages(self, year: int, containing: str | None) -> AsyncIterator[Bundle]:
        after = 0
        while True:
            params = (year, after, containing, containing, ARCHIVE_PAGE)
            rows = await self._query(_ARCHIVED_PAGE, params, "reading the archive")
            for key, _seq, text in rows:
                yield Bundle(key, year, json.loads(text))
            if len(rows) < ARCHIVE_PAGE:
                return
            after = rows[-1][1]

    async def _query(self, query: str, params: Sequence[Any], doing: str) -> list[TupleRow]:
        """The rows of one read-only query on a pooled connection; raises StorageUnavailable naming ``doing``."""
        if self._closing:
            raise StorageUnavailable("the store is closed")
        try:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(query, params)
                return await cursor.fetchall()
        except psycopg.Error as exc:
            raise StorageUnavailable(f"{doing} from PostgreSQL failed ({_reason(exc)})") from exc

    # ----------------------------------------------------------------------------- health

    async def check_writable(self) -> str | None:
        """None when a commit works now, else a short reason (for GET /healthz). Never raises.

        A commit that succeeded in the last ``PROBE_EVERY_SECONDS`` answers for itself.
        """
        if self._closing:
            return "store closed"
        if time.monotonic() - self._last_committed < PROBE_EVERY_SECONDS:
            return None
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
                async with self._pool.connection() as conn:
                    await conn.execute("UPDATE store_probe SET at = now()")
        except TimeoutError:
            return f"PostgreSQL did not answer within {PROBE_TIMEOUT_SECONDS:.0f} s"
        except psycopg.Error as exc:
            return f"PostgreSQL not writable ({_reason(exc)})"
        self._last_committed = time.monotonic()
        return None
