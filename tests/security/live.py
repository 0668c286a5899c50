"""The whole app (create_app) served on 127.0.0.1 from its own thread and event loop.

For clients that block (schemathesis's requests transport): they cannot share the test's loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from aiohttp import web

from settings import Settings

T = TypeVar("T")


class LiveApp:
    """Start with ``LiveApp(settings).start()``; ``base_url``; ``run(coro_fn)`` runs code in the app's loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base_url = ""
        self.app: web.Application | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="live-app", daemon=True)
        self._runner: web.AppRunner | None = None

    def start(self) -> LiveApp:
        from app import create_app

        self._thread.start()

        async def up() -> None:
            self.app = create_app(self.settings)
            self._runner = web.AppRunner(self.app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            port = self._runner.addresses[0][1]
            self.base_url = f"http://127.0.0.1:{port}"

        self.run(up)
        return self

    def run(self, work: Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
        """Run ``work()`` in the app's loop and wait for its result."""
        future: Future[Any] = asyncio.run_coroutine_threadsafe(work(), self._loop)  # type: ignore[arg-type]
        return future.result(timeout)

    def stop(self) -> None:
        if self._runner is not None:
            self.run(self._runner.cleanup)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
