"""Versioned schema migrations for the PostgreSQL store, applied at start under an advisory lock.

Each ``NNNN_name.sql`` file beside this module is one version, applied once, in order, in its own
transaction, and recorded in ``schema_migrations`` with a checksum of its text. The whole run holds
``pg_advisory_lock(MIGRATION_LOCK)``, so replicas starting together apply each version once: the
others wait for the lock, then find it recorded. A database that records a version this code does not
have (a newer bot ran on it), or whose recorded checksum differs from the file (a migration edited
after it was applied), is refused with ``StorageError``: nothing is changed.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from psycopg import AsyncConnection

from storage.errors import StorageError

logger = logging.getLogger(__name__)

COMMIT_LOCK: Final = 4849336401000001
"""The advisory lock key every commit takes (``store_commit`` in 0001_documents.sql names it in its SQL)."""
MIGRATION_LOCK: Final = 4849336401000002
"""The advisory lock key migrations run under."""
_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True)
class Migration:
    """One version of the schema: its number, name and SQL text."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """sha256 of the SQL text, recorded when applied."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations(directory: Path | None = None) -> list[Migration]:
    """Every migration file in ``directory`` (this package's by default), by version."""
    found = []
    for path in sorted((directory or Path(__file__).parent).glob("*.sql")):
        match = _FILE.fullmatch(path.name)
        if match is None:
            raise StorageError(f"migration file {path.name} is not named NNNN_name.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise StorageError("two migration files share a version number")
    return found


async def migrate(conn: AsyncConnection, known: list[Migration] | None = None) -> list[int]:
    """Apply the migrations the database lacks; the versions applied now (none when up to date).

    ``conn`` must be in autocommit mode. Raises StorageError for a database this code must not touch
    (see the module docstring) and psycopg.Error when the database fails.
    """
    known = migrations() if known is None else known
    await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cursor = await conn.execute("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
        applied = {version: (name, checksum) for version, name, checksum in await cursor.fetchall()}
        by_version = {m.version: m for m in known}
        for version, (name, checksum) in applied.items():
            migration = by_version.get(version)
            if migration is None:
                raise StorageError(
                    f"the database's schema has migration {version:04d}_{name}, which this bot does not know "
                    "(a newer version of the bot migrated it): run that version, or point DATABASE_URL elsewhere"
                )
            if migration.checksum != checksum:
                raise StorageError(
                    f"migration {version:04d}_{name}.sql differs from the one applied to this database; "
                    "an applied migration must never change: add a new one instead"
                )
        done = []
        for migration in known:
            if migration.version in applied:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql.encode())
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
            logger.info("schema migration %04d_%s applied", migration.version, migration.name)
            done.append(migration.version)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
