"""Delivers queued notices to Teams: proactive sends and card updates, retried until they land.

Each conversation's notices leave in the order they were queued; a notice that must wait holds
back the ones behind it in that conversation only. Teams' per-conversation rate limits are kept
(7 per second, 8 per 2 s, 60 per 30 s, 1800 per hour). 429, 412 and 5xx answers and network
failures are retried with exponential backoff and full jitter, honouring ``Retry-After``. A 403
(the bot was removed or blocked) or another 4xx marks the notice failed; JB staff see failed
notices in ``/status``. Nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import ConversationReference

from bot.turn import card_activity
from services.context import AppContext, new_id
from storage.errors import StorageError
from storage.repositories import Notice

logger = logging.getLogger(__name__)

RATE_LIMITS: tuple[tuple[int, float], ...] = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
RETRYABLE = {412, 429, 500, 502, 503, 504}
GIVE_UP_AFTER = timedelta(hours=72)
CardPreparer = Callable[[TurnContext, dict[str, Any]], Awaitable[dict[str, Any]]]
"""Gives a card its last touches inside the proactive turn, just before it is sent (never fails the send)."""


class DeliveryError(Exception):
    """The connector refused a notice; ``status`` is the HTTP status (None for network failures)."""

    def __init__(self, status: int | None, retry_after: float | None, code: str) -> None:
        super().__init__(f"delivery failed status={status} code={code}")
        self.status = status
        self.retry_after = retry_after
        self.code = code

    @property
    def retryable(self) -> bool:
        """Whether trying again later can succeed."""
        return self.status is None or self.status in RETRYABLE or self.status >= 500


class RateLimiter:
    """Sliding windows per conversation; ``delay`` says how long until one more operation is allowed."""

    def __init__(
        self, limits: tuple[tuple[int, float], ...] = RATE_LIMITS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._history: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._longest = max(window for _, window in limits)

    def delay(self, conversation_id: str) -> float:
        """Seconds to wait before the next operation in this conversation (0 when allowed now)."""
        now = self._clock()
        history = self._history[conversation_id]
        while history and now - history[0] >= self._longest:
            history.popleft()
        wait = 0.0
        for count, window in self._limits:
            recent = [stamp for stamp in history if now - stamp < window]
            if len(recent) >= count:
                wait = max(wait, recent[-count] + window - now)
        return wait

    def record(self, conversation_id: str) -> None:
        """Note one operation now."""
        self._history[conversation_id].append(self._clock())


def _retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


def _as_delivery_error(error: BaseException, now: datetime) -> DeliveryError:
    """Classify an exception from the connector."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None) if response is not None else None
    if isinstance(status, int):
        headers = getattr(response, "headers", {}) or {}
        code = "MessageWritesBlocked" if status == 403 else f"http_{status}"
        return DeliveryError(status, _retry_after_seconds(headers.get("Retry-After"), now), code)
    return DeliveryError(None, None, type(error).__name__)  # network failures and the like: retried


class OutboxSender:
    """The background task that delivers the outbox."""

    def __init__(
        self,
        app: AppContext,
        adapter: BotAdapter,
        *,
        base_delay: float = 2.0,
        max_delay: float = 300.0,
        random_fraction: Callable[[], float] = random.random,
        limiter: RateLimiter | None = None,
        wakeup: asyncio.Event | None = None,
        prepare: CardPreparer | None = None,
    ) -> None:
        self._app = app
        self._adapter = adapter
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._random = random_fraction
        self._limiter = limiter or RateLimiter()
        self._wake = wakeup or asyncio.Event()  # set by the notifier when it queues something
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._busy: set[str] = set()
        self._prepare = prepare  # last touches that need the turn (a card's refresh.userIds from the roster)

    def wake(self) -> None:
        """Deliver now: something was queued."""
        self._wake.set()

    def start(self) -> None:
        """Start delivering in the background (pending notices from before a restart go first)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox")
            self._wake.set()

    async def stop(self) -> None:
        """Stop delivering; undelivered notices stay stored for the next start."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                wait = await self.deliver_due()
            except Exception:
                logger.exception("outbox round failed; retrying shortly")
                wait = self._base_delay
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that
            # arrives as the wake-up does, and stop() would then wait for this loop forever
            try:
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def deliver_due(self) -> float:
        """Deliver what is due in every conversation; returns seconds until something is due next."""
        by_conversation: dict[str, list[Notice]] = collections.defaultdict(list)
        for notice in self._app.db.outbox.pending():
            by_conversation[notice.conversation_id].append(notice)
        rounds = [
            self._deliver_conversation(cid, notices)
            for cid, notices in by_conversation.items()
            if cid not in self._busy
        ]
        waits = await asyncio.gather(*rounds) if rounds else []
        return min([wait for wait in waits if wait is not None], default=3600.0)

    async def _deliver_conversation(self, conversation_id: str, notices: list[Notice]) -> float | None:
        """Deliver one conversation's notices in order; returns when to come back (None: done)."""
        self._busy.add(conversation_id)
        try:
            for queued in notices:
                notice = self._app.db.outbox.get(queued.id)
                if notice is None or notice.status != "pending":
                    continue
                now = self._app.now()
                if notice.next_attempt_at is not None and notice.next_attempt_at > now:
                    return (notice.next_attempt_at - now).total_seconds()
                pause = self._limiter.delay(conversation_id)
                if pause > 0:
                    return pause
                self._limiter.record(conversation_id)
                if not await self._attempt(notice):
                    refreshed = self._app.db.outbox.get(notice.id)
                    if refreshed is not None and refreshed.status == "pending" and refreshed.next_attempt_at:
                        return max(0.0, (refreshed.next_attempt_at - self._app.now()).total_seconds())
                    continue
            return None
        finally:
            self._busy.discard(conversation_id)

    async def _attempt(self, notice: Notice) -> bool:
        """One delivery attempt; records the outcome durably. True when delivered."""
        record = self._app.db.conversations.get(notice.conversation_id)
        now = self._app.now()
        if record is None:
            await self._finish(notice, "failed", error="conversation_unknown")
            return False
        try:
            activity_id = await self._send(notice, record.reference)
        except DeliveryError as error:
            attempts = notice.attempts + 1
            if error.retryable and now - notice.created_at < GIVE_UP_AFTER:
                delay = self._backoff(attempts, error.retry_after)
                logger.warning(
                    "notice=%s conversation=%s attempt=%d failed status=%s; retrying in %.1fs",
                    notice.id,
                    notice.conversation_id,
                    attempts,
                    error.status,
                    delay,
                )
                await self._save(
                    notice.model_copy(
                        update={
                            "attempts": attempts,
                            "error": error.code,
                            "next_attempt_at": now + timedelta(seconds=delay),
                        }
                    )
                )
            else:
                logger.error(
                    "notice=%s conversation=%s failed for good status=%s code=%s",
                    notice.id,
                    notice.conversation_id,
                    error.status,
                    error.code,
                )
                await self._finish(notice.model_copy(update={"attempts": attempts}), "failed", error=error.code)
            return False
        delivered = notice.model_copy(
            update={
                "attempts": notice.attempts + 1,
                "activity_id": activity_id or notice.activity_id,
                "status": "sent",
                "error": None,
                "finished_at": self._app.now(),
                "next_attempt_at": None,
            }
        )
        ops = [self._app.db.outbox.put(delivered)]
        stored = self._app.db.outbox.get(notice.id)
        if stored is not None and stored.card != notice.card and delivered.activity_id:
            # the alert changed while this copy was on its way: bring the delivered message up to date
            ops.append(
                self._app.db.outbox.put(
                    delivered.model_copy(
                        update={
                            "id": new_id(),
                            "seq": self._app.db.outbox.next_seq(),
                            "card": stored.card,
                            "action": "update",
                            "subject": None,
                            "status": "pending",
                            "attempts": 0,
                            "finished_at": None,
                            "next_attempt_at": self._app.now(),
                        }
                    )
                )
            )
            self._wake.set()
        try:
            await self._app.db.commit(ops)
        except StorageError:
            logger.exception("could not record the delivery of notice=%s", notice.id)
        logger.info("notice=%s delivered to conversation=%s", notice.id, notice.conversation_id)
        return True

    def _backoff(self, attempts: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter; never sooner than Retry-After."""
        ceiling = min(self._max_delay, self._base_delay * (2 ** (attempts - 1)))
        delay = ceiling * (0.5 + 0.5 * self._random())
        if retry_after is not None:
            delay = max(delay, min(retry_after, self._max_delay * 12))
        return delay

    async def _send(self, notice: Notice, reference_doc: dict[str, Any]) -> str | None:
        """Send or update through the adapter; raises DeliveryError."""
        reference = ConversationReference().deserialize(reference_doc)
        if notice.reply_to and reference.conversation is not None:  # a reply in a channel thread (TEAMS-NOTES)
            reference.conversation.id = f"{reference.conversation.id};messageid={notice.reply_to}"
        outcome: dict[str, Any] = {}

        async def deliver(turn_context: TurnContext) -> None:
            card = notice.card if self._prepare is None else await self._prepare(turn_context, notice.card)
            activity = card_activity(card, summary=notice.summary or None)
            try:
                if notice.action == "update":
                    activity.id = notice.activity_id
                    await turn_context.update_activity(activity)
                else:
                    response = await turn_context.send_activity(activity)
                    outcome["id"] = response.id if response else None
            except Exception as error:  # the adapter would hand it to on_turn_error and swallow it
                outcome["error"] = error

        await self._adapter.continue_conversation(reference, deliver, bot_app_id=self._app.settings.app_id)
        if "error" in outcome:
            raise _as_delivery_error(outcome["error"], self._app.now())
        return outcome.get("id")

    async def _finish(self, notice: Notice, status: str, *, error: str | None = None) -> None:
        await self._save(
            notice.model_copy(
                update={
                    "status": status,
                    "error": error if status == "failed" else None,
                    "finished_at": self._app.now(),
                    "next_attempt_at": None,
                }
            )
        )

    async def _save(self, notice: Notice) -> None:
        try:
            await self._app.db.commit([self._app.db.outbox.put(notice)])
        except StorageError:
            logger.exception("could not record the outcome of notice=%s", notice.id)
