"""A botbuilder ``Storage`` for conversation and user state over the durable store, with eTags."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterable
from typing import Any

from botbuilder.core import Storage

from storage.errors import ConflictError
from storage.repositories import StateRepository, ops_of


class StateConflict(ConflictError, KeyError):
    """The stored state changed since it was read (eTag mismatch); a KeyError like MemoryStorage's."""


class DurableStorage(Storage):
    """Keeps botbuilder state documents durably; each write gets a new ``e_tag``.

    Values must be JSON dicts (what ``BotState`` writes). Writing with an ``e_tag`` other than
    the stored one (or ``"*"``) raises ``StateConflict`` and changes nothing. A write whose
    value equals the stored one touches no file. The eTag is checked against the store's memory; on
    PostgreSQL another replica may have written the state since, and the commit's own check then
    refuses the write (``ConflictError``), raised as ``StateConflict`` too.
    """

    def __init__(self, repository: StateRepository, commit: Any) -> None:
        self._repository = repository
        self._commit = commit

    async def read(self, keys: list[str]) -> dict[str, Any]:
        """The stored values of those keys that exist, as independent copies."""
        if keys is None:
            raise TypeError("keys are required when reading")
        found: dict[str, Any] = {}
        for key in keys:
            doc = self._repository.get(key)
            if doc is not None:
                found[key] = copy.deepcopy(doc["state"]) | {"e_tag": doc["etag"]}
        return found

    async def write(self, changes: dict[str, Any]) -> None:
        """Store every change atomically and durably. Raises StateConflict, StorageUnavailable."""
        if changes is None:
            raise TypeError("changes are required when writing")
        ops = []
        for key, value in changes.items():
            if not isinstance(value, dict):
                raise TypeError(f"state for {key!r} must be a dict, got {type(value).__name__}")
            state = {name: item for name, item in value.items() if name != "e_tag"}
            json.dumps(state)  # refuse what cannot be stored before anything is written
            incoming_etag = value.get("e_tag")
            stored = self._repository.get(key)
            if stored is not None and incoming_etag not in (None, "*") and incoming_etag != stored["etag"]:
                raise StateConflict(f"eTag conflict for state {key!r}")
            if stored is not None and stored["state"] == state:
                continue
            ops.append(self._repository.put(key, {"etag": uuid.uuid4().hex, "state": copy.deepcopy(state)}))
        if ops:
            await self._committed(ops_of(ops), changes)

    async def delete(self, keys: list[str]) -> None:
        """Delete those keys (missing keys are ignored)."""
        ops = [self._repository.delete(key) for key in keys if self._repository.get(key) is not None]
        if ops:
            await self._committed(ops, keys)

    async def _committed(self, ops: list[Any], keys: Iterable[str]) -> None:
        """Commit ``ops``; a write another replica made first is a StateConflict, as a stale eTag is."""
        try:
            await self._commit(ops)
        except StateConflict:
            raise
        except ConflictError as error:
            raise StateConflict(f"state {sorted(keys)!r} changed on another replica") from error
