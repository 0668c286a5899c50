"""Delivers queued notices to Teams: proactive sends and card updates, retried until they land.

Each conversation's notices leave in the order they were queued; a notice that must wait holds
back the ones behind it in that conversation only. Each conversation is delivered by its own task,
each attempt within its own timeout, so a conversation whose connector never answers holds no
other. Teams' per-conversation rate limits are kept (7 per second, 8 per 2 s, 60 per 30 s, 1800 per
hour). 429, 412 and 5xx answers, network failures and timeouts are retried with exponential backoff
and full jitter, honouring ``Retry-After`` up to the sender's maximum delay (the connector itself
never retries or sleeps: bot/connector_http.py). A 403 (the bot was removed or blocked) or another
4xx marks the notice failed; JB staff see failed notices in ``/status``. Nothing is dropped silently.

What the sender decides (sent, failed, retry at) is kept in memory until the store has it. When the
store refuses the write (disk full), a notice Teams accepted is not sent again: it stays "delivered,
not yet recorded" with its activity id, its mark is written again at most once a ``record_retry``
(a minute), and the sender as a whole writes no more often than its own backoff while the store keeps
refusing. Only a restart in that state sends such a notice again (delivery is at least once).

When replicas share one database, a conversation's notices are delivered by the replica that holds
its delivery lease (``Leases.claim``), renewed before every attempt, so they leave in order and once.
A lease outlives the holder's last attempt by ``CLAIM_SECONDS``, longer than any window but the hour's,
so a replica taking a conversation over cannot crowd the windows of up to 30 s the last holder filled.
A holder that dies mid-send leaves a notice Teams may have accepted unmarked: the replica that takes
the conversation over once the lease ends sends it again (the documented crash window).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
MAX_DELAY = 300.0
CLAIM_SECONDS = 30.0
"""How long a conversation's delivery lease lasts after its holder's last attempt (seconds)."""
"""The longest the sender waits before trying a notice again, whatever Retry-After asks (seconds)."""
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


def as_delivery_error(error: BaseException, now: datetime) -> DeliveryError:
    """Classify an exception from the connector (a timeout counts as a network failure: retried)."""
    if isinstance(error, DeliveryError):
        return error
    if isinstance(error, TimeoutError):
        return DeliveryError(None, None, "timeout")
    return _as_delivery_error(error, now)


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


@dataclass
class _Unrecorded:
    """An outcome the sender decided and the store does not have yet."""

    fields: dict[str, Any]
    """The notice's new delivery fields (status, attempts, next_attempt_at, activity_id, error, finished_at)."""
    delivered_card: dict[str, Any] | None = None
    """For a delivered notice: the card Teams got, to bring the message up to date if it changed since."""
    record_at: datetime | None = None
    """When the store may be asked again (None: as soon as it is not refusing)."""


def queued_update(
    app: AppContext, *, conversation_id: str, activity_id: str, card: dict[str, Any], error: DeliveryError
) -> Notice:
    """An update of a message that could not be made in the turn, for the sender to make later.

    It is tried after ``Retry-After`` (at most ``MAX_DELAY``), or at once for the sender's next round.
    """
    now = app.now()
    wait = min(error.retry_after or 0.0, MAX_DELAY)
    return Notice(
        id=new_id(),
        seq=app.db.outbox.next_seq(),
        conversation_id=conversation_id,
        card=card,
        created_at=now,
        action="update",
        activity_id=activity_id,
        attempts=1,
        error=error.code,
        next_attempt_at=now + timedelta(seconds=wait),
    )


class OutboxSender:
    """The background task that delivers the outbox: one delivery task per conversation with something due."""

    def __init__(
        self,
        app: AppContext,
        adapter: BotAdapter,
        *,
        base_delay: float = 2.0,
        max_delay: float = MAX_DELAY,
        delivery_timeout: float = 10.0,
        record_retry: float = 60.0,
        random_fraction: Callable[[], float] = random.random,
        limiter: RateLimiter | None = None,
        wakeup: asyncio.Event | None = None,
        prepare: CardPreparer | None = None,
    ) -> None:
        self._app = app
        self._adapter = adapter
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._delivery_timeout = delivery_timeout  # one attempt's limit, per conversation
        self._record_retry = record_retry  # how often one notice's outcome is written again while refused
        self._random = random_fraction
        self._limiter = limiter or RateLimiter()
        self._wake = wakeup or asyncio.Event()  # set by the notifier when it queues something
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._deliveries: dict[str, asyncio.Task[None]] = {}  # conversation id → its delivery under way
        self._resting: dict[str, datetime] = {}  # conversation id → not before (after a delivery that crashed)
        self._held_elsewhere: dict[str, datetime] = {}  # conversation id → ask for its lease again then
        self._unrecorded: dict[str, _Unrecorded] = {}  # notice id → outcome not yet in the store
        self._flushing: asyncio.Task[None] | None = None
        self._store_refusing_until: datetime | None = None
        self._store_failures = 0
        self._prepare = prepare  # last touches that need the turn (a card's refresh.userIds as last read)

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
        tasks = [task for task in (self._task, self._flushing, *self._deliveries.values()) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                wait = self.dispatch()
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

    def dispatch(self) -> float:
        """Start a delivery for every conversation with something due and none under way, and the write of
        outcomes the store does not have yet when that is due; returns seconds until something is due next.
        """
        due, wait = self._plan(self._app.now())
        for conversation_id, notices in due.items():
            task = asyncio.create_task(self._deliver_conversation(conversation_id, notices), name="outbox-delivery")
            self._deliveries[conversation_id] = task
            task.add_done_callback(functools.partial(self._delivery_ended, conversation_id))
        if self._unrecorded and self._flushing is None and self._flush_wait(self._app.now()) == 0:
            self._flushing = asyncio.create_task(self._flush(), name="outbox-record")
            self._flushing.add_done_callback(self._flush_ended)
        return wait

    async def deliver_due(self) -> float:
        """One round, waited for: start what is due and wait until those deliveries end.

        Each attempt ends within its timeout. Returns seconds until something is due next.
        """
        self.dispatch()
        await self.idle()
        return self._plan(self._app.now())[1]

    async def idle(self) -> None:
        """Wait until no delivery and no write of outcomes is under way."""
        while tasks := [task for task in (self._flushing, *self._deliveries.values()) if task is not None]:
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.sleep(0)  # let their done-callbacks run

    def _plan(self, now: datetime) -> tuple[dict[str, list[Notice]], float]:
        """The conversations to deliver now (with their pending notices, in order) and seconds until the next."""
        by_conversation: dict[str, list[Notice]] = collections.defaultdict(list)
        for stored in self._app.db.outbox.pending():
            notice = self._view(stored)
            if notice.status == "pending":
                by_conversation[notice.conversation_id].append(notice)
        due: dict[str, list[Notice]] = {}
        waits: list[float] = []
        for conversation_id, notices in by_conversation.items():
            if conversation_id in self._deliveries:
                continue  # it comes back for more when it ends
            first = notices[0]  # the first pending notice holds back the ones behind it
            wait = self._limiter.delay(conversation_id)
            if first.next_attempt_at is not None:
                wait = max(wait, (first.next_attempt_at - now).total_seconds())
            for not_before in (self._resting.get(conversation_id), self._held_elsewhere.get(conversation_id)):
                if not_before is not None:
                    wait = max(wait, (not_before - now).total_seconds())
            if wait > 0:
                waits.append(wait)
            else:
                due[conversation_id] = notices
        for conversation_id in [c for c in self._held_elsewhere if c not in by_conversation]:
            del self._held_elsewhere[conversation_id]  # its holder delivered everything
        if self._unrecorded and self._flushing is None:
            waits.append(self._flush_wait(now))
        return due, min(waits, default=3600.0)

    def _delivery_ended(self, conversation_id: str, task: asyncio.Task[None]) -> None:
        self._deliveries.pop(conversation_id, None)
        if not task.cancelled() and task.exception() is not None:
            logger.error(
                "delivery to conversation=%s failed: %s",
                conversation_id,
                type(task.exception()).__name__,
                exc_info=task.exception(),
            )
            self._resting[conversation_id] = self._app.now() + timedelta(seconds=self._base_delay)
        else:
            self._resting.pop(conversation_id, None)
        self._wake.set()

    def _view(self, notice: Notice) -> Notice:
        """A stored notice as the sender knows it (its outcome may not be stored yet)."""
        unrecorded = self._unrecorded.get(notice.id)
        return notice if unrecorded is None else notice.model_copy(update=unrecorded.fields)

    def _current(self, notice_id: str) -> Notice | None:
        stored = self._app.db.outbox.get(notice_id)
        return None if stored is None else self._view(stored)

    async def _claimed(self, conversation_id: str) -> bool:
        """Whether this replica may deliver the conversation now (its lease taken or renewed)."""
        try:
            if await self._app.db.leases.claim(conversation_id, CLAIM_SECONDS):
                self._held_elsewhere.pop(conversation_id, None)
                return True
        except StorageError as error:
            logger.warning("could not claim conversation=%s for delivery: %s", conversation_id, type(error).__name__)
        self._held_elsewhere[conversation_id] = self._app.now() + timedelta(seconds=self._base_delay)
        return False

    async def _deliver_conversation(self, conversation_id: str, notices: list[Notice]) -> None:
        """Deliver one conversation's due notices in order; stop at the first that must wait."""
        if not await self._claimed(conversation_id):
            return
        await self._app.db.catch_up()  # what another holder of the lease recorded before it let go
        for index, queued in enumerate(notices):
            if index > 0 and not await self._claimed(conversation_id):
                return
            try:  # never deliver a notice whose use case's commit has not succeeded (yet): it may be undone
                await self._app.db.outbox.settled(queued.id)
            except StorageError:
                continue  # its write was undone (a full disk; another replica's change won): nothing to deliver
            notice = self._current(queued.id)
            if notice is None or notice.status != "pending":
                continue
            now = self._app.now()
            if notice.next_attempt_at is not None and notice.next_attempt_at > now:
                return
            if self._limiter.delay(conversation_id) > 0:
                return
            self._limiter.record(conversation_id)
            if not await self._attempt(notice):
                after = self._current(notice.id)
                if after is not None and after.status == "pending":
                    return

    async def _attempt(self, notice: Notice) -> bool:
        """One delivery attempt; records the outcome (durably when the store allows). True when delivered."""
        record = self._app.db.conversations.get(notice.conversation_id)
        now = self._app.now()
        if record is None:
            await self._decide(notice, self._finished("failed", error="conversation_unknown"))
            return False
        try:
            async with asyncio.timeout(self._delivery_timeout):
                activity_id = await self._send(notice, record.reference)
        except (DeliveryError, TimeoutError) as failure:
            error = as_delivery_error(failure, now)
            attempts = notice.attempts + 1
            if error.retryable and now - notice.created_at < GIVE_UP_AFTER:
                delay = self._backoff(attempts, error.retry_after)
                logger.warning(
                    "notice=%s conversation=%s attempt=%d failed status=%s code=%s; retrying in %.1fs",
                    notice.id,
                    notice.conversation_id,
                    attempts,
                    error.status,
                    error.code,
                    delay,
                )
                await self._decide(
                    notice,
                    {"attempts": attempts, "error": error.code, "next_attempt_at": now + timedelta(seconds=delay)},
                )
            else:
                logger.error(
                    "notice=%s conversation=%s failed for good status=%s code=%s",
                    notice.id,
                    notice.conversation_id,
                    error.status,
                    error.code,
                )
                await self._decide(notice, {"attempts": attempts, **self._finished("failed", error=error.code)})
            return False
        delivered = {
            "attempts": notice.attempts + 1,
            "activity_id": activity_id or notice.activity_id,
            "status": "sent",
            "error": None,
            "finished_at": self._app.now(),
            "next_attempt_at": None,
        }
        logger.info("notice=%s delivered to conversation=%s", notice.id, notice.conversation_id)
        await self._decide(notice, delivered, delivered_card=notice.card)
        return True

    def _finished(self, status: str, *, error: str | None = None) -> dict[str, Any]:
        return {
            "status": status,
            "error": error if status == "failed" else None,
            "finished_at": self._app.now(),
            "next_attempt_at": None,
        }

    def _backoff(self, attempts: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter; never sooner than Retry-After, never later than max_delay."""
        ceiling = min(self._max_delay, self._base_delay * (2 ** (attempts - 1)))
        delay = ceiling * (0.5 + 0.5 * self._random())
        if retry_after is not None:
            delay = max(delay, min(retry_after, self._max_delay))
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

    # -- recording outcomes ---------------------------------------------------------------------------------

    async def _decide(
        self, notice: Notice, fields: dict[str, Any], *, delivered_card: dict[str, Any] | None = None
    ) -> None:
        """Take an outcome: from now on the sender acts on it; write it now unless the store is refusing."""
        self._unrecorded[notice.id] = _Unrecorded(fields, delivered_card)
        if self._store_refusing(self._app.now()):
            return  # written by the next _flush, with the others
        await self._record([notice.id])

    def _store_refusing(self, now: datetime) -> bool:
        return self._store_refusing_until is not None and now < self._store_refusing_until

    def _flush_wait(self, now: datetime) -> float:
        """Seconds until an outcome not yet stored may be written again (0: now)."""
        waits = [0.0 if u.record_at is None else (u.record_at - now).total_seconds() for u in self._unrecorded.values()]
        wait = min(waits, default=3600.0)
        if self._store_refusing_until is not None:
            wait = max(wait, (self._store_refusing_until - now).total_seconds())
        return max(0.0, wait)

    async def _flush(self) -> None:
        """Write every outcome not yet stored whose turn has come, in one write."""
        now = self._app.now()
        ready = [nid for nid, u in self._unrecorded.items() if u.record_at is None or u.record_at <= now]
        if ready:
            await self._record(ready)

    def _flush_ended(self, task: asyncio.Task[None]) -> None:
        self._flushing = None
        if not task.cancelled() and task.exception() is not None:
            logger.error("writing delivery outcomes failed: %s", type(task.exception()).__name__)
        self._wake.set()

    async def _record(self, notice_ids: list[str]) -> None:
        """Write these notices' outcomes in one commit; on a refusal keep them and back off."""
        writing = {nid: self._unrecorded[nid] for nid in notice_ids if nid in self._unrecorded}
        try:
            updates_queued = await self._app.retrying(lambda: self._commit_outcomes(writing))
        except StorageError as error:
            now = self._app.now()
            self._store_failures += 1
            backoff = min(self._record_retry, self._base_delay * (2 ** (self._store_failures - 1)))
            self._store_refusing_until = now + timedelta(seconds=backoff)
            for outcome in writing.values():
                outcome.record_at = now + timedelta(seconds=self._record_retry)
            logger.warning(
                "could not record the outcome of %d notice(s) (%s); kept in memory, writing again in %.0f s at the soonest",
                len(writing),
                type(error).__name__,
                backoff,
            )
            return
        self._store_failures = 0
        self._store_refusing_until = None
        for notice_id, outcome in writing.items():
            if self._unrecorded.get(notice_id) is outcome:  # not replaced by a newer outcome meanwhile
                del self._unrecorded[notice_id]
        if updates_queued:  # a delivered message's card changed on its way: deliver the update
            self._wake.set()

    async def _commit_outcomes(self, writing: dict[str, _Unrecorded]) -> bool:
        """One write of these outcomes, built against the notices as stored now (another replica may have changed
        one: the write is then refused, and ``retrying`` catches up and builds it again); whether it queued updates."""
        ops: list[Any] = []
        updates_queued = False
        for notice_id in writing:
            notice_ops = self._ops_of(notice_id)
            ops += notice_ops
            updates_queued = updates_queued or len(notice_ops) > 1
        if ops:
            await self._app.db.commit(ops)
        return updates_queued

    def _ops_of(self, notice_id: str) -> list[Any]:
        """The writes of one notice's outcome, against the notice as stored now."""
        unrecorded = self._unrecorded.get(notice_id)
        stored = self._app.db.outbox.get(notice_id)
        if unrecorded is None or stored is None:
            return []
        final = stored.model_copy(update=unrecorded.fields)
        ops = [self._app.db.outbox.put(final)]
        card = unrecorded.delivered_card
        if card is not None and stored.card != card and final.activity_id:
            # the alert changed while this copy was on its way: bring the delivered message up to date
            ops.append(
                self._app.db.outbox.put(
                    final.model_copy(
                        update={
                            "id": new_id(),
                            "seq": self._app.db.outbox.next_seq(),
                            "card": stored.card,
                            "action": "update",
                            "subject": None,
                            "status": "pending",
                            "attempts": 0,
                            "error": None,
                            "finished_at": None,
                            "next_attempt_at": self._app.now(),
                        }
                    )
                )
            )
        return ops
