"""Composition root: settings → storage → adapter → bot → routes.

``python app.py`` starts the bot; ``create_app(settings)`` builds it for tests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web
from botbuilder.core import ConversationState
from botbuilder.integration.aiohttp import CloudAdapter

from bot.adapter import build_adapter
from bot.features import build_bot
from bot.outbox import OutboxSender
from bot.scheduler import ReadinessScheduler
from bot.state_storage import DurableStorage
from bot.teams_bot import JbBot
from domain.records import TicketEvent
from intake.api import setup_intake_routes
from presentation.notifier import Notifier
from presentation.presenter import Presenter
from services.context import AppContext
from services.tickets import EventResult, record_events
from settings import Settings, SettingsError
from storage.errors import StorageError
from storage.repositories import Database

logger = logging.getLogger("jb_eticket_bot")

SETTINGS = web.AppKey("settings", Settings)
CONTEXT = web.AppKey("context", AppContext)
ADAPTER = web.AppKey("adapter", CloudAdapter)
BOT = web.AppKey("bot", JbBot)
OUTBOX = web.AppKey("outbox", OutboxSender)

MAX_ACTIVITY_BYTES = 256 * 1024
SHUTDOWN_GRACE = 5.0
"""Seconds a stop (SIGINT, SIGTERM) waits for requests in flight before cancelling them (aiohttp's default is 60)."""
CONNECTOR_THREADS = 32


def wire(settings: Settings, db: Database, *, wakeup: asyncio.Event | None = None) -> AppContext:
    """The use cases' context over an open database: the presenter and the notifier, built once.

    ``wakeup`` is the outbox sender's signal; the notifier sets it when it queues something.
    """
    notifier = Notifier(
        db, Presenter(settings.timezone), settings.jb_staff_ids, wake=wakeup.set if wakeup else lambda: None
    )
    return AppContext(settings=settings, db=db, notifier=notifier)


async def _runtime(app: web.Application) -> AsyncIterator[None]:
    """Open storage, build the adapter and the bot; close storage on shutdown."""
    settings = app[SETTINGS]
    # botbuilder's connector sends every reply with blocking `requests` in the default executor
    # (min(32, cores + 4) threads); replies wait on the network, so give them room to overlap.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=CONNECTOR_THREADS, thread_name_prefix="connector")
    )
    db = await Database.open(settings.data_dir)
    wakeup = asyncio.Event()
    context = wire(settings, db, wakeup=wakeup)
    conversation_state = ConversationState(DurableStorage(db.state, db.commit))
    adapter = build_adapter(settings)
    outbox = OutboxSender(context, adapter, wakeup=wakeup)
    app[CONTEXT] = context
    app[ADAPTER] = adapter
    app[BOT] = build_bot(context, conversation_state)
    app[OUTBOX] = outbox
    released = await context.release_all()
    if released:
        logger.info("released %d waiting notices at start", released)
    outbox.start()
    scheduler = ReadinessScheduler(context)
    scheduler.start()
    logger.info("storage open at %s", settings.data_dir)
    try:
        yield
    finally:
        await scheduler.stop()
        await outbox.stop()
        await db.close()
        logger.info("storage closed")


async def messages(request: web.Request) -> web.StreamResponse:
    """POST /api/messages: Bot Framework activities through the CloudAdapter."""
    if "application/json" not in request.headers.get("Content-Type", ""):
        return web.json_response({"error": "Content-Type must be application/json"}, status=415)
    body = await request.read()
    if len(body) > MAX_ACTIVITY_BYTES:
        return web.json_response({"error": "activity too large"}, status=413)
    try:
        activity = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return web.json_response({"error": "body is not valid JSON"}, status=400)
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        return web.json_response({"error": "body is not an activity"}, status=400)
    response = await request.app[ADAPTER].process(request, request.app[BOT])
    return response if response is not None else web.Response(status=201)


async def healthz(request: web.Request) -> web.Response:
    """GET /healthz: 200 when storage can write now, else 503 with the reason."""
    problem = await request.app[CONTEXT].db.check_writable()
    if problem is None:
        return web.json_response({"status": "ok", "storage": "ok"})
    return web.json_response({"status": "unavailable", "storage": problem}, status=503)


def result_doc(result: EventResult) -> dict[str, Any]:
    """One event's result as the intake API answers it."""
    incidents = [
        {"id": i.id, "kind": i.kind.value, "ticket_number": i.ticket_number, "officer_number": i.officer_number}
        for i in result.incidents
    ]
    return {"event_id": result.event_id, "status": result.status, "incidents": incidents}


def create_app(settings: Settings) -> web.Application:
    """The aiohttp application with every route; storage opens on startup."""
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_runtime)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)

    async def recorder(events: list[TicketEvent]) -> list[dict[str, Any]]:
        return [result_doc(result) for result in await record_events(app[CONTEXT], events)]

    setup_intake_routes(app, secret=settings.ticket_events_secret, recorder=recorder)
    return app


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("aiohttp.access", "msrest", "azure"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main() -> None:
    """Read settings, say which mode the bot runs in, and serve until stopped."""
    _configure_logging()
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        logger.critical("invalid setting: %s", error)
        raise SystemExit(2) from None
    if settings.local_mode:
        banner = "=" * 72
        logger.warning(
            "\n%s\nLOCAL MODE: MicrosoftAppId is not set, so requests are NOT authenticated.\n"
            "Use this only with the Microsoft 365 Agents Playground on this machine.\n%s",
            banner,
            banner,
        )
    if not settings.jb_staff_ids:
        logger.warning("JB_STAFF_IDS is empty: nobody can acknowledge or approve")
    if not settings.ticket_events_secret:
        logger.warning("TICKET_EVENTS_SECRET is not set: POST /api/ticket-events answers 503")
    logger.info("listening on port %d, data in %s", settings.port, settings.data_dir)
    loop = asyncio.new_event_loop()
    _stop_on_signals(loop)
    try:
        web.run_app(
            create_app(settings),
            host="0.0.0.0",
            port=settings.port,
            print=None,
            shutdown_timeout=SHUTDOWN_GRACE,
            handle_signals=False,
            loop=loop,
        )
    except StorageError as error:
        logger.critical("storage could not be opened at %s: %s", settings.data_dir, type(error).__name__)
        raise SystemExit(3) from None
    logger.info("stopped")


def _stop_on_signals(loop: asyncio.AbstractEventLoop) -> None:
    """SIGINT and SIGTERM stop the bot gracefully (exit code 0); another one while it stops is noted, not obeyed.

    aiohttp's own handlers raise GracefulExit (exit code 1) out of run_app at a second signal, cutting the
    shutdown short with a traceback, and ``make run`` then prints ``Error 1``. The stop is bounded anyway:
    requests in flight get ``SHUTDOWN_GRACE`` seconds.
    """
    stopping: list[str] = []

    def stop(sig: signal.Signals) -> None:
        if stopping:
            logger.info("%s: already stopping (requests in flight get at most %.0f s)", sig.name, SHUTDOWN_GRACE)
            return
        stopping.append(sig.name)
        logger.info("%s: stopping", sig.name)
        raise web.GracefulExit()  # out of run_app's loop, which then shuts the app down

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig)


if __name__ == "__main__":
    main()
