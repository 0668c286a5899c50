"""``make migrate-to-postgres``: copy an embedded DATA_DIR into an empty PostgreSQL database, then check the counts.

Stop the bot first: the data directory's lock refuses a copy while a bot serves it. The copy is one
transaction under the store's commit lock (no replica can write meanwhile): every document of every
table goes in with COPY, in the order the embedded store keeps them, then every archived bundle of
every year (``DocumentStore.archive_years`` and ``archived``), oldest year first and in each year's
archive order, and either all of it arrives or none does. The database must be empty: a database with
any document or any archived bundle is refused before anything is written, so a second run can never
mix two stores. Afterwards each table's count and each archive year's count in PostgreSQL are compared
with the embedded store's, and the bot started with DATABASE_URL serves the same records.

Exit codes: 0 copied and checked; 2 refused (a bad argument, the database is not empty, a table the
database does not have); 3 the data directory or the database could not be opened; 4 the counts differ.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg import AsyncConnection, sql

from storage.documents import Bundle
from storage.engine import Store
from storage.errors import StorageError
from storage.migrations import COMMIT_LOCK, migrate
from storage.postgres import ARCHIVE_YEARS, describe
from storage.repositories import INDEXES

logger = logging.getLogger("migrate_to_postgres")


class Refused(Exception):
    """The copy must not run; the message says why and what to do."""


class Source(Protocol):
    """What the copy reads of the embedded store: its tables (``storage.engine.Store``'s own ``table_names``)."""

    def table_names(self) -> list[str]: ...

    def keys(self, table: str) -> list[str]: ...

    def get(self, table: str, key: str) -> dict[str, Any] | None: ...

    def count(self, table: str) -> int: ...

    async def archive_years(self) -> dict[int, int]: ...

    def archived(self, year: int) -> AsyncIterator[Bundle]: ...


@dataclass(frozen=True)
class Copied:
    """How many documents each table and bundles each archive year hold, in the embedded store and in PostgreSQL."""

    embedded: dict[str, int]
    postgresql: dict[str, int]
    archive_embedded: dict[int, int] = field(default_factory=dict)
    archive_postgresql: dict[int, int] = field(default_factory=dict)

    @property
    def matches(self) -> bool:
        """Whether every table's and every archive year's counts agree."""
        return self.embedded == self.postgresql and self.archive_embedded == self.archive_postgresql


async def copy_store(store: Source, url: str) -> Copied:
    """Copy every document and archived bundle of ``store`` into the empty database at ``url``.

    Raises Refused (nothing written) when the database is not empty or lacks a table, or when the
    archive holds one key under two years (which the archive contract rules out); psycopg.Error when
    the database fails, and StorageError when the archive cannot be read (nothing is kept either way).
    """
    tables = {name: store.keys(name) for name in store_tables(store)}
    years = await store.archive_years()
    async with await AsyncConnection.connect(url, autocommit=True) as connection:
        await migrate(connection)
        cursor = await connection.execute("SELECT name FROM store_tables")
        known = {name for (name,) in await cursor.fetchall()}
        unknown = sorted(set(tables) - known)
        if unknown:
            raise Refused(f"the database has no table for {', '.join(unknown)}: is it migrated by this version?")
        async with connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(%s)", (COMMIT_LOCK,))
            occupied = {name: count for name, count in (await _counts(connection, known)).items() if count}
            archived = sum((await _archive_counts(connection)).values())
            if archived:
                occupied["the archive"] = archived
            if occupied:
                listed = ", ".join(f"{name} ({count})" for name, count in sorted(occupied.items()))
                raise Refused(f"the database is not empty: {listed}. Copy into a new, empty database")
            seq = 0
            for name, keys in tables.items():
                statement = sql.SQL("COPY {} (key, doc, seq, created) FROM STDIN").format(sql.Identifier(name))
                async with connection.cursor().copy(statement) as copy:
                    for key in keys:
                        seq += 1
                        doc = store.get(name, key)
                        await copy.write_row((key, json.dumps(doc, separators=(",", ":")), seq, seq))
            if seq:
                await connection.execute("SELECT setval('store_seq', %s)", (seq,))
            await _copy_archive(connection, store, list(years))
        counts = await _counts(connection, known)
        archive_counts = await _archive_counts(connection)
    embedded = {name: len(keys) for name, keys in tables.items()}
    return Copied(embedded, {name: counts[name] for name in tables}, years, archive_counts)


async def _copy_archive(connection: AsyncConnection, archive: Source, years: list[int]) -> None:
    """COPY every bundle of each year into ``store_archive``, in archive order (its seq is filled in as it goes)."""
    year_of: dict[str, int] = {}
    statement = "COPY store_archive (key, year, docs) FROM STDIN"
    async with connection.cursor().copy(statement) as copy:
        for year in years:
            async for bundle in archive.archived(year):
                if year_of.setdefault(bundle.key, year) != year:
                    raise Refused(
                        f"the embedded archive holds one bundle key in {year_of[bundle.key]} and in {year}: "
                        "a key lives in one year only; archive it again to keep one copy"
                    )
                await copy.write_row((bundle.key, year, json.dumps(bundle.as_json()["docs"], separators=(",", ":"))))


def store_tables(store: Source) -> list[str]:
    """The tables the embedded store holds documents in (its own bookkeeping table aside)."""
    return [name for name in store.table_names() if store.count(name)]


async def _counts(connection: AsyncConnection, tables: set[str]) -> dict[str, int]:
    """Live documents per table (tombstones aside)."""
    counts: dict[str, int] = {}
    for name in sorted(tables):
        query = sql.SQL("SELECT count(*) FROM {} WHERE doc IS NOT NULL").format(sql.Identifier(name))
        row = await (await connection.execute(query)).fetchone()
        counts[name] = int(row[0]) if row else 0
    return counts


async def _archive_counts(connection: AsyncConnection) -> dict[int, int]:
    """Archived bundles per year, oldest year first."""
    cursor = await connection.execute(ARCHIVE_YEARS)
    return {int(year): int(count) for year, count in await cursor.fetchall()}


async def run(data_dir: Path, url: str) -> int:
    """Open, copy, check and report; the exit code."""
    try:
        store = await Store.open(data_dir, INDEXES)
    except StorageError as error:
        logger.error("the data directory %s could not be opened: %s", data_dir, error)
        return 3
    try:
        copied = await copy_store(store, url)
    except Refused as refusal:
        logger.error("refused, nothing was copied: %s", refusal)
        return 2
    except psycopg.Error as error:
        logger.error("PostgreSQL (%s) failed, nothing was copied: %s", describe(url), type(error).__name__)
        return 3
    except StorageError as error:
        logger.error("the embedded archive could not be read, nothing was copied: %s", error)
        return 3
    finally:
        await store.close()
    width = max(len("archive"), *(len(name) for name in copied.embedded))
    print(f"{'table':<{width}}  {'embedded':>9}  {'postgresql':>10}")
    for name, count in copied.embedded.items():
        print(f"{name:<{width}}  {count:>9}  {copied.postgresql[name]:>10}")
    if copied.archive_embedded or copied.archive_postgresql:
        print(f"{'archive':<{width}}  {'embedded':>9}  {'postgresql':>10}")
        for year in sorted(copied.archive_embedded.keys() | copied.archive_postgresql.keys()):
            embedded, postgresql = copied.archive_embedded.get(year, 0), copied.archive_postgresql.get(year, 0)
            print(f"{year:<{width}}  {embedded:>9}  {postgresql:>10}")
    if not copied.matches:
        logger.error("the counts differ: do not switch the bot to this database")
        return 4
    print(
        f"copied {sum(copied.embedded.values())} documents and {sum(copied.archive_embedded.values())} archived "
        f"bundles into {describe(url)}; counts match"
    )
    print("start the bot with DATABASE_URL set to serve from PostgreSQL")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("DATA_DIR", "./data"), type=Path)
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", ""), help="default: the DATABASE_URL setting"
    )
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    if not arguments.database_url.startswith(("postgresql://", "postgres://")):
        logger.error("set DATABASE_URL (postgresql://user:password@host/database) to the empty database to fill")
        return 2
    if not arguments.data_dir.is_dir():
        logger.error("DATA_DIR %s is not a directory", arguments.data_dir)
        return 2
    return asyncio.run(run(arguments.data_dir, arguments.database_url))


if __name__ == "__main__":
    raise SystemExit(main())
