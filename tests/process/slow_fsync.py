"""The slow-fsync shim of the SIGKILL suite: a delay in the store's own journal fsync.

A child process reads ``FSYNC_DELAY_ENV`` (seconds) and hands ``from_env()`` to ``Store.open`` /
``Database.open`` as their ``fsync``: every journal fsync then takes that long, as on a slow or busy
disk, which widens the window between a write being visible in memory and it being durable.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

FSYNC_DELAY_ENV = "JB_TEST_FSYNC_DELAY"
SOAK = os.environ.get("SOAK", "") not in ("", "0")


def from_env() -> Callable[[int], None] | None:
    """A journal fsync slowed by ``$JB_TEST_FSYNC_DELAY`` seconds, or None (the plain ``os.fsync``)."""
    delay = float(os.environ.get(FSYNC_DELAY_ENV, "") or 0)
    if delay <= 0:
        return None

    def slow_fsync(fd: int) -> None:
        time.sleep(delay)
        os.fsync(fd)

    return slow_fsync


def child_env(delay: float) -> dict[str, str]:
    """The environment of a child process whose journal fsync takes ``delay`` seconds (0: unchanged)."""
    env = dict(os.environ)
    env.pop(FSYNC_DELAY_ENV, None)
    if delay > 0:
        env[FSYNC_DELAY_ENV] = str(delay)
    return env
