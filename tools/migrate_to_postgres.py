"""``make migrate-to-postgres``: copy an embedded DATA_DIR into an empty PostgreSQL database, then check the counts.

Stop the bot first: the data directory's lock refuses a copy while a bot serves it. The copy is one
transaction under the store's commit lock (no replica can write meanwhile): every document of every
table goes in with COPY, in the order the embedded store keeps them, and either all of them arrive or
none does. The database must be empty: a database with any document is refused before anything is
written, so a second run can never mix two stores. Afterwards each table's count in PostgreSQL is
compared with the embedded store's, and the bot started with DATABASE_URL serves the same records.

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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import AsyncConnection, sql

from storage.engine import Store
from storage.errors import StorageError
from storage.migrations import COMMIT_LOCK, migrate
from storage.postgres import describe
from storage.repositories import INDEXES

logger = logging.getLogger("migrate_to_postgres")


class Refused(Exception):
    """The copy must not run; the message says why and what to do."""


@dataclass(frozen=True)
class Copied:
    """How many documents each table holds, in the embedded store and in PostgreSQL after the copy."""

    embedded: dict[str, int]
    postgresql: dict[str, int]

    @property
    def matches(self) -> bool:
        return self.embedded == self.postgresql


async def copy_store(store: Store, url: str) -> Copied:
    """Copy every document of ``store`` into the empty database at ``url``; raises Refused, psycopg.Error."""
    tables = {name: store.keys(name) for name in store_tables(store)}
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
        counts = await _counts(connection, known)
    embedded = {name: len(keys) for name, keys in tables.items()}
    return Copied(embedded, {name: counts[name] for name in tables})


def store_tables(store: Store) -> list[str]:
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
    finally:
        await store.close()
    width = max((len(name) for name in copied.embedded), default=5)
    print(f"{'table':<{width}}  {'embedded':>9}  {'postgresql':>10}")
    for name, count in copied.embedded.items():
        print(f"{name:<{width}}  {count:>9}  {copied.postgresql[name]:>10}")
    if not copied.matches:
        logger.error("the counts differ: do not switch the bot to this database")
        return 4
    print(f"copied {sum(copied.embedded.values())} documents into {describe(url)}; counts match")
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
