"""The embedded storage engine every repository sits on.

Tables live in memory as ``table -> key -> JSON document`` with secondary indexes on declared
top-level fields. Durability comes from an fsynced, append-only journal with group commit: one
background writer appends every queued ``write()`` call (one self-checking line each) and makes
them durable with a single fsync in a worker thread. Every ``compact_every`` journal records (and
at close) the tables are written as a snapshot in TinyDB's own JSON file format (temp file, fsync,
rename, fsync of the directory), so ``tinydb.TinyDB(path, access_mode="r")`` can open it, and a
fresh journal generation starts.

Files in ``data_dir`` (all created with mode 0o600, the directory with 0o700):

- ``snapshot.json``: TinyDB JSON. Each table is a TinyDB table whose document ids are positions
  (1, 2, ...); the table ``__engine__`` holds one document with the format version, the journal
  generation that follows the snapshot and, per table, the list of keys by position.
- ``journal.<generation>.log``: one record per ``write()`` call:
  ``<payload length, 8 hex> <CRC32 of payload, 8 hex> <payload JSON>\\n``.
- ``LOCK``: an advisory lock so two processes never append to the same journal.

Recovery loads the snapshot and replays, in order, every journal whose generation is at least the
one the snapshot names. In the newest journal, replay stops at the first bad record: a torn last
record (a crash in the middle of an append) is dropped; if intact records follow the damage, they
are logged as an error and kept in a ``.dropped`` file for inspection. Damage in an older journal
(fully fsynced before the next began) refuses to open.
"""

from __future__ import annotations

import asyncio
import errno as errno_names
import fcntl
import json
import logging
import os
import re
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TextIO

from tinydb.queries import QueryLike

from storage.errors import StorageError, StorageUnavailable

logger = logging.getLogger(__name__)

Doc = dict[str, Any]

META_TABLE: Final = "__engine__"
SNAPSHOT_NAME: Final = "snapshot.json"
SNAPSHOT_FORMAT: Final = 1
_SNAPSHOT_TMP: Final = "snapshot.json.tmp"
_LOCK_NAME: Final = "LOCK"
_PROBE_NAME: Final = "probe.tmp"
_JOURNAL_RE: Final = re.compile(r"^journal\.(\d+)\.log$")
_HEADER_LEN: Final = 18  # "%08x %08x "
_FILE_MODE: Final = 0o600
_DIR_MODE: Final = 0o700
_YIELD_EVERY: Final = 100  # snapshot docs serialized between GIL hand-offs
_INDEXABLE: Final = (str, int, float, bool, type(None))


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
class _Batch:
    """One ``write()`` call on its way to the journal: its record, before-images and future.

    ``future`` is the caller's and may be cancelled by it; ``followers`` are the store's own futures
    waiting for this write (``settled``, ``flush``, writes that changed nothing), settled by the
    writer whatever the caller did with ``future``.
    """

    record: bytes
    undo: list[tuple[str, str, Doc | None]]
    future: asyncio.Future[None]
    followers: list[asyncio.Future[None]] | None = None

    def follow(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        """A new future that settles as this write does (loop thread only)."""
        future: asyncio.Future[None] = loop.create_future()
        if self.followers is None:
            self.followers = []
        self.followers.append(future)
        return future

    def succeeded(self) -> None:
        """The write is durable: resolve its futures."""
        if not self.future.done():
            self.future.set_result(None)
        if self.followers is not None:
            for follower in self.followers:
                if not follower.done():
                    follower.set_result(None)

    def failed(self, reason: str, cause: BaseException) -> None:
        """The write was undone: fail its futures with StorageUnavailable."""
        for future in (self.future, *(self.followers or ())):
            if not future.done():
                error = StorageUnavailable(reason)
                error.__cause__ = cause
                future.set_exception(error)


def journal_name(generation: int) -> str:
    """The file name of the journal of ``generation``."""
    return f"journal.{generation}.log"


def encode_record(payload: bytes) -> bytes:
    """Frame one journal payload as a self-checking line (length, CRC32, payload, newline)."""
    return b"%08x %08x " % (len(payload), zlib.crc32(payload)) + payload + b"\n"


def decode_records(data: bytes) -> tuple[list[bytes], int, int]:
    """Split journal bytes into payloads up to the first bad record.

    Returns the payloads, the length of the valid prefix, and how many intact records follow the
    first bad one (0 for a plain torn tail). Never raises.
    """
    payloads: list[bytes] = []
    pos = 0
    while pos < len(data):
        payload = _record_at(data, pos)
        if payload is None:
            return payloads, pos, _records_after(data, pos)
        payloads.append(payload)
        pos += _HEADER_LEN + len(payload) + 1
    return payloads, pos, 0


def _record_at(data: bytes, pos: int) -> bytes | None:
    """The payload of the record starting at ``pos``, or None if it is incomplete or damaged."""
    header = data[pos : pos + _HEADER_LEN]
    if len(header) < _HEADER_LEN or header[8:9] != b" " or header[17:18] != b" ":
        return None
    try:
        length = int(header[0:8], 16)
        crc = int(header[9:17], 16)
    except ValueError:
        return None
    start = pos + _HEADER_LEN
    end = start + length
    if end >= len(data) or data[end : end + 1] != b"\n":
        return None
    payload = data[start:end]
    if zlib.crc32(payload) != crc:
        return None
    return payload


def _records_after(data: bytes, pos: int) -> int:
    """How many intact records start right after a line break following ``pos``."""
    found = 0
    nl = data.find(b"\n", pos)
    while nl != -1 and nl + 1 < len(data):
        if _record_at(data, nl + 1) is not None:
            found += 1
        nl = data.find(b"\n", nl + 1)
    return found


def _same_json(a: Any, b: Any) -> bool:
    """Equality of JSON values that, unlike ``==``, tells ``True`` from ``1`` and ``1.0``."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_json(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _index_key(value: Any) -> tuple[bool, Any]:
    """The index bucket of a field value (``True`` and ``1`` land in different buckets)."""
    return (value.__class__ is bool, value)


def _fsync_dir(path: Path) -> None:
    """Make renames, creations and deletions inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _open_private(path: Path, flags: int) -> int:
    """Open ``path`` with ``flags``, creating it with mode 0o600 whatever the umask."""
    fd = os.open(path, flags | os.O_CLOEXEC, _FILE_MODE)
    try:
        os.fchmod(fd, _FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write less than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _errno_name(exc: BaseException) -> str:
    """A short, content-free name for an OS error (``ENOSPC``), for logs and health checks."""
    code = getattr(exc, "errno", None)
    if isinstance(code, int):
        return errno_names.errorcode.get(code, str(code))
    return type(exc).__name__


@dataclass
class _Loaded:
    """What recovery found on disk."""

    tables: dict[str, dict[str, Doc]]
    snapshot_generation: int
    journal_generation: int
    journal_valid_size: int
    replayed: int


class Store:
    """An embedded document store: in-memory tables, a group-committed journal, TinyDB snapshots.

    Use from one event loop. Reads are synchronous and never raise for a missing record.
    """

    def __init__(
        self,
        data_dir: Path,
        indexes: Mapping[str, Sequence[str]],
        compact_every: int,
        loaded: _Loaded,
        lock_fd: int,
        fsync: Callable[[int], None] | None = None,
    ) -> None:
        """Build a store from recovered state; use ``Store.open`` instead."""
        self._dir = data_dir
        self._fsync = fsync
        self._compact_every = compact_every
        self._tables = loaded.tables
        self._index_fields: dict[str, tuple[str, ...]] = {t: tuple(f) for t, f in indexes.items()}
        self._indexes: dict[str, dict[str, dict[tuple[bool, Any], dict[str, None]]]] = {
            t: {f: {} for f in fields} for t, fields in self._index_fields.items()
        }
        for table, fields in self._index_fields.items():
            for key, doc in self._tables.get(table, {}).items():
                self._index_add(table, key, doc, fields)
        self._lock_fd = lock_fd
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
    ) -> Store:
        """Create the dir (mode 0o700) if missing, load the snapshot, replay the journal, build indexes.

        A torn last journal record is dropped. ``fsync`` replaces ``os.fsync`` for the journal (tests
        hold it open or slow it down). Raises StorageError if the data directory is in use by another
        process or its files are corrupt, OSError if it cannot be created or read,
        ValueError/TypeError for bad ``indexes`` or ``compact_every``.
        """
        if compact_every < 1:
            raise ValueError("compact_every must be at least 1")
        checked: dict[str, tuple[str, ...]] = {}
        for table, fields in (indexes or {}).items():
            if isinstance(fields, str) or not all(isinstance(f, str) for f in fields):
                raise TypeError(f"indexes[{table!r}] must be a sequence of field names")
            checked[table] = tuple(fields)
        data_dir = Path(data_dir)
        lock_fd, loaded = await asyncio.to_thread(cls._recover, data_dir)
        try:
            store = cls(data_dir, checked, compact_every, loaded, lock_fd, fsync)
        except BaseException:
            os.close(lock_fd)
            raise
        logger.info(
            "store opened: %d tables, %d docs, snapshot generation %d, %d journal records replayed",
            len(loaded.tables),
            sum(len(t) for t in loaded.tables.values()),
            loaded.snapshot_generation,
            loaded.replayed,
        )
        return store

    @staticmethod
    def _recover(data_dir: Path) -> tuple[int, _Loaded]:
        """Lock the directory and rebuild the last committed state from snapshot and journals."""
        if not data_dir.exists():
            data_dir.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
            os.chmod(data_dir, _DIR_MODE)
        lock_fd = _open_private(data_dir / _LOCK_NAME, os.O_RDWR | os.O_CREAT)
        try:
            try:
                fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StorageError("the data directory is in use by another process") from exc
            return lock_fd, Store._load(data_dir)
        except BaseException:
            os.close(lock_fd)
            raise

    @staticmethod
    def _load(data_dir: Path) -> _Loaded:
        """Read the snapshot and replay the journals that follow it."""
        tables: dict[str, dict[str, Doc]] = {}
        snapshot_generation = 0
        snapshot_path = data_dir / SNAPSHOT_NAME
        if snapshot_path.exists():
            tables, snapshot_generation = _read_snapshot(snapshot_path)
        (data_dir / _SNAPSHOT_TMP).unlink(missing_ok=True)
        (data_dir / _PROBE_NAME).unlink(missing_ok=True)
        generations = sorted(int(m.group(1)) for name in os.listdir(data_dir) if (m := _JOURNAL_RE.match(name)))
        for stale in (g for g in generations if g < snapshot_generation):
            try:
                (data_dir / journal_name(stale)).unlink()
            except OSError as exc:
                logger.warning("could not remove stale journal generation %d (%s)", stale, _errno_name(exc))
        live = [g for g in generations if g >= snapshot_generation]
        replayed = 0
        valid_size = 0
        for i, generation in enumerate(live):
            data = (data_dir / journal_name(generation)).read_bytes()
            payloads, valid_size, intact_after = decode_records(data)
            if valid_size != len(data):
                if i != len(live) - 1:
                    # Every record of an older generation was fsynced before the next one began.
                    raise StorageError(f"journal generation {generation} is damaged before a later generation")
                if intact_after:
                    _keep_dropped_tail(data_dir, generation, valid_size, data[valid_size:])
                    logger.error(
                        "journal generation %d is damaged at byte %d; replay stops there, dropping %d "
                        "intact records after it (kept in a .dropped file)",
                        generation,
                        valid_size,
                        intact_after,
                    )
                else:
                    logger.warning(
                        "dropped a torn last journal record (%d bytes) in generation %d",
                        len(data) - valid_size,
                        generation,
                    )
            for payload in payloads:
                _replay(tables, payload)
            replayed += len(payloads)
        journal_generation = live[-1] if live else snapshot_generation
        if not live:
            valid_size = 0
        return _Loaded(tables, snapshot_generation, journal_generation, valid_size, replayed)

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
            os.close(self._lock_fd)
            self._closed = True
            logger.info("store closed")

    # ----------------------------------------------------------------------------- reads

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        """The doc stored under ``key``, or None; callers must not mutate it. Never raises."""
        docs = self._tables.get(table)
        return None if docs is None else docs.get(key)

    def all(self, table: str) -> list[dict[str, Any]]:
        """Every doc of ``table`` in insertion order (a replaced doc keeps its place). Never raises."""
        docs = self._tables.get(table)
        return [] if docs is None else list(docs.values())

    def keys(self, table: str) -> list[str]:
        """Every key of ``table`` in insertion order. Never raises."""
        docs = self._tables.get(table)
        return [] if docs is None else list(docs)

    def count(self, table: str) -> int:
        """How many docs ``table`` holds. Never raises."""
        docs = self._tables.get(table)
        return 0 if docs is None else len(docs)

    def find(self, table: str, field: str, value: Any) -> list[dict[str, Any]]:
        """Docs of ``table`` whose top-level ``field`` equals ``value``, via its index: O(matches).

        Matches come in the order they entered the index (insertion order unless the field's value
        changed). Raises ValueError if no index on ``field`` was declared for ``table``, TypeError if
        ``value`` is not a str, int, float, bool or None (other values are never indexed).
        """
        index = self._indexes.get(table, {}).get(field)
        if index is None:
            raise ValueError(f"no index declared on {table}.{field}")
        if not isinstance(value, _INDEXABLE):
            raise TypeError(f"index lookups take str, int, float, bool or None, not {type(value).__name__}")
        bucket = index.get(_index_key(value))
        if not bucket:
            return []
        docs = self._tables[table]
        return [docs[key] for key in bucket]

    def find_where(self, table: str, query: QueryLike) -> list[dict[str, Any]]:
        """Docs of ``table`` matching a ``tinydb.Query``, by a linear scan (for rare queries).

        Raises whatever the query itself raises (a TinyDB Query raises nothing for missing fields).
        """
        docs = self._tables.get(table)
        if docs is None:
            return []
        return [doc for doc in docs.values() if query(doc)]

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
        end of ``all()`` order until the next open.
        """
        if self._closing:
            raise StorageUnavailable("the store is closed")
        prepared = [self._prepare(op) for op in ops]
        undo: list[tuple[str, str, Doc | None]] = []
        parts: list[bytes] = []
        for table, key, doc, encoded in prepared:
            current = self._tables.get(table, {}).get(key)
            if doc is None:
                if current is None:
                    continue
                parts.append(b'["d",%s,%s]' % (_dumps(table), _dumps(key)))
            else:
                if current is not None and _same_json(current, doc):
                    continue
                parts.append(b'["p",%s,%s,%s]' % (_dumps(table), _dumps(key), encoded))
            undo.append((table, key, current))
            self._set(table, key, doc)
        if not parts:
            return self._settled_future()
        future: asyncio.Future[None] = self._loop.create_future()
        record = encode_record(b"[" + b",".join(parts) + b"]")
        self._queue.append(_Batch(record, undo, future))
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

    def _set(self, table: str, key: str, doc: Doc | None) -> None:
        """Put ``doc`` under ``key`` (or remove the key when ``doc`` is None), keeping indexes."""
        docs = self._tables.setdefault(table, {})
        old = docs.get(key)
        fields = self._index_fields.get(table)
        if fields and old is not None:
            self._index_remove(table, key, old, fields, doc)
        if doc is None:
            docs.pop(key, None)
        else:
            docs[key] = doc
        if fields and doc is not None:
            self._index_add(table, key, doc, fields, old)

    def _index_add(self, table: str, key: str, doc: Doc, fields: Sequence[str], old: Doc | None = None) -> None:
        """Enter ``key`` into the index of every declared field ``doc`` has (unless unchanged)."""
        indexes = self._indexes[table]
        for name in fields:
            if name not in doc or not isinstance(value := doc[name], _INDEXABLE):
                continue
            if old is not None and name in old and _same_json(old[name], value):
                continue
            indexes[name].setdefault(_index_key(value), {})[key] = None

    def _index_remove(self, table: str, key: str, doc: Doc, fields: Sequence[str], new: Doc | None) -> None:
        """Take ``key`` out of the index of every field whose value ``new`` does not keep."""
        indexes = self._indexes[table]
        for name in fields:
            if name not in doc or not isinstance(value := doc[name], _INDEXABLE):
                continue
            if new is not None and name in new and _same_json(new[name], value):
                continue
            bucket_key = _index_key(value)
            bucket = indexes[name].get(bucket_key)
            if bucket is not None:
                bucket.pop(key, None)
                if not bucket:
                    del indexes[name][bucket_key]

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
        for batch in reversed(failed):
            for table, key, before in reversed(batch.undo):
                self._set(table, key, before)
        name = journal_name(self._journal_generation)
        logger.error(
            "journal append to %s failed (%s); %d writes undone and refused", name, _errno_name(exc), len(failed)
        )
        for batch in failed:
            batch.failed(f"the journal write to {name} failed ({_errno_name(exc)})", exc)

    def _append_and_sync(self, data: bytes) -> None:
        """Append ``data`` to the current journal and fsync it (journal thread only).

        Tests replace this to inject faults. On failure the journal is cut back to its last durable
        size (here, or before the next append if that fails too), so failed bytes never precede
        later records. Raises OSError.
        """
        generation = self._journal_generation
        if self._journal_fd is None or self._journal_fd_generation != generation:
            self._close_journal_fd()
            fd = _open_private(self._dir / journal_name(generation), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            try:
                _fsync_dir(self._dir)  # the file's name must be durable too, not just its bytes
                size = os.fstat(fd).st_size
            except BaseException:
                os.close(fd)
                raise
            self._journal_fd, self._journal_fd_generation = fd, generation
            if self._journal_good[0] != generation:  # a new generation: nothing in it to distrust
                self._journal_good = (generation, size)
        fd = self._journal_fd
        good = self._journal_good[1]
        try:
            if os.fstat(fd).st_size != good:
                os.ftruncate(fd, good)
            _write_all(fd, data)
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

    def _begin_snapshot(self) -> tuple[dict[str, dict[str, Doc]], int, int]:
        """Copy the durable state and switch new appends to the next journal generation.

        Runs in the loop thread between groups: memory then holds every durable write plus the
        queued ones, which are subtracted from the copy with their before-images.
        """
        tables = {name: dict(docs) for name, docs in self._tables.items() if docs}
        for batch in reversed(self._queue):
            for table, key, before in reversed(batch.undo):
                docs = tables.setdefault(table, {})
                if before is None:
                    docs.pop(key, None)
                else:
                    docs[key] = before
        self._journal_generation += 1
        return tables, self._journal_generation, self._unsnapshotted

    async def _compact(self, tables: dict[str, dict[str, Doc]], generation: int, folded: int) -> None:
        """Write a snapshot in the background; the writer keeps appending meanwhile."""
        try:
            await self._run_snapshot(tables, generation, folded)
        finally:
            self._compaction_task = None

    async def _run_snapshot(self, tables: dict[str, dict[str, Doc]], generation: int, folded: int) -> None:
        """Write the snapshot in the snapshot thread; on failure keep the journals and retry later."""
        try:
            await self._loop.run_in_executor(self._snapshot_executor, self._write_snapshot, tables, generation)
        except Exception as exc:  # OSError mostly; a failed snapshot must never lose the writer or close
            self._next_compaction_at = self._unsnapshotted + self._compact_every
            logger.error("snapshot failed (%s); the journal keeps every write", _errno_name(exc))
            return
        self._unsnapshotted -= folded
        self._next_compaction_at = self._compact_every
        logger.info("snapshot written; journal generation %d follows it", generation)

    def _write_snapshot(self, tables: dict[str, dict[str, Doc]], generation: int) -> None:
        """Write ``tables`` as TinyDB JSON atomically, then drop the journals it folded in.

        Snapshot thread only. Raises OSError.
        """
        path = self._dir / SNAPSHOT_NAME
        tmp = self._dir / _SNAPSHOT_TMP
        try:
            fd = _open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            with open(fd, "w", encoding="ascii", buffering=1 << 20) as out:
                write_tinydb_json(out, tables, generation)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(self._dir)
        for name in os.listdir(self._dir):
            match = _JOURNAL_RE.match(name)
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
        """None when a durable write works now, else a short reason (for GET /healthz). Never raises."""
        if self._closing:
            return "store closed"
        try:
            await self._loop.run_in_executor(self._journal_executor, self._probe)
        except OSError as exc:
            return f"data directory not writable ({_errno_name(exc)})"
        except RuntimeError:  # executor shut down by a concurrent close
            return "store closed"
        return None

    def _probe(self) -> None:
        """Write and fsync a small probe file, and check the journal can be synced (journal thread)."""
        path = self._dir / _PROBE_NAME
        fd = _open_private(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            _write_all(fd, b"ok\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        path.unlink(missing_ok=True)
        self._append_and_sync(b"")


def _keep_dropped_tail(data_dir: Path, generation: int, offset: int, tail: bytes) -> None:
    """Save journal bytes that replay skipped for a person to inspect (mode 0o600). Never raises."""
    path = data_dir / f"{journal_name(generation)}.{offset}.dropped"
    try:
        fd = _open_private(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            _write_all(fd, tail)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        logger.error("could not keep the dropped journal bytes (%s)", _errno_name(exc))


def _dumps(value: Any) -> bytes:
    """Compact JSON bytes of ``value``."""
    return json.dumps(value, separators=(",", ":")).encode()


def _replay(tables: dict[str, dict[str, Doc]], payload: bytes) -> None:
    """Apply one journal record to ``tables``. Raises StorageError if it cannot be understood."""
    try:
        ops = json.loads(payload)
        for op in ops:
            if op[0] == "p":
                tables.setdefault(op[1], {})[op[2]] = op[3]
            elif op[0] == "d":
                tables.get(op[1], {}).pop(op[2], None)
            else:
                raise ValueError(op[0])
    except (ValueError, IndexError, TypeError, KeyError) as exc:
        raise StorageError("a journal record has a valid checksum but cannot be understood") from exc


def write_tinydb_json(out: TextIO, tables: Mapping[str, Mapping[str, Doc]], generation: int) -> None:
    """Stream ``tables`` to the text file ``out`` as TinyDB JSON (ASCII), with the engine's meta table."""
    keys = {name: list(docs) for name, docs in tables.items() if docs}
    meta = {"format": SNAPSHOT_FORMAT, "journal_generation": generation, "keys": keys}
    out.write('{"%s": {"1": %s}' % (META_TABLE, json.dumps(meta)))
    for name, docs in tables.items():
        if not docs:
            continue
        out.write(", %s: {" % json.dumps(name))
        for position, doc in enumerate(docs.values(), start=1):
            out.write('%s"%d": %s' % (", " if position > 1 else "", position, json.dumps(doc)))
            if position % _YIELD_EVERY == 0:
                time.sleep(0)  # let the event loop's thread take the GIL: writers stay quick
        out.write("}")
    out.write("}\n")


def _read_snapshot(path: Path) -> tuple[dict[str, dict[str, Doc]], int]:
    """Load a snapshot into tables; return them and the journal generation that follows it.

    Raises StorageError if the file is not a snapshot this engine wrote.
    """
    try:
        with open(path, encoding="ascii") as handle:
            raw = json.load(handle)
        meta = raw.pop(META_TABLE)["1"]
        if meta["format"] != SNAPSHOT_FORMAT:
            raise ValueError(f"unknown snapshot format {meta['format']!r}")
        generation = int(meta["journal_generation"])
        tables: dict[str, dict[str, Doc]] = {}
        for name, docs in raw.items():
            table_keys = meta["keys"][name]
            if len(table_keys) != len(docs):
                raise ValueError(f"table {name!r}: key list and documents differ in length")
            tables[name] = {table_keys[int(doc_id) - 1]: doc for doc_id, doc in docs.items()}
    except (ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError) as exc:
        raise StorageError("the snapshot file is unreadable") from exc
    return tables, generation
