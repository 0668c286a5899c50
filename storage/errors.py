"""Errors the storage layer raises; every repository documents which of these it may raise."""


class StorageError(Exception):
    """Storage could not do what was asked; ``user_message`` is safe to show a person."""

    user_message = "The bot could not reach its records just now. Nothing was changed; please try again."


class StorageUnavailable(StorageError):
    """A write could not be made durable (disk full, read-only data directory, I/O error).

    Nothing of the failed write is kept, in memory or on disk.
    """

    user_message = "The bot could not save that just now (its data store refused the write). Nothing was changed; please try again in a few minutes."


class ConflictError(StorageError):
    """An optimistic-concurrency check failed: the record changed since it was read (eTag mismatch)."""

    user_message = "Someone else changed this at the same moment. Nothing was changed; please try again."
