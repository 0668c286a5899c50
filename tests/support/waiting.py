"""Waiting for the bot's background work (the outbox sender) to reach a state, without fixed sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def settled(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "the expected state") -> None:
    """Return as soon as ``predicate()`` holds (checked every 10 ms); fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"never reached {what} within {timeout:.0f} s")
        await asyncio.sleep(0.01)
