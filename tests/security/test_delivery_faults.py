"""Delivery faults stay local (issue 12, findings 4 and 5).

- A full disk does not turn into an alert storm: a notice Teams accepted whose "sent" mark cannot be
  written is not sent again; its mark is written again with backoff, and every notice reaches Teams
  once over a simulated minute (the sender is driven round by round on the app's injectable clock).
- One slow conversation stalls no other: a connector that never answers for one conversation does not
  delay another conversation's notices, and the stalled notice is retried later with backoff.
"""

from __future__ import annotations

import asyncio
import errno
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from app import ADAPTER, CONTEXT, OUTBOX
from bot.outbox import OutboxSender, RateLimiter
from services.context import AppContext
from services.notices import Audience, Message, Notice
from tests.security.test_faults import DiskFault
from tests.support.factories import JB_AAD, POC_AAD, make_message
from tests.support.fake_connector import FakeConnector

POC_CHAT = "a:personal-11111111"
JB_CHAT = "a:personal-22222222"
OTHER_AAD = "33333333-3333-4333-8333-333333333333"


async def _chats(client: Any, connector: FakeConnector) -> None:
    """Three people have a 1:1 chat with the bot."""
    for aad in (POC_AAD, JB_AAD, OTHER_AAD):
        await client.post("/api/messages", json=make_message("/help", connector.url, user_aad=aad))
    await connector.wait_for(lambda sent: len(sent) >= 3)
    connector.sent.clear()
    connector.attempts.clear()


async def _queue(context: AppContext, aad: str, *titles: str) -> None:
    notices = [Notice((Audience.person(aad),), Message(title, "body"), summary=title) for title in titles]
    await context.commit([], notices)


def _titles(connector: FakeConnector) -> list[str]:
    return [item.text.split("\n")[1] for item in connector.sent]


async def test_a_full_disk_does_not_turn_into_an_alert_storm(
    bot_client: Callable[..., Any], connector: FakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await bot_client()
    context = client.server.app[CONTEXT]
    await _chats(client, connector)
    await client.server.app[OUTBOX].stop()  # this test drives a sender of its own, round by round
    start = context.now()
    clock = [start]
    context.clock = lambda: clock[0]
    sender = OutboxSender(
        context,
        client.server.app[ADAPTER],
        base_delay=1.0,
        max_delay=5.0,
        limiter=RateLimiter(((1000, 1.0),)),  # Teams' limits are another test's matter
    )
    titles = [f"alert {n:02d}" for n in range(60)]
    for n, aad in enumerate((POC_AAD, JB_AAD, OTHER_AAD)):
        await _queue(context, aad, *titles[n::3])
    assert len(context.db.outbox.pending()) == 60

    with DiskFault(monkeypatch, context.db.store, errno.ENOSPC) as fault:
        for second in range(61):  # a simulated minute, one outbox round a second
            clock[0] = start + timedelta(seconds=second)
            await sender.deliver_due()
            assert len(connector.sent) <= 60, f"{len(connector.sent)} messages after {second} s: notices sent again"
        assert sorted(_titles(connector)) == titles, "each notice reached Teams once"
        writes = fault.calls
        assert writes <= 10, f"{writes} writes in a minute while the disk was full: the sender did not back off"

    # the disk has room again: the marks are written, with the activity ids Teams gave, and nothing is resent
    clock[0] = start + timedelta(seconds=125)
    await sender.deliver_due()
    assert context.db.outbox.pending() == []
    delivered = {item.activity_id for item in connector.sent}
    marks = [doc for doc in context.db.store.all("outbox") if doc["status"] == "sent"]
    assert len(marks) == 60 and {doc["activity_id"] for doc in marks} == delivered
    await sender.deliver_due()
    assert len(connector.sent) == 60


async def test_a_stalled_conversation_does_not_delay_the_others(
    bot_client: Callable[..., Any], connector: FakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await bot_client()
    context = client.server.app[CONTEXT]
    await _chats(client, connector)
    outbox = client.server.app[OUTBOX]
    monkeypatch.setattr(outbox, "_delivery_timeout", 0.5, raising=False)  # 10 s in production
    monkeypatch.setattr(outbox, "_base_delay", 0.3)
    monkeypatch.setattr(outbox, "_max_delay", 1.0)

    connector.stalled = {POC_CHAT}  # the connector never answers for the PoC's chat
    await _queue(context, POC_AAD, "stalled alert")
    await _queue(context, JB_AAD, "first JB alert")
    await connector.wait_for(lambda sent: "first JB alert" in _titles(connector), timeout=3)
    deadline = time.monotonic() + 3  # the PoC chat's attempt runs in its own task: it may start a moment later
    while connector.held < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert connector.held == 1

    started = time.monotonic()
    await _queue(context, JB_AAD, "second JB alert")
    await _queue(context, OTHER_AAD, "another alert")
    await connector.wait_for(lambda sent: {"second JB alert", "another alert"} <= set(_titles(connector)), timeout=6)
    took = time.monotonic() - started
    # the stalled chat's attempt takes 0.5 s to time out; before, every other chat waited for it (100 s a round)
    assert took < 4.0, f"other conversations waited {took:.1f} s for the stalled one"

    # the stalled notice was given up on after its timeout and is retried later, with backoff
    stalled = next(n for n in context.db.outbox.pending() if n.conversation_id == POC_CHAT)
    deadline = time.monotonic() + 3
    while (stalled := context.db.outbox.get(stalled.id)) is not None and stalled.attempts == 0:
        assert time.monotonic() < deadline, "the stalled attempt never timed out"
        await asyncio.sleep(0.02)
    assert stalled is not None and stalled.status == "pending" and stalled.error == "timeout"
    assert stalled.next_attempt_at is not None, "a later attempt is scheduled"
    assert stalled.attempts <= 3, "retried with backoff, not in a loop"

    connector.release_stalled()  # the connector answers again
    await connector.wait_for(lambda sent: "stalled alert" in _titles(connector), timeout=5)
    assert _titles(connector).count("stalled alert") == 1


async def test_a_delivered_alert_that_changed_before_its_mark_was_written_is_brought_up_to_date(
    bot_client: Callable[..., Any], connector: FakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await bot_client()
    context = client.server.app[CONTEXT]
    await _chats(client, connector)
    await client.server.app[OUTBOX].stop()
    start = context.now()
    clock = [start]
    context.clock = lambda: clock[0]
    sender = OutboxSender(context, client.server.app[ADAPTER], base_delay=1.0, record_retry=60.0)
    await _queue(context, POC_AAD, "open alert")
    (notice,) = context.db.outbox.pending()

    with DiskFault(monkeypatch, context.db.store, errno.ENOSPC):
        await sender.deliver_due()
    assert _titles(connector) == ["open alert"]
    # the disk has room again, and the alert is resolved before the sent mark is written: the notifier,
    # which sees the notice as pending, changes the card it would send
    resolved = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "resolved alert"}]}
    await context.db.commit([context.db.outbox.put(notice.model_copy(update={"card": resolved}))])
    clock[0] = start + timedelta(seconds=61)
    await sender.deliver_due()
    await sender.deliver_due()
    stored = context.db.outbox.get(notice.id)
    assert stored is not None and stored.status == "sent" and stored.activity_id == connector.sent[0].activity_id
    assert [(item.method, item.activity_id) for item in connector.sent] == [
        ("POST", stored.activity_id),
        ("PUT", stored.activity_id),
    ], "sent once, then updated to the resolved card"
    assert "resolved alert" in connector.sent[1].text
