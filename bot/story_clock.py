"""Local mode only: a clock the demo and the end-to-end tests can move forward (never back).

The SOP's rules need time to pass: an officer is ready only a week after their first accepted
e-ticket, and only e-tickets issued after monitoring began count. A demo of that in ten minutes, and
an end-to-end test of it, move the bot's clock forward between ticket events with a signed
``POST /api/local/clock {"to": "<ISO 8601 instant>"}`` (the intake's secret signs it). The route
exists only in local mode, which binds loopback; a bot with a Microsoft App Id has no such clock.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web

from intake.signature import SIGNATURE_HEADER, verify

logger = logging.getLogger(__name__)

CLOCK_PATH = "/api/local/clock"


class StoryClock:
    """The current instant plus an offset that only grows."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        """Now, as the story has it."""
        return datetime.now(UTC) + self.offset

    def move_to(self, instant: datetime) -> datetime:
        """Move the story's now to ``instant`` when it lies ahead (never back); returns the story's now."""
        ahead = instant - self()
        if ahead > timedelta(0):
            self.offset += ahead
        return self()


def story_clock_handler(clock: StoryClock, secret: str | None) -> Callable[[web.Request], Awaitable[web.Response]]:
    """POST /api/local/clock: move the story clock forward (signed like the intake)."""

    async def move(request: web.Request) -> web.Response:
        body = await request.read()
        if not secret:
            return web.json_response({"error": "TICKET_EVENTS_SECRET is not set"}, status=503)
        if not verify(secret, body, request.headers.get(SIGNATURE_HEADER)):
            return web.json_response({"error": "bad or missing signature"}, status=401)
        try:
            instant = datetime.fromisoformat(str(json.loads(body)["to"]))
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": 'body must be {"to": "<ISO 8601 instant with offset>"}'}, status=400)
        if instant.tzinfo is None:
            return web.json_response({"error": "to must carry a UTC offset"}, status=400)
        now = clock.move_to(instant)
        logger.info("story clock moved to %s", now.isoformat())
        return web.json_response({"now": now.isoformat()})

    return move
