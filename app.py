"""Composition root: settings → storage → adapter → bot → routes.

``python app.py`` starts the bot; ``create_app(settings)`` builds it for tests.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import hmac
import json
import logging
import signal
import sys
import time
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from aiohttp import web
from botbuilder.core import ConversationState
from botbuilder.integration.aiohttp import CloudAdapter

from bot.activity_shape import activity_problem
from bot.adapter import build_adapter
from bot.archive_scheduler import ArchiveScheduler
from bot.clock_scheduler import ClockScheduler
from bot.features import build_bot
from bot.identity import identity_refusal
from bot.outbox import OutboxSender
from bot.roster import RefreshAudience
from bot.scheduler import ReadinessScheduler
from bot.state_storage import DurableStorage
from bot.story_clock import CLOCK_PATH, StoryClock, story_clock_handler
from bot.teams_bot import JbBot
from domain.records import TicketEvent
from exports.api import setup_export_routes
from intake.api import EVENTS_PATH, setup_intake_routes
from presentation.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from presentation.metrics import Metrics
from presentation.notifier import Notifier
from presentation.presenter import Presenter
from services.archive import refresh_stale_figures
from services.context import AppContext
from services.tickets import EventConflict, EventResult, backfill_states, record_events
from settings import Settings, SettingsError
from storage.errors import StorageError
from storage.postgres import describe
from storage.repositories import Database

logger = logging.getLogger("jb_eticket_bot")

SETTINGS = web.AppKey("settings", Settings)
CONTEXT = web.AppKey("context", AppContext)
ADAPTER = web.AppKey("adapter", CloudAdapter)
BOT = web.AppKey("bot", JbBot)
OUTBOX = web.AppKey("outbox", OutboxSender)
METRICS = web.AppKey("metrics", Metrics)

MAX_ACTIVITY_BYTES = 256 * 1024
BODY_READ_TIMEOUT = 10.0
"""Seconds a request body may take to arrive; a slower one is cut off with 408 (slowloris)."""
SHUTDOWN_GRACE = 5.0
"""Seconds a stop (SIGINT, SIGTERM) waits for requests in flight before cancelling them (aiohttp's default is 60)."""
CONNECTOR_THREADS = 32


def wire(settings: Settings, db: Database, *, wakeup: asyncio.Event | None = None) -> AppContext:
    """The use cases' context over an open database: the presenter and the notifier, built once.

    ``wakeup`` is the outbox sender's signal; the notifier sets it when it queues something.
    """
    presenter = Presenter(settings.timezone, settings.escalate_days_left)
    notifier = Notifier(db, presenter, settings.jb_staff_ids, wake=wakeup.set if wakeup else lambda: None)
    if settings.local_mode:  # the demo and the end-to-end tests move it forward (bot/story_clock.py)
        return AppContext(settings=settings, db=db, notifier=notifier, clock=StoryClock())
    return AppContext(settings=settings, db=db, notifier=notifier)


async def open_database(settings: Settings) -> Database:
    """The store DATABASE_URL chooses: PostgreSQL when it is set, else the embedded store under DATA_DIR."""
    if settings.database_url:
        return await Database.connect(settings.database_url)
    return await Database.open(settings.data_dir, recover=settings.storage_recover)


def store_description(settings: Settings) -> str:
    """Where the records are kept, safe to log: the data directory, or PostgreSQL's host and database (never the URL)."""
    if settings.database_url:
        return f"PostgreSQL, {describe(settings.database_url)}"
    return f"embedded, in {settings.data_dir}"


async def _runtime(app: web.Application) -> AsyncIterator[None]:
    """Open storage, build the adapter and the bot; close storage on shutdown."""
    settings = app[SETTINGS]
    # botbuilder's connector sends every reply with blocking `requests` in a thread (msrest would use the
    # default executor: min(32, cores + 4) threads); replies wait on the network, so give them room to
    # overlap, in a pool of their own where each host gets a bounded share (bot/connector_http.py).
    connector_threads = ThreadPoolExecutor(max_workers=CONNECTOR_THREADS, thread_name_prefix="connector")
    db = await open_database(settings)
    if db.recovered is not None:
        logger.error("storage started with damage set aside (see /healthz): %s", db.recovered)
    wakeup = asyncio.Event()
    context = wire(settings, db, wakeup=wakeup)
    try:
        # tickets recorded before ticket states existed (once, whichever replica gets there first)
        await context.retrying(lambda: backfill_states(context))
        await context.retrying(lambda: refresh_stale_figures(context))
    except BaseException:
        await db.close()
        raise
    # The store's documents live as long as the process: keep them out of the cyclic collector's
    # full collections, which would otherwise walk every one of them (about 150 ms at 100,000
    # events) whenever enough new objects have survived, stalling whichever request is running.
    gc.collect()
    gc.freeze()
    conversation_state = ConversationState(DurableStorage(db.state, db.commit))
    adapter = build_adapter(settings, connector_threads)
    refresh_audience = RefreshAudience()
    outbox = OutboxSender(context, adapter, wakeup=wakeup, prepare=refresh_audience.prepare)
    app[CONTEXT] = context
    app[ADAPTER] = adapter
    app[BOT] = build_bot(context, conversation_state, refresh_audience)
    app[OUTBOX] = outbox
    released = await context.release_all()
    if released:
        logger.info("released %d waiting notices at start", released)
    outbox.start()
    scheduler = ReadinessScheduler(context)
    scheduler.start()
    clock_scheduler = ClockScheduler(context)
    clock_scheduler.start()
    archive_scheduler = ArchiveScheduler(context)
    archive_scheduler.start()
    logger.info("storage open: %s", store_description(settings))
    try:
        yield
    finally:
        await archive_scheduler.stop()
        await clock_scheduler.stop()
        await scheduler.stop()
        await outbox.stop()
        await db.close()
        gc.unfreeze()
        logger.info("storage closed")
        connector_threads.shutdown(wait=False, cancel_futures=True)  # a call to a silent host ends at its timeout


async def messages(request: web.Request) -> web.StreamResponse:
    """POST /api/messages: Bot Framework activities through the CloudAdapter.

    Before authentication: the content type (415), the size (413), a body that arrives in time (408),
    JSON (400) and the activity's shape (400, naming the field), so that nothing malformed reaches botbuilder;
    then who sent it (403: a channel other than Teams, or a Teams person without an Azure AD object id).
    """
    if "application/json" not in request.headers.get("Content-Type", ""):
        return web.json_response({"error": "Content-Type must be application/json"}, status=415)
    if request.content_length is not None and request.content_length > MAX_ACTIVITY_BYTES:
        return web.json_response({"error": "activity too large"}, status=413)
    try:
        async with asyncio.timeout(BODY_READ_TIMEOUT):
            body = await request.read()
    except TimeoutError:
        logger.warning("refused a request to /api/messages: the body did not arrive within %.0f s", BODY_READ_TIMEOUT)
        return web.json_response({"error": "the request body did not arrive in time"}, status=408)
    if len(body) > MAX_ACTIVITY_BYTES:
        return web.json_response({"error": "activity too large"}, status=413)
    try:
        activity = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return web.json_response({"error": "body is not valid JSON"}, status=400)
    problem = activity_problem(activity)
    if problem is not None:
        logger.warning("refused a request to /api/messages: not an activity (%s)", problem)
        return web.json_response({"error": f"body is not an activity: {problem}"}, status=400)
    refusal = identity_refusal(activity, local_mode=request.app[SETTINGS].local_mode)
    if refusal is not None:
        logger.warning(
            "refused activity id=%.64r type=%.32r channel=%.32r conversation=%.128r: %s",
            activity.get("id"),
            activity["type"],
            activity.get("channelId"),
            activity["conversation"]["id"],
            refusal,
        )
        return web.json_response({"error": f"refused: {refusal}"}, status=403)
    started = time.perf_counter()
    try:
        response = await request.app[ADAPTER].process(request, request.app[BOT])
    finally:
        request.app[METRICS].observe_turn(activity["type"], time.perf_counter() - started)
    return response if response is not None else web.Response(status=201)


async def healthz(request: web.Request) -> web.Response:
    """GET /healthz: 200 when storage can write now, else 503 with the reason; ``store`` says which (embedded, postgresql).

    After a start with recovery that set damaged files aside, a 200 says ``"storage": "recovered"``
    and what was set aside (``reason``), until the bot is restarted.
    """
    db = request.app[CONTEXT].db
    store = request.app[SETTINGS].store_kind
    problem = await db.check_writable()
    if problem is not None:
        return web.json_response({"status": "unavailable", "store": store, "storage": problem}, status=503)
    if db.recovered is not None:
        return web.json_response({"status": "ok", "store": store, "storage": "recovered", "reason": db.recovered})
    return web.json_response({"status": "ok", "store": store, "storage": "ok"})


async def metrics(request: web.Request) -> web.Response:
    """GET /metrics: Prometheus text (outbox backlog, failed notices, events, turn and intake latency).

    With METRICS_TOKEN set, only a request bearing it (``Authorization: Bearer <token>``) is answered.
    """
    token = request.app[SETTINGS].metrics_token
    if token is not None:
        offered = request.headers.get("Authorization", "")
        if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
            return web.json_response({"error": "a valid METRICS_TOKEN bearer token is required"}, status=401)
    body = request.app[METRICS].text()
    return web.Response(body=body, headers={"Content-Type": METRICS_CONTENT_TYPE})


@web.middleware
async def _time_intake(request: web.Request, handler: Any) -> web.StreamResponse:
    """Time each POST /api/ticket-events request for /metrics, whatever it answered."""
    if request.path != EVENTS_PATH:
        return await handler(request)
    started = time.perf_counter()
    try:
        return await handler(request)
    finally:
        request.app[METRICS].intake_seconds.observe(time.perf_counter() - started)


def result_doc(result: EventResult) -> dict[str, Any]:
    """One event's result as the intake API answers it."""
    incidents = [
        {"id": i.id, "kind": i.kind.value, "ticket_number": i.ticket_number, "officer_number": i.officer_number}
        for i in result.incidents
    ]
    return {"event_id": result.event_id, "status": result.status, "incidents": incidents}


def create_app(settings: Settings) -> web.Application:
    """The aiohttp application with every route; storage opens on startup."""
    app = web.Application(client_max_size=2 * 1024 * 1024, middlewares=[_time_intake])
    app[SETTINGS] = settings

    def leadership() -> dict[str, bool]:
        return app[CONTEXT].db.leases.leading()

    app[METRICS] = Metrics(lambda: app[CONTEXT], leadership if settings.store_kind == "postgresql" else None)
    app.cleanup_ctx.append(_runtime)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)

    async def recorder(events: list[TicketEvent]) -> list[dict[str, Any]] | EventConflict:
        context = app[CONTEXT]
        await context.db.catch_up()
        outcome = await context.retrying(lambda: record_events(context, events))
        if isinstance(outcome, EventConflict):
            return outcome  # the intake answers 409: nothing of the request was recorded
        results = [result_doc(result) for result in outcome.results]
        app[METRICS].count_events([result["status"] for result in results])
        return results

    def received_now() -> datetime:
        return app[CONTEXT].now()

    setup_intake_routes(app, secret=settings.ticket_events_secret, recorder=recorder, received_now=received_now)
    if settings.local_mode:

        async def move(request: web.Request) -> web.StreamResponse:
            clock = app[CONTEXT].clock
            if not isinstance(clock, StoryClock):
                return web.json_response({"error": "this bot's clock cannot be moved"}, status=409)
            return await story_clock_handler(clock, settings.ticket_events_secret)(request)

        app.router.add_post(CLOCK_PATH, move)
    setup_export_routes(app, context=lambda: app[CONTEXT])
    return app


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("aiohttp.access", "msrest", "azure"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> None:
    """Read settings (and ``--recover``), say which mode the bot runs in, and serve until stopped.

    Exits 2 on a bad setting and 3 when storage cannot be opened (the reason is logged: damage
    names the file and the byte offset; ``--recover`` or STORAGE_RECOVER=1 sets it aside).
    """
    parser = argparse.ArgumentParser(description="The JB e-Ticket Bot.")
    parser.add_argument(
        "--recover",
        action="store_true",
        help="start even if storage files are damaged, setting the damage aside (same as STORAGE_RECOVER=1)",
    )
    arguments = parser.parse_args(argv)
    _configure_logging()
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        logger.critical("invalid setting: %s", error)
        raise SystemExit(2) from None
    if arguments.recover:
        settings = dataclasses.replace(settings, storage_recover=True)
    if settings.local_mode:
        banner = "=" * 72
        logger.warning(
            "\n%s\nLOCAL MODE: MicrosoftAppId is not set, so requests are NOT authenticated.\n"
            "Use this only with the Microsoft 365 Agents Playground on this machine.\n%s",
            banner,
            banner,
        )
        if settings.exposed_without_authentication:
            banner = "!" * 72
            logger.warning(
                "\n%s\nHOST=%s: this LOCAL MODE bot listens beyond this machine, and its requests are NOT "
                "authenticated.\nAnyone who can reach %s:%d can post as any person. Unset HOST (127.0.0.1) "
                "unless this is a closed test network.\n%s",
                banner,
                settings.bind_host,
                settings.bind_host,
                settings.port,
                banner,
            )
    if not settings.jb_staff_ids:
        logger.warning("JB_STAFF_IDS is empty: nobody can acknowledge or approve")
    if not (settings.public_base_url and settings.exports_secret):
        logger.warning("PUBLIC_BASE_URL or EXPORTS_SECRET is not set: cards offer no spreadsheet downloads")
    if not settings.ticket_events_secret:
        logger.warning("TICKET_EVENTS_SECRET is not set: POST /api/ticket-events answers 503")
    logger.info("listening on %s port %d, storage %s", settings.bind_host, settings.port, store_description(settings))
    loop = asyncio.new_event_loop()
    _stop_on_signals(loop)
    try:
        web.run_app(
            create_app(settings),
            host=settings.bind_host,
            port=settings.port,
            print=None,
            shutdown_timeout=SHUTDOWN_GRACE,
            handle_signals=False,
            loop=loop,
        )
    except StorageError as error:
        logger.critical(
            "storage could not be opened (%s): %s: %s", store_description(settings), type(error).__name__, error
        )
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
