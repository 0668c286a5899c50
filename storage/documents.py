"""What the repositories need of a document store, and the in-memory working set a store keeps.

``DocumentStore`` is the interface ``storage.repositories`` is typed against: the embedded store
(``storage.engine.Store``) and the PostgreSQL store (``storage.postgres.PgStore``) both implement it.
Reads are synchronous against memory and never raise for a missing record; ``write`` applies its ops
to memory at once and returns a future that resolves once they are durable (and fails with
``StorageUnavailable``, or ``ConflictError`` on PostgreSQL, after undoing them in memory).

``WorkingSet`` is the PostgreSQL store's memory: ``table -> key -> doc`` with secondary indexes on
declared top-level fields, with the embedded store's semantics (``storage/engine.py``): insertion
order, a replaced doc keeps its place, ``True`` and ``1`` in different index buckets.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

from tinydb.queries import QueryLike

from storage.errors import StorageError

if TYPE_CHECKING:
    from storage.engine import Op

Doc = dict[str, Any]
INDEXABLE: Final = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Bundle:
    """Documents that move into the archive together and are found again by ``key`` (a ticket and its events).

    ``year`` names the archive that holds it (the ticket's year of issue); ``docs`` is ``table -> key -> doc``.
    """

    key: str
    year: int
    docs: Mapping[str, Mapping[str, Doc]]

    def as_json(self) -> Doc:
        """The bundle as one JSON document (how the archives store it)."""
        return {"key": self.key, "year": self.year, "docs": {table: dict(docs) for table, docs in self.docs.items()}}

    @classmethod
    def from_json(cls, doc: Doc) -> Bundle:
        """The bundle stored as ``doc`` (``as_json``'s form)."""
        return cls(str(doc["key"]), int(doc["year"]), {table: dict(docs) for table, docs in doc["docs"].items()})


class DocumentStore(Protocol):
    """Tables of JSON documents by key, read from memory, written durably (see the module docstring)."""

    @property
    def recovered(self) -> str | None:
        """None normally; after an open that set damage aside, what and why (GET /healthz)."""
        ...

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        """The doc stored under ``key``, or None; callers must not mutate it."""
        ...

    def all(self, table: str) -> list[dict[str, Any]]:
        """Every doc of ``table`` in insertion order."""
        ...

    def keys(self, table: str) -> list[str]:
        """Every key of ``table`` in insertion order."""
        ...

    def count(self, table: str) -> int:
        """How many docs ``table`` holds."""
        ...

    def newest(self, table: str) -> dict[str, Any] | None:
        """The doc whose key entered ``table`` last (a replaced doc keeps its place), or None."""
        ...

    def find(self, table: str, field: str, value: Any) -> list[dict[str, Any]]:
        """Docs whose top-level ``field`` equals ``value``, via its index (ValueError: no such index)."""
        ...

    def find_where(self, table: str, query: QueryLike) -> list[dict[str, Any]]:
        """Docs matching a ``tinydb.Query``, by a linear scan."""
        ...

    def write(self, ops: Sequence[Op]) -> asyncio.Future[None]:
        """Apply ``ops`` to memory now; the future resolves once they are durable."""
        ...

    def settled(self, table: str, *keys: str) -> asyncio.Future[None]:
        """Resolves once what ``get`` shows now for each key is durable."""
        ...

    async def flush(self) -> None:
        """Wait until every write made so far has settled."""
        ...

    async def close(self) -> None:
        """Flush pending writes and release the store; idempotent."""
        ...

    async def check_writable(self) -> str | None:
        """None when a durable write works now, else a short reason (GET /healthz). Never raises."""
        ...

    async def catch_up(self) -> int:
        """Apply what other replicas committed since the last look; how many documents changed in memory."""
        ...

    # The archive: what leaves memory for good but stays readable on demand (a closed ticket of years ago).

    async def archive(self, bundles: Sequence[Bundle]) -> int:
        """Move each bundle durably into the archive of its year, then out of memory; how many left memory.

        A bundle is written to the archive first and removed from memory after (a durable write like any
        other), so a crash in between leaves it in both: memory is always newer, and archiving it again
        replaces its archived copy. A bundle whose documents are no longer in memory as given (a write
        changed one meanwhile) is archived but stays in memory, where it shadows its archived copy.
        """
        ...

    async def read_archived(self, keys: Iterable[str]) -> dict[str, Bundle]:
        """The bundles the archive holds under ``keys`` (any copy of their documents in memory is newer)."""
        ...

    async def archive_years(self) -> dict[int, int]:
        """How many bundles the archive of each year holds, oldest year first."""
        ...

    def archived(self, year: int, containing: str | None = None) -> AsyncIterator[Bundle]:
        """Every bundle the archive of ``year`` holds, in the order archived (for a copy to another store).

        With ``containing``, only bundles whose stored JSON text holds that text (a cheap pre-filter:
        the caller checks the bundles it gets, e.g. ``'"9000:A1234"'`` for one officer's tickets).
        """
        ...


def same_json(a: Any, b: Any) -> bool:
    """Equality of JSON values that, unlike ``==``, tells ``True`` from ``1`` and ``1.0``."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _index_key(value: Any) -> tuple[bool, Any]:
    """The index bucket of a field value (``True`` and ``1`` land in different buckets)."""
    return (value.__class__ is bool, value)


@dataclass
class PendingWrite:
    """One ``write()`` call on its way to durability: the caller's future and the store's own followers.

    ``future`` is the caller's and may be cancelled by it; ``followers`` are the store's own futures
    waiting for this write (``settled``, ``flush``, writes that changed nothing), settled whatever the
    caller did with ``future``. Loop thread only.
    """

    future: asyncio.Future[None]
    followers: list[asyncio.Future[None]] | None = field(default=None, kw_only=True)

    def follow(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        """A new future that settles as this write does."""
        future: asyncio.Future[None] = loop.create_future()
        if self.followers is None:
            self.followers = []
        self.followers.append(future)
        return future

    def succeeded(self) -> None:
        """The write is durable: resolve its futures."""
        for future in (self.future, *(self.followers or ())):
            if not future.done():
                future.set_result(None)

    def failed(self, error: StorageError, cause: BaseException | None) -> None:
        """The write was undone: fail its futures (each with its own copy of the error)."""
        for future in (self.future, *(self.followers or ())):
            if not future.done():
                copy = type(error)(*error.args)
                copy.__cause__ = cause
                future.set_exception(copy)


def pack(doc: Doc) -> str:
    """A doc as the compact JSON text a packed table keeps (ASCII: a snapshot line can hold it as it is)."""
    return json.dumps(doc, separators=(",", ":"))


class WorkingSet:
    """In-memory tables with secondary indexes on declared top-level fields. Reads never raise for a missing record.

    A table named in ``packed`` keeps each doc as its JSON text (``pack``) and parses it on every
    read: a third of the memory of the parsed doc, for a big table read a few docs at a time (ticket
    events). ``raw`` gives what is kept, text or doc, to tell whether a doc is still the one read.
    """

    def __init__(
        self,
        indexes: Mapping[str, Sequence[str]],
        tables: dict[str, dict[str, Any]] | None = None,
        packed: Iterable[str] = (),
    ) -> None:
        """Empty tables, or ``tables`` as loaded (kept, not copied; a packed table's docs may be docs or texts), indexed."""
        self._tables: dict[str, dict[str, Any]] = {} if tables is None else tables
        self._packed = frozenset(packed)
        self._index_fields: dict[str, tuple[str, ...]] = {t: tuple(f) for t, f in indexes.items()}
        self._indexes: dict[str, dict[str, dict[tuple[bool, Any], dict[str, None]]]] = {
            t: {f: {} for f in fields} for t, fields in self._index_fields.items()
        }
        for table in self._packed & self._tables.keys():
            docs = self._tables[table]
            fields = self._index_fields.get(table)
            for key, value in docs.items():
                if not isinstance(value, str):  # replayed from the journal, or read from an older snapshot
                    docs[key] = pack(value)
                if fields:
                    self._index_add(table, key, self._read(table, docs[key]), fields, None)
        for table, fields in self._index_fields.items():
            if table not in self._packed:
                for key, doc in self._tables.get(table, {}).items():
                    self._index_add(table, key, doc, fields, None)

    def _read(self, table: str, value: Any) -> Doc:
        return json.loads(value) if table in self._packed else value

    def table_names(self) -> list[str]:
        """Every table that holds or held a doc, in the order first written."""
        return list(self._tables)

    def copy(self) -> dict[str, dict[str, Doc | str]]:
        """A shallow copy of every table that holds a doc, as kept: a packed table's docs as their texts.

        The docs themselves are never changed in place.
        """
        return {name: dict(docs) for name, docs in self._tables.items() if docs}

    def raw(self, table: str, key: str) -> Doc | str | None:
        """What is kept under ``key``: the doc, or its text in a packed table; None if nothing."""
        docs = self._tables.get(table)
        return None if docs is None else docs.get(key)

    def get(self, table: str, key: str) -> Doc | None:
        """The doc under ``key``, or None."""
        docs = self._tables.get(table)
        if docs is None or (value := docs.get(key)) is None:
            return None
        return self._read(table, value)

    def all(self, table: str) -> list[Doc]:
        """Every doc of ``table`` in insertion order (a replaced doc keeps its place)."""
        docs = self._tables.get(table)
        if docs is None:
            return []
        if table in self._packed:
            return [json.loads(value) for value in docs.values()]
        return list(docs.values())

    def keys(self, table: str) -> list[str]:
        """Every key of ``table`` in insertion order."""
        docs = self._tables.get(table)
        return [] if docs is None else list(docs)

    def count(self, table: str) -> int:
        """How many docs ``table`` holds."""
        docs = self._tables.get(table)
        return 0 if docs is None else len(docs)

    def newest(self, table: str) -> Doc | None:
        """The doc whose key entered ``table`` last, or None."""
        docs = self._tables.get(table)
        return self._read(table, next(reversed(docs.values()))) if docs else None

    def find(self, table: str, field: str, value: Any) -> list[Doc]:
        """Docs whose ``field`` equals ``value``, in the order they entered the index.

        Raises ValueError if no index on ``field`` was declared for ``table``, TypeError if ``value``
        is not a str, int, float, bool or None.
        """
        index = self._indexes.get(table, {}).get(field)
        if index is None:
            raise ValueError(f"no index declared on {table}.{field}")
        if not isinstance(value, INDEXABLE):
            raise TypeError(f"index lookups take str, int, float, bool or None, not {type(value).__name__}")
        bucket = index.get(_index_key(value))
        if not bucket:
            return []
        docs = self._tables[table]
        if table in self._packed:
            return [json.loads(docs[key]) for key in bucket]
        return [docs[key] for key in bucket]

    def find_where(self, table: str, query: QueryLike) -> list[Doc]:
        """Docs matching a ``tinydb.Query``, by a linear scan."""
        return [doc for doc in self.all(table) if query(doc)]

    def set(self, table: str, key: str, doc: Doc | None) -> None:
        """Put ``doc`` under ``key`` (or remove the key when ``doc`` is None), keeping indexes."""
        docs = self._tables.setdefault(table, {})
        fields = self._index_fields.get(table)
        old = docs.get(key)
        if fields and old is not None:
            old = self._read(table, old)
            self._index_remove(table, key, old, fields, doc)
        if doc is None:
            docs.pop(key, None)
        else:
            docs[key] = pack(doc) if table in self._packed else doc
        if fields and doc is not None:
            self._index_add(table, key, doc, fields, old)

    def _index_add(self, table: str, key: str, doc: Doc, fields: Sequence[str], old: Doc | None) -> None:
        indexes = self._indexes[table]
        for name in fields:
            if name not in doc or not isinstance(value := doc[name], INDEXABLE):
                continue
            if old is not None and name in old and same_json(old[name], value):
                continue
            indexes[name].setdefault(_index_key(value), {})[key] = None

    def _index_remove(self, table: str, key: str, doc: Doc, fields: Sequence[str], new: Doc | None) -> None:
        indexes = self._indexes[table]
        for name in fields:
            if name not in doc or not isinstance(value := doc[name], INDEXABLE):
                continue
            if new is not None and name in new and same_json(new[name], value):
                continue
            bucket_key = _index_key(value)
            bucket = indexes[name].get(bucket_key)
            if bucket is not None:
                bucket.pop(key, None)
                if not bucket:
                    del indexes[name][bucket_key]
