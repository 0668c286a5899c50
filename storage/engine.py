"""The embedded storage engine every repository sits on.

Tables live in memory as ``table -> key -> JSON document`` with secondary indexes on declared
top-level fields. Durability comes from an fsynced, append-only journal with group commit: one
background writer appends every queued ``write()`` call (one self-checking line each) and makes
them durable with a single fsync in a worker thread. Every ``compact_every`` journal records (and
at close) the tables are written as a checksummed snapshot in TinyDB's own JSON file format (temp
file, fsync, rename, fsync of the directory), so ``tinydb.TinyDB(path, access_mode="r")`` can open
it, and a fresh journal generation starts.

The files and their formats are in ``storage/files.py``; how opening checks them against the
directory's manifest, refuses damage and (asked to) recovers from it is in ``storage/recovery.py``.
A write is visible in memory at once and durable later; ``settled()`` waits for the latter.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from tinydb.queries import QueryLike

from storage.archive_files import (
    YearIndex,
    archive_name,
    bundle_lines,
    index_name,
    parse_line,
    read_bundle,
    write_year,
)
from storage.documents import Bundle, PendingWrite, WorkingSet, same_json
from storage.errors import StorageUnavailable
from storage.files import (
    JOURNAL_RE,
    MANIFEST_NAME,
    META_TABLE,
    PROBE_NAME,
    SNAPSHOT_NAME,
    ArchiveEntry,
    Doc,
    Unreadable,
    encode_record,
    errno_name,
    journal_header,
    journal_name,
    open_private,
    write_all,
    write_atomically,
    write_snapshot_file,
)
from storage.recovery import Loaded, open_directory

__all__ = [
    "MANIFEST_NAME",
    "META_TABLE",
    "SNAPSHOT_NAME",
    "Delete",
    "Op",
    "Put",
    "Store",
    "encode_record",
    "journal_name",
]

logger = logging.getLogger(__name__)

PROBE_EVERY_SECONDS: Final = 5.0
"""How long a successful journal fsync stands in for a /healthz probe."""


@dataclass(frozen=True)
class Put:
    """Store ``doc`` (a JSON object) under ``key`` in ``table``, replacing any earlier doc."""

    table: str
    key: str
    doc: dict[str, Any]


@dataclass(frozen=True)
class Delete:
    """Remove the doc under ``key`` from ``table`` (nothing happens if there is none)."""

    table: str
    key: str


Op = Put | Delete


@dataclass
class _Batch(PendingWrite):
    """One ``write()`` call on its way to the journal: its record and before-images, with its futures."""

    record: bytes = b""
    undo: list[tuple[str, str, Doc | None]] = field(default_factory=list)


class Store:
    """An embedded document store: in-memory tables, a group-committed journal, TinyDB snapshots.

    Use from one event loop. Reads are synchronous and never raise for a missing record.
    """

    def __init__(
        self,
        data_dir: Path,
        indexes: Mapping[str, Sequence[str]],
        compact_every: int,
        loaded: Loaded,
        lock_fds: list[int],
        fsync: Callable[[int], None] | None = None,
        packed: frozenset[str] = frozenset(),
    ) -> None:
        """Build a store from recovered state; use ``Store.open`` instead."""
        self._dir = data_dir
        self._fsync = fsync
        self._compact_every = compact_every
        self._memory = WorkingSet(indexes, loaded.tables, packed)
        self._archives: dict[int, tuple[ArchiveEntry, YearIndex]] = loaded.archives
        self._archive_lock = asyncio.Lock()  # one archive pass at a time; reads wait for its files to be named
        self._lock_fds = lock_fds
        self._manifest = loaded.manifest
        self._recovered = loaded.recovered
        self._loop = asyncio.get_running_loop()
        # Journal file state: touched only in the journal thread (and before/after the writer runs).
        self._journal_generation = loaded.journal_generation
        self._journal_fd: int | None = None
        self._journal_fd_generation: int | None = None
        self._journal_good: tuple[int, int] = (loaded.journal_generation, loaded.journal_valid_size)
        # Writer state: touched only in the loop thread.
        self._queue: list[_Batch] = []
        self._inflight: list[_Batch] = []
        self._wakeup = asyncio.Event()
        self._closing = False
        self._closed = False
        self._close_task: asyncio.Task[None] | None = None
        self._unsnapshotted = loaded.replayed
        self._next_compaction_at = compact_every
        self._compaction_task: asyncio.Task[None] | None = None
        self._journal_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-journal")
        self._last_synced = float("-inf")  # monotonic time of the last successful journal fsync
        self._snapshot_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-snapshot")
        self._writer_task = asyncio.create_task(self._writer_loop(), name="store-writer")

    # ----------------------------------------------------------------------------- lifecycle

    @classmethod
    async def open(
        cls,
        data_dir: Path,
        indexes: Mapping[str, Sequence[str]] | None = None,
        *,
        compact_every: int = 10_000,
        fsync: Callable[[int], None] | None = None,
        recover: bool = False,
        packed: Sequence[str] = (),
    ) -> Store:
        """Create the dir (mode 0o700) if missing, lock it, load the snapshot, replay the journals, build indexes.

        A torn last journal record is dropped with a warning. Any other damage, or a file the
        manifest lists that is missing, raises StorageDamaged (naming the file, the byte offset and
        what to do) unless ``recover`` is set: then the damage is set aside and ``recovered`` says
        what (storage/recovery.py). ``fsync`` replaces ``os.fsync`` for the journal (tests hold it
        open or slow it down). Raises StorageError if the data directory is in use by another
        process, StorageUnavailable if it cannot be created, read or written (naming the file and
        the errno), ValueError/TypeError for bad ``indexes`` or ``compact_every``. Tables named in
        ``packed`` keep their docs as JSON text in memory (``storage.documents.WorkingSet``).
        """
        if compact_every < 1:
            raise ValueError("compact_every must be at least 1")
        checked: dict[str, tuple[str, ...]] = {}
        for table, fields in (indexes or {}).items():
            if isinstance(fields, str) or not all(isinstance(f, str) for f in fields):
                raise TypeError(f"indexes[{table!r}] must be a sequence of field names")
            checked[table] = tuple(fields)
        data_dir = Path(data_dir)
        lock_fds, loaded = await asyncio.to_thread(open_directory, data_dir, recover, frozenset(packed))
        try:
            store = cls(data_dir, checked, compact_every, loaded, lock_fds, fsync, frozenset(packed))
        except BaseException:
            for fd in lock_fds:
                os.close(fd)
            raise
        logger.info(
            "store opened: %d tables, %d docs, snapshot generation %d, %d journal records replayed",
            len(loaded.tables),
            sum(len(t) for t in loaded.tables.values()),
            loaded.snapshot_generation,
            loaded.replayed,
        )
        return store

    @property
    def recovered(self) -> str | None:
        """None normally; after an open with ``recover`` that found damage, what was set aside and why."""
        return self._recovered

    async def close(self) -> None:
        """Flush pending writes, write a final snapshot and stop the writer; idempotent.

        Never raises for a failed flush or snapshot: each write's own future carries its error,
        and a failed final snapshot leaves the journal, which the next open replays.
        """
        if self._close_task is None:
            self._close_task = asyncio.create_task(self._close(), name="store-close")
        await asyncio.shield(self._close_task)

    async def _close(self) -> None:
        """Drain the writer, wait for compaction, snapshot, release files and threads."""
        self._closing = True
        self._wakeup.set()
        try:
            await self._writer_task
            if self._compaction_task is not None:
                await self._compaction_task
            if self._unsnapshotted > 0:
                tables, generation, folded = self._begin_snapshot()
                await self._run_snapshot(tables, generation, folded)
            await self._loop.run_in_executor(self._journal_executor, self._close_journal_fd)
        finally:
            self._journal_executor.shutdown(wait=False)
            self._snapshot_executor.shutdown(wait=False)
            for fd in self._lock_fds:
                os.close(fd)
            self._closed = True
            logger.info("store closed")

    # ----------------------------------------------------------------------------- reads

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        """The doc stored under ``key``, or None; callers must not mutate it. Never raises."""
        return self._memory.get(table, key)

    def all(self, table: str) -> list[dict[str, Any]]:
        """Every doc of ``table`` in insertion order (a replaced doc keeps its place). Never raises."""
        return self._memory.all(table)

    def keys(self, table: str) -> list[str]:
        """Every key of ``table`` in insertion order. Never raises."""
        return self._memory.keys(table)

    def table_names(self) -> list[str]:
        """Every table that holds or held a doc, in the order first written. Never raises."""
        return [name for name in self._memory.table_names() if name != META_TABLE]

    def count(self, table: str) -> int:
        """How many docs ``table`` holds. Never raises."""
        return self._memory.count(table)

    def newest(self, table: str) -> dict[str, Any] | None:
        """The doc whose key entered ``table`` last (a replaced doc keeps its place), or None. Never raises."""
        return self._memory.newest(table)

    def find(self, table: str, field: str, value: Any) -> list[dict[str, Any]]:
        """Docs of ``table`` whose top-level ``field`` equals ``value``, via its index: O(matches).

        Matches come in the order they entered the index (insertion order unless the field's value
        changed). Raises ValueError if no index on ``field`` was declared for ``table``, TypeError if
        ``value`` is not a str, int, float, bool or None (other values are never indexed).
        """
        return self._memory.find(table, field, value)

    def find_where(self, table: str, query: QueryLike) -> list[dict[str, Any]]:
        """Docs of ``table`` matching a ``tinydb.Query``, by a linear scan (for rare queries).

        Raises whatever the query itself raises (a TinyDB Query raises nothing for missing fields).
        """
        return self._memory.find_where(table, query)

    async def catch_up(self) -> int:
        """Nothing to apply: no other process writes this data directory (it holds the directory's lock)."""
        return 0

    # ----------------------------------------------------------------------------- the archive

    async def archive(self, bundles: Sequence[Bundle]) -> int:
        """Move bundles into the yearly archive files, then out of memory (``DocumentStore.archive``).

        Each year the bundles belong to (and each year that held one of their keys before) gets its
        next archive generation, written and fsynced in the snapshot thread and then named in
        ``manifest.json``; only then are the bundles' documents deleted from memory, by one journal
        write. Raises StorageUnavailable when a file cannot be written (nothing then leaves memory).
        """
        if self._closing:
            raise StorageUnavailable("the store is closed")
        async with self._archive_lock:
            if len({bundle.key for bundle in bundles}) != len(bundles):
                raise ValueError("archive() takes each bundle key once")
            held = [(bundle, self._raws(bundle)) for bundle in bundles]
            if not held:
                return 0
            by_year: dict[int, list[Bundle]] = {}
            for bundle, _ in held:
                by_year.setdefault(bundle.year, []).append(bundle)
            keys = {bundle.key for bundle, _ in held}
            moved_from = {
                year for year, (_, index) in self._archives.items() if any(index.offsets_of(key) for key in keys)
            }
            plan = {year: by_year.get(year, []) for year in sorted(set(by_year) | moved_from)}
            try:
                written = await self._loop.run_in_executor(self._snapshot_executor, self._write_archives, plan, keys)
            except (OSError, Unreadable) as exc:
                logger.error("archiving failed (%s); every bundle stays in memory", errno_name(exc))
                raise StorageUnavailable(f"the archive could not be written ({errno_name(exc)})") from exc
            for year, (entry, index) in written.items():
                if entry is None:
                    self._archives.pop(year, None)
                else:
                    self._archives[year] = (entry, index)
            left = [
                bundle
                for bundle, raws in held
                if raws is not None and all(self._memory.raw(t, k) is raw for t, k, raw in raws)
            ]
            await self.write(
                [Delete(table, key) for bundle in left for table, docs in bundle.docs.items() for key in docs]
            )
            logger.info("archived %d bundles (%d stay in memory: changed meanwhile)", len(held), len(held) - len(left))
            return len(left)

    def _raws(self, bundle: Bundle) -> list[tuple[str, str, Doc | str]] | None:
        """What memory keeps of each of the bundle's docs, if every one is there as the bundle has it; else None."""
        raws: list[tuple[str, str, Doc | str]] = []
        for table, docs in bundle.docs.items():
            for key, doc in docs.items():
                raw = self._memory.raw(table, key)
                if raw is None or not (raw is doc or same_json(json.loads(raw) if isinstance(raw, str) else raw, doc)):
                    return None
                raws.append((table, key, raw))
        return raws

    def _write_archives(
        self, plan: Mapping[int, Sequence[Bundle]], keys: set[str]
    ) -> dict[int, tuple[ArchiveEntry | None, YearIndex]]:
        """Write each planned year's next generation, name them in the manifest, delete the old ones (snapshot thread)."""
        written: dict[int, tuple[ArchiveEntry | None, YearIndex]] = {}
        for year, add in plan.items():
            old = self._archives.get(year)
            generation = old[0].generation + 1 if old is not None else 1
            written[year] = write_year(self._dir, year, generation, old[0] if old else None, keys, add)
        self._manifest.archives_written({year: entry for year, (entry, _) in written.items()})
        for year in plan:
            old = self._archives.get(year)
            if old is not None:
                (self._dir / archive_name(year, old[0].generation)).unlink(missing_ok=True)
                (self._dir / index_name(year, old[0].generation)).unlink(missing_ok=True)
        return written

    async def read_archived(self, keys: Iterable[str]) -> dict[str, Bundle]:
        """The archived bundles of ``keys``: an index look-up in memory, then one line read for each key found."""
        wanted = list(dict.fromkeys(keys))
        if not any(index.offsets_of(key) for key in wanted for _, index in self._archives.values()):
            return {}
        async with self._archive_lock:  # the files named now stay until this read is done
            spots = [
                (key, entry, offset)
                for key in wanted
                for entry, index in self._archives.values()
                for offset in index.offsets_of(key)
            ]
            try:
                read = await asyncio.to_thread(lambda: [(key, read_bundle(self._dir, e, o)) for key, e, o in spots])
            except (OSError, Unreadable) as exc:
                raise StorageUnavailable(f"the archive could not be read ({errno_name(exc)})") from exc
        return {key: bundle for key, bundle in read if bundle.key == key}

    async def archive_years(self) -> dict[int, int]:
        """How many bundles each year's archive holds (from the manifest), oldest year first."""
        return {year: entry.bundles for year, (entry, _) in sorted(self._archives.items())}

    async def archived(self, year: int, containing: str | None = None) -> AsyncIterator[Bundle]:
        """Every bundle of ``year``'s archive in the order archived, read in the background 500 lines at a time.

        With ``containing``, a line is parsed only if it holds that text.
        """
        found = self._archives.get(year)
        if found is None:
            return
        lines: Iterator[tuple[int, bytes]] = bundle_lines(self._dir / archive_name(year, found[0].generation))
        wanted = None if containing is None else containing.encode()

        def next_page() -> list[Bundle] | None:
            page = list(itertools.islice(lines, 500))
            if not page:
                return None
            return [parse_line(line) for _, line in page if wanted is None or wanted in line]

        try:
            while (page := await asyncio.to_thread(next_page)) is not None:
                for bundle in page:
                    yield bundle
        except (OSError, Unreadable, ValueError, KeyError, TypeError) as exc:
            raise StorageUnavailable(f"the archive of {year} could not be read ({errno_name(exc)})") from exc

    # ----------------------------------------------------------------------------- writes

    def write(self, ops: Sequence[Op]) -> asyncio.Future[None]:
        """Apply ``ops`` to memory now and return a future that resolves once they are durable.

        Memory changes before this returns, so a read-check-write with no ``await`` in between is
        atomic with respect to other coroutines. Ops that change nothing (a Put of an equal doc, a
        Delete of a missing key) are dropped; if nothing is left the future is already done (or, if
        earlier writes are still on their way to disk, follows the last of them) and no file is
        touched. One call is atomic on disk: all of its ops or none survive a crash.

        Raises (synchronously, nothing applied) TypeError/ValueError for a malformed op, a doc that
        is not a JSON object or a reserved table name, and StorageUnavailable once the store is
        closing. The future fails with StorageUnavailable if the journal append or fsync failed; the
        changes of that write, and of every write queued after it, are then undone in memory.
        Cancelling the future does not undo the write. An undone Delete puts its doc back at the
        end of ``all()`` order until the next open. Another coroutine that reads these changes
        before they are durable can wait for them with ``settled()``.
        """
        if self._closing:
            raise StorageUnavailable("the store is closed")
        prepared = [self._prepare(op) for op in ops]
        undo: list[tuple[str, str, Doc | None]] = []
        parts: list[bytes] = []
        for table, key, doc, encoded in prepared:
            current = self._memory.get(table, key)
            if doc is None:
                if current is None:
                    continue
                parts.append(b'["d",%s,%s]' % (_dumps(table), _dumps(key)))
            else:
                if current is not None and same_json(current, doc):
                    continue
                parts.append(b'["p",%s,%s,%s]' % (_dumps(table), _dumps(key), encoded))
            undo.append((table, key, current))
            self._memory.set(table, key, doc)
        if not parts:
            return self._settled_future()
        future: asyncio.Future[None] = self._loop.create_future()
        record = encode_record(b"[" + b",".join(parts) + b"]")
        self._queue.append(_Batch(future, record=record, undo=undo))
        self._wakeup.set()
        return future

    def _prepare(self, op: Op) -> tuple[str, str, Doc | None, bytes]:
        """Check one op and, for a Put, normalize its doc through JSON (what a reopen would load)."""
        if not isinstance(op, (Put, Delete)):
            raise TypeError(f"write() takes Put and Delete ops, not {type(op).__name__}")
        if not isinstance(op.table, str) or not op.table:
            raise ValueError("table must be a non-empty string")
        if op.table == META_TABLE:
            raise ValueError(f"table name {META_TABLE!r} is reserved")
        if not isinstance(op.key, str):
            raise TypeError("key must be a string")
        if isinstance(op, Delete):
            return op.table, op.key, None, b""
        if not isinstance(op.doc, dict):
            raise TypeError("doc must be a dict (a JSON object)")
        encoded = json.dumps(op.doc, allow_nan=False, separators=(",", ":")).encode()
        return op.table, op.key, json.loads(encoded), encoded

    def _settled_future(self) -> asyncio.Future[None]:
        """A future for a write that changed nothing: done now, or following pending writes."""
        pending = self._last_pending()
        if pending is None:
            future: asyncio.Future[None] = self._loop.create_future()
            future.set_result(None)
            return future
        return pending.follow(self._loop)

    def _last_pending(self) -> _Batch | None:
        """The newest write not yet durable (queued or being synced), or None."""
        if self._queue:
            return self._queue[-1]
        return self._inflight[-1] if self._inflight else None

    def settled(self, table: str, *keys: str) -> asyncio.Future[None]:
        """A future that resolves once what ``get(table, key)`` shows now for each key is durable.

        It follows the newest write not yet durable that touched one of the keys (writes become
        durable in order, so the earlier ones are then durable too), and is already done when there
        is none. It fails with StorageUnavailable if that write could not be made durable: its
        changes were then undone, so what was read from memory was never stored. Never touches the
        disk; never raises itself.
        """
        wanted = set(keys)
        for pending in (self._queue, self._inflight):
            for batch in reversed(pending):
                for touched_table, touched_key, _ in batch.undo:
                    if touched_key in wanted and touched_table == table:
                        return batch.follow(self._loop)
        future: asyncio.Future[None] = self._loop.create_future()
        future.set_result(None)
        return future

    # ----------------------------------------------------------------------------- writer

    async def _writer_loop(self) -> None:
        """Group commit: append every queued write at once, fsync once, then settle their futures."""
        while True:
            if not self._queue:
                if self._closing:
                    return
                await self._wakeup.wait()
                self._wakeup.clear()
                continue
            group = self._inflight = self._queue
            self._queue = []
            data = b"".join(batch.record for batch in group)
            try:
                await self._loop.run_in_executor(self._journal_executor, self._append_and_sync, data)
            except Exception as exc:  # OSError mostly; anything else must not lose the writer either
                self._fail(group, exc)
                continue
            finally:
                self._inflight = []
            self._last_synced = time.monotonic()
            for batch in group:
                batch.succeeded()
            self._unsnapshotted += len(group)
            if self._compaction_task is None and self._unsnapshotted >= self._next_compaction_at:
                tables, generation, folded = self._begin_snapshot()
                self._compaction_task = asyncio.create_task(
                    self._compact(tables, generation, folded), name="store-compaction"
                )

    def _fail(self, group: list[_Batch], exc: Exception) -> None:
        """Undo a failed group and every write queued after it, newest first; fail their futures."""
        failed = group + self._queue
        self._queue = []
        self._last_synced = float("-inf")  # a refused write: /healthz probes again at once
        for batch in reversed(failed):
            for table, key, before in reversed(batch.undo):
                self._memory.set(table, key, before)
        name = journal_name(self._journal_generation)
        logger.error(
            "journal append to %s failed (%s); %d writes undone and refused", name, errno_name(exc), len(failed)
        )
        error = StorageUnavailable(f"the journal write to {name} failed ({errno_name(exc)})")
        for batch in failed:
            batch.failed(error, exc)

    def _append_and_sync(self, data: bytes) -> None:
        """Append ``data`` to the current journal and fsync it (journal thread only).

        Tests replace this to inject faults. A new generation's file is created with its header
        record (temp file, fsync, rename) and listed in the manifest before anything is appended to
        it. On failure the journal is cut back to its last durable size (here, or before the next
        append if that fails too), so failed bytes never precede later records. Raises OSError, also
        when the journal file was deleted or replaced under the running store (ESTALE).
        """
        generation = self._journal_generation
        name = journal_name(generation)
        if self._journal_fd is None or self._journal_fd_generation != generation:
            self._close_journal_fd()
            if not (self._dir / name).exists():
                header = journal_header(generation)
                write_atomically(self._dir, name, header)
                self._journal_good = (generation, len(header))
            fd = open_private(self._dir / name, os.O_WRONLY | os.O_APPEND)
            try:
                size = os.fstat(fd).st_size
            except BaseException:
                os.close(fd)
                raise
            self._journal_fd, self._journal_fd_generation = fd, generation
            if self._journal_good[0] != generation:  # a new generation: nothing in it to distrust
                self._journal_good = (generation, size)
        fd = self._journal_fd
        good = self._journal_good[1]
        self._manifest.add_journal(generation, good)  # a no-op once listed
        try:
            on_disk = os.stat(self._dir / name).st_ino
        except FileNotFoundError:
            on_disk = None
        if on_disk != os.fstat(fd).st_ino:
            raise OSError(errno.ESTALE, f"{name} was deleted or replaced while the store had it open")
        try:
            if os.fstat(fd).st_size != good:
                os.ftruncate(fd, good)
            write_all(fd, data)
            if self._fsync is None:
                os.fsync(fd)
            else:
                self._fsync(fd)
        except OSError:
            try:
                os.ftruncate(fd, good)
            except OSError:
                pass  # retried before the next append
            raise
        self._journal_good = (generation, good + len(data))

    def _close_journal_fd(self) -> None:
        """Close the open journal file, if any (journal thread, or after the writer stopped)."""
        if self._journal_fd is not None:
            fd, self._journal_fd, self._journal_fd_generation = self._journal_fd, None, None
            os.close(fd)

    # ----------------------------------------------------------------------------- compaction

    def _begin_snapshot(self) -> tuple[dict[str, dict[str, Doc | str]], int, int]:
        """Copy the durable state and switch new appends to the next journal generation.

        Runs in the loop thread between groups: memory then holds every durable write plus the
        queued ones, which are subtracted from the copy with their before-images.
        """
        tables = self._memory.copy()
        for batch in reversed(self._queue):
            for table, key, before in reversed(batch.undo):
                docs = tables.setdefault(table, {})
                if before is None:
                    docs.pop(key, None)
                else:
                    docs[key] = before
        self._journal_generation += 1
        return tables, self._journal_generation, self._unsnapshotted

    async def _compact(self, tables: dict[str, dict[str, Doc | str]], generation: int, folded: int) -> None:
        """Write a snapshot in the background; the writer keeps appending meanwhile."""
        try:
            await self._run_snapshot(tables, generation, folded)
        finally:
            self._compaction_task = None

    async def _run_snapshot(self, tables: dict[str, dict[str, Doc | str]], generation: int, folded: int) -> None:
        """Write the snapshot in the snapshot thread; on failure keep the journals and retry later."""
        try:
            await self._loop.run_in_executor(self._snapshot_executor, self._write_snapshot, tables, generation)
        except Exception as exc:  # OSError mostly; a failed snapshot must never lose the writer or close
            self._next_compaction_at = self._unsnapshotted + self._compact_every
            logger.error("snapshot to %s failed (%s); the journal keeps every write", SNAPSHOT_NAME, errno_name(exc))
            return
        self._unsnapshotted -= folded
        self._next_compaction_at = self._compact_every
        logger.info("snapshot written; journal generation %d follows it", generation)

    def _write_snapshot(self, tables: dict[str, dict[str, Doc | str]], generation: int) -> None:
        """Write ``tables`` as the checksummed TinyDB snapshot atomically, list it, then drop the journals it folded in.

        Snapshot thread only. Raises OSError.
        """
        entry = write_snapshot_file(self._dir, tables, generation)
        self._manifest.snapshot_written(entry, self._journal_good)
        for name in os.listdir(self._dir):
            match = JOURNAL_RE.match(name)
            if match and int(match.group(1)) < generation:
                (self._dir / name).unlink(missing_ok=True)

    async def flush(self) -> None:
        """Wait until every write made so far has settled and no snapshot is being written.

        Never raises: failed writes report through their own futures.
        """
        pending = self._last_pending()
        if pending is not None:
            await asyncio.wait([pending.follow(self._loop)])
        while self._compaction_task is not None:
            await asyncio.wait([self._compaction_task])

    # ----------------------------------------------------------------------------- health

    async def check_writable(self) -> str | None:
        """None when a durable write works now, else a short reason (for GET /healthz). Never raises.

        A journal fsync that succeeded in the last ``PROBE_EVERY_SECONDS`` answers for itself: a flood of
        health checks costs no fsync on the journal thread, so it cannot slow the writes behind it.
        """
        if self._closing:
            return "store closed"
        if time.monotonic() - self._last_synced < PROBE_EVERY_SECONDS:
            return None
        try:
            await self._loop.run_in_executor(self._journal_executor, self._probe)
        except OSError as exc:
            return f"data directory not writable ({errno_name(exc)})"
        except RuntimeError:  # executor shut down by a concurrent close
            return "store closed"
        return None

    def _probe(self) -> None:
        """Write and fsync a small probe file, and check the journal can be synced (journal thread)."""
        path = self._dir / PROBE_NAME
        fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            write_all(fd, b"ok\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        path.unlink(missing_ok=True)
        self._append_and_sync(b"")


def _dumps(value: Any) -> bytes:
    """Compact JSON bytes of ``value``."""
    return json.dumps(value, separators=(",", ":")).encode()
