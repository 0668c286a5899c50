"""The HTTP edge of the ticket-event intake API: ``POST /api/ticket-events``, ``GET /api/openapi.json``.

Checks run in the order DESIGN.md gives: secret configured (503), size (413), signature (401),
JSON (415 / 400), content (400). Valid events go to the injected recorder as one list; the
recorder dedupes, raises incidents and stores. Logs carry event ids and status codes, never bodies.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from domain.records import TicketEvent
from intake.openapi import EVENTS_PATH, OPENAPI_PATH, openapi_document
from intake.signature import SIGNATURE_HEADER, verify
from intake.wire import EventConflictAnswer, EventErrors, parse_events
from services.outcomes import EventConflict
from storage.errors import ConflictError, StorageUnavailable

logger = logging.getLogger(__name__)

Recorder = Callable[[list[TicketEvent]], Awaitable[list[dict[str, Any]] | EventConflict]]
"""Records events in order; returns one ``{"event_id", "status", "incidents"}`` dict per event, or the
``EventConflict`` of an event_id recorded before with another payload (then nothing was recorded)."""

MAX_BODY_BYTES = 1024 * 1024
"""The largest accepted request body (1 MiB)."""

RETRY_AFTER_SECONDS = 60
"""What a 503 from unavailable storage asks the sender to wait before retrying."""

_READ_CHUNK = 64 * 1024


class _BodyTooLarge(Exception):
    """The request body is over ``MAX_BODY_BYTES``."""


def _reject_constant(name: str) -> Any:
    """Refuse NaN and Infinity, which are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


def _error(status: int, message: str, *, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON ``{"error": message}`` response."""
    return web.json_response({"error": message}, status=status, headers=headers)


def _bad_request(errors: list[dict[str, Any]]) -> web.Response:
    """A 400 response listing every problem."""
    return web.json_response({"errors": errors}, status=400)


def _conflict(conflict: EventConflict) -> web.Response:
    """409: the event at ``index`` reuses an event_id recorded before with another payload; nothing was recorded."""
    answer = EventConflictAnswer(
        error="conflict",
        index=conflict.index,
        event_id=conflict.event_id,
        message=(
            "This event_id was recorded before with a different payload; nothing from this request was recorded. "
            "Send the event under a new event_id, or resend the recorded payload unchanged."
        ),
    )
    return web.json_response(answer.model_dump(), status=409)


async def _read_limited(request: web.Request, *, timeout: float = 10.0) -> bytes:
    """The body, reading at most ``MAX_BODY_BYTES + 1`` bytes within ``timeout`` seconds; raises _BodyTooLarge.

    A body that does not arrive in time (a slowloris) is answered 408 at once (aiohttp turns the raised
    HTTPRequestTimeout into the response), so a slow sender cannot hold a connection for long.
    """
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise _BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            while True:
                chunk = await request.content.read(min(_READ_CHUNK, MAX_BODY_BYTES + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise _BodyTooLarge
    except TimeoutError:
        logger.warning("ticket events refused: the body did not arrive within %.0f s; status=408", timeout)
        raise web.HTTPRequestTimeout(
            text=json.dumps({"error": "The request body did not arrive in time."}), content_type="application/json"
        ) from None
    return b"".join(chunks)


class _IntakeHandlers:
    """Request handlers bound to one secret, one recorder and one clock."""

    def __init__(self, secret: str | None, recorder: Recorder, received_now: Callable[[], datetime]) -> None:
        self.secret = secret or None
        self.recorder = recorder
        self.received_now = received_now
        self.openapi_text = json.dumps(openapi_document(), ensure_ascii=False)

    async def post_ticket_events(self, request: web.Request) -> web.Response:
        """Check, parse and record one event or a batch of events."""
        if self.secret is None:
            logger.error("ticket events refused: TICKET_EVENTS_SECRET is not set; status=503")
            return _error(503, "The ticket-event intake is not configured (no signing secret).")
        try:
            body = await _read_limited(request)
        except _BodyTooLarge:
            logger.warning("ticket events refused: body over %d bytes; status=413", MAX_BODY_BYTES)
            return _error(413, f"The request body is over {MAX_BODY_BYTES} bytes.")
        if not verify(self.secret, body, request.headers.get(SIGNATURE_HEADER)):
            logger.warning("ticket events refused: missing or bad %s; status=401", SIGNATURE_HEADER)
            return _error(401, f"Missing or bad {SIGNATURE_HEADER} signature.")
        if request.content_type.lower() != "application/json":
            logger.warning("ticket events refused: content type %r; status=415", request.content_type)
            return _error(415, "The body must be sent as Content-Type: application/json.")
        try:
            payload = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            logger.warning("ticket events refused: body is not valid JSON (%s); status=400", type(exc).__name__)
            return _bad_request([{"index": 0, "field": "body", "message": "The body is not valid UTF-8 JSON."}])
        try:
            events = parse_events(payload, self.received_now())
        except EventErrors as exc:
            logger.warning("ticket events refused: %d problem(s); status=400", len(exc.errors))
            return _bad_request(exc.errors)
        event_ids = [event.event_id for event in events]
        try:
            results = await self.recorder(events)
        except StorageUnavailable:
            logger.exception("ticket events not recorded, storage unavailable: ids=%r; status=503", event_ids)
            return _error(
                503,
                "The events could not be stored just now; nothing was recorded. Please retry.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        except ConflictError:  # another replica wrote one of the same records first (PostgreSQL)
            logger.warning("ticket events not recorded, a concurrent write came first: ids=%r; status=503", event_ids)
            return _error(
                503,
                "The events could not be stored just now; nothing was recorded. Please retry.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        except Exception:
            logger.exception("ticket events failed unexpectedly: ids=%r; status=500", event_ids)
            return _error(500, "An internal error occurred; the events may not have been recorded. Please retry.")
        if isinstance(results, EventConflict):
            logger.warning(
                "ticket events refused: event %d reuses a recorded event_id with another payload; status=409",
                results.index,
            )
            return _conflict(results)
        if len(results) != len(events):
            logger.error(
                "recorder returned %d results for %d events: ids=%r; status=500", len(results), len(events), event_ids
            )
            return _error(500, "An internal error occurred; the events may not have been recorded. Please retry.")
        logger.info(
            "ticket events recorded: ids=%r statuses=%r; status=200",
            event_ids,
            [result.get("status") for result in results],
        )
        return web.json_response({"results": results})

    async def get_openapi(self, request: web.Request) -> web.Response:
        """Serve the OpenAPI document of this API, generated from the wire models (intake/openapi.py)."""
        return web.Response(text=self.openapi_text, content_type="application/json")


def setup_intake_routes(
    app: web.Application,
    *,
    secret: str | None,
    recorder: Recorder,
    received_now: Callable[[], datetime] | None = None,
) -> None:
    """Add POST /api/ticket-events and GET /api/openapi.json to app."""
    handlers = _IntakeHandlers(secret, recorder, received_now or (lambda: datetime.now(UTC)))
    app.router.add_post(EVENTS_PATH, handlers.post_ticket_events)
    app.router.add_get(OPENAPI_PATH, handlers.get_openapi)
