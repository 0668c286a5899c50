"""A background loop that does one round of work now and then again after a pause, and outlives a bad round."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.ports import Leases
from storage.errors import StorageError

logger = logging.getLogger(__name__)

FOLLOWER_PAUSE = 15.0
"""Seconds between a follower's asks for the duty: how soon it takes over from a leader that died."""


class Periodic:
    """Runs ``round()`` at start (or ``first_pause`` seconds after) and then after each ``pause()``; a failed round is logged and the next one tries.

    A round in progress when the loop stops is cancelled: each round commits all or nothing. With
    ``leases``, a round runs only on the replica that holds the duty named ``name``; the others ask
    again every ``FOLLOWER_PAUSE`` seconds and take over when the leader is gone.
    """

    name = "periodic"
    first_pause = 0.0
    """Seconds before the first round (0: at start)."""

    def __init__(self, leases: Leases | None = None) -> None:
        self._task: asyncio.Task[None] | None = None
        self._leases = leases
        self.runs = 0
        self.following = False

    async def round(self) -> None:
        """One round of work (subclasses)."""
        raise NotImplementedError

    def pause(self) -> float:
        """Seconds until the next round (subclasses)."""
        raise NotImplementedError

    def start(self) -> None:
        """Start the loop."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Stop the loop; a round in progress is cancelled (its commit is all or nothing)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self) -> None:
        """One round, if this replica holds the duty; a failure is logged and the next round tries again."""
        if self._leases is not None:
            leading = await self._leases.lead(self.name)
            if leading and self.following:
                logger.info("%s: this replica took the duty over", self.name)
            self.following = not leading
            if self.following:
                return
        try:
            await self.round()
        except StorageError as error:
            logger.warning("%s round failed in storage: %s", self.name, type(error).__name__)
        except Exception:  # the loop must outlive one bad round
            logger.exception("%s round failed", self.name)
        self.runs += 1

    async def _run(self) -> None:
        if self.first_pause:
            await asyncio.sleep(self.first_pause)
        while True:
            await self.run_once()
            await asyncio.sleep(FOLLOWER_PAUSE if self.following else self.pause())
