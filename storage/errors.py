"""Errors the storage layer raises; every repository documents which of these it may raise."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")

CONFLICT_ATTEMPTS = 3
"""How many times work runs when another replica keeps changing its records first."""


class StorageError(Exception):
    """Storage could not do what was asked; ``user_message`` is safe to show a person."""

    user_message = "The bot could not reach its records just now. Nothing was changed; please try again."


class StorageUnavailable(StorageError):
    """A write could not be made durable (disk full, read-only data directory, I/O error).

    Nothing of the failed write is kept, in memory or on disk.
    """

    user_message = "The bot could not save that just now (its data store refused the write). Nothing was changed; please try again in a few minutes."


RECOVER_HINT = (
    "Nothing was changed. To start with the damage set aside (kept in .dropped files, the rest loaded), "
    "run the bot with --recover or set STORAGE_RECOVER=1, then look at what /healthz reports."
)


class StorageDamaged(StorageError):
    """A data file is damaged or missing (anything but a torn last journal record): the store will not open.

    ``file`` is the file's name in the data directory, ``offset`` the byte where the damage starts
    (None when the whole file is missing), ``what`` what is wrong. The message says all three and
    what to do; it never holds record contents.
    """

    def __init__(self, file: str, offset: int | None, what: str) -> None:
        self.file = file
        self.offset = offset
        self.what = what
        super().__init__(f"storage damaged: {self.where_what}. {RECOVER_HINT}")

    @property
    def where_what(self) -> str:
        """``<file> at byte <offset>: <what>`` (or without the offset when the whole file is missing)."""
        where = self.file if self.offset is None else f"{self.file} at byte {self.offset}"
        return f"{where}: {self.what}"


class ConflictError(StorageError):
    """An optimistic-concurrency check failed: the record changed since it was read (eTag mismatch)."""

    user_message = "Someone else changed this at the same moment. Nothing was changed; please try again."


async def decide_again_on_conflict(
    work: Callable[[], Awaitable[T]], catch_up: Callable[[], Awaitable[object]], attempts: int = CONFLICT_ATTEMPTS
) -> T:
    """Run ``work``; when its commit raised ``ConflictError`` (another replica committed a change to one of its
    records first, nothing of this one kept), read what that replica wrote and run it again.

    Raises the last ``ConflictError`` after ``attempts`` runs.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except ConflictError:
            if attempt == attempts:
                raise
            logger.info("a record changed on another replica meanwhile; deciding again (attempt %d)", attempt + 1)
            await catch_up()
    raise AssertionError("unreachable")
