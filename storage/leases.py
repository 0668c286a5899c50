"""Leases on the embedded store: one process serves its data directory (it holds the directory's lock), so it
holds every duty and every conversation's delivery right."""

from __future__ import annotations


class SingleProcessLeases:
    """Every lease is this process's: the data directory's lock already keeps a second process out."""

    def __init__(self) -> None:
        self._asked: dict[str, bool] = {}

    async def lead(self, duty: str) -> bool:
        """Always: no other process can serve this data directory."""
        self._asked[duty] = True
        return True

    def leading(self) -> dict[str, bool]:
        """Every duty asked about, all held."""
        return dict(self._asked)

    async def claim(self, conversation_id: str, seconds: float) -> bool:
        """Always: no other process delivers from this data directory."""
        return True

    async def release(self, conversation_id: str) -> None:
        """Nothing to give back."""

    async def close(self) -> None:
        """Nothing to give up: the duties end with the process."""
