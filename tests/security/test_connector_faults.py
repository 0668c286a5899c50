"""A slow or throttling connector stays local (issue 12, finding 5: Retry-After and tarpits).

- A ``PUT`` answered 429 with a huge ``Retry-After`` comes back at once: msrest/urllib3 never sleep on
  it inside a call. A card press is answered at once and its message update is left to the outbox,
  which honours ``Retry-After`` up to its own maximum.
- Tarpit service URLs (hosts that accept and never answer) cannot take every connector thread:
  ``/help`` in a conversation of another host keeps answering; a slot is held until its thread is done.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from app import CONTEXT, OUTBOX
from bot.connector_http import HostSlots
from storage.repositories import Notice
from tests.support.factories import JB_AAD, make_invoke, make_message
from tests.support.fake_connector import FakeConnector, Tarpit
from tests.support.seed import seed_agency

JB_CHAT = "a:personal-22222222"
HUGE_RETRY_AFTER = {"Retry-After": "21600"}


async def _jb_knows_the_bot(client: Any, connector: FakeConnector) -> None:
    await client.post("/api/messages", json=make_message("/help", connector.url))
    await client.post(
        "/api/messages", json=make_message("/help", connector.url, user_aad=JB_AAD, user_name="Jamie Staff")
    )
    await connector.wait_for(lambda sent: len(sent) >= 2)
    connector.sent.clear()
    connector.attempts.clear()


async def test_a_press_is_answered_at_once_when_its_update_is_throttled(
    bot_client: Callable[..., Any], connector: FakeConnector
) -> None:
    client = await bot_client()
    context = client.server.app[CONTEXT]
    await _jb_knows_the_bot(client, connector)
    await seed_agency(context)
    connector.put_script = [(429, HUGE_RETRY_AFTER)]
    press = make_invoke(
        "package.acknowledge", {"judiciary_code": "9000"}, connector.url, user_aad=JB_AAD, user_name="Jamie Staff"
    )
    started = time.monotonic()
    answer = await asyncio.wait_for(client.post("/api/messages", json=press), 5.0)
    took = time.monotonic() - started
    assert answer.status == 200
    assert (await answer.json())["value"]["type"] == "AdaptiveCard"
    assert took < 2.0, f"the press took {took:.1f} s: the 429 was slept on inside the call"
    assert [status for _, status in connector.attempts if status == 429] == [429], "tried once in the turn"

    # the update of the pressed message waits in the outbox, no longer than the outbox's own maximum
    updates = [n for n in context.db.outbox.pending() if n.action == "update" and n.activity_id == "card-message-1"]
    assert len(updates) == 1
    outbox = client.server.app[OUTBOX]
    assert updates[0].next_attempt_at is not None
    assert updates[0].next_attempt_at - context.now() <= timedelta(seconds=outbox._max_delay)
    later = updates[0].next_attempt_at + timedelta(seconds=1)
    context.clock = lambda: later
    outbox.wake()
    sent = await connector.wait_for(
        lambda sent: any(s.method == "PUT" and s.activity_id == "card-message-1" for s in sent)
    )
    assert sum(1 for s in sent if s.method == "PUT" and s.activity_id == "card-message-1") == 1


async def test_an_outbox_update_answered_429_comes_back_at_once(
    bot_client: Callable[..., Any], connector: FakeConnector
) -> None:
    client = await bot_client()
    context = client.server.app[CONTEXT]
    await _jb_knows_the_bot(client, connector)
    connector.put_script = [(429, HUGE_RETRY_AFTER)]
    update = Notice(
        id="update-1",
        seq=context.db.outbox.next_seq(),
        conversation_id=JB_CHAT,
        card={"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "resolved"}]},
        created_at=context.now(),
        action="update",
        activity_id="msg-1",
        next_attempt_at=context.now(),
    )
    started = time.monotonic()
    await context.db.commit([context.db.outbox.put(update)])
    context.notifier.wake()
    deadline = time.monotonic() + 2.0
    while (stored := context.db.outbox.get("update-1")) is not None and stored.attempts == 0:
        assert time.monotonic() < deadline, "the 429 did not come back to the outbox within 2 s"
        await asyncio.sleep(0.02)
    assert time.monotonic() - started < 2.0
    assert stored is not None and stored.status == "pending" and stored.error == "http_429"
    assert stored.next_attempt_at is not None
    wait = stored.next_attempt_at - context.now()
    assert timedelta(seconds=1) < wait <= timedelta(seconds=client.server.app[OUTBOX]._max_delay), wait
    assert len(connector.attempts) == 1, "no retry inside the call"


async def test_tarpit_service_urls_cannot_take_every_connector_thread(
    bot_client: Callable[..., Any], connector: FakeConnector
) -> None:
    client = await bot_client()
    await client.post("/api/messages", json=make_message("/help", connector.url, user_aad=JB_AAD))
    await connector.wait_for(lambda sent: len(sent) == 1)  # Teams' host has answered before, as it always has
    tarpits = [await Tarpit(f"127.0.0.{host}").start() for host in range(2, 7)]
    turns: list[asyncio.Task[Any]] = []
    try:
        for n in range(50):  # 50 conversations whose replies go to 5 hosts that never answer
            aad = f"{n:08d}-0000-4000-8000-000000000000"
            tarpit = tarpits[n % len(tarpits)]
            turns.append(
                asyncio.create_task(client.post("/api/messages", json=make_message("/help", tarpit.url, user_aad=aad)))
            )
        deadline = time.monotonic() + 3
        while sum(t.connections for t in tarpits) < 16:
            assert time.monotonic() < deadline, [t.connections for t in tarpits]
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # let every turn that can take a thread take one

        started = time.monotonic()
        response = await asyncio.wait_for(client.post("/api/messages", json=make_message("/help", connector.url)), 5)
        assert response.status in (200, 201)
        await connector.wait_for(lambda sent: len(sent) == 2, timeout=5)
        took = time.monotonic() - started
        assert took < 2.0, f"/help took {took:.1f} s while tarpits held the connector"
        held = sum(t.connections for t in tarpits)
        assert held <= 16, f"tarpits hold {held} connector threads"
    finally:
        for tarpit in tarpits:
            await tarpit.close()
        await asyncio.gather(*turns, return_exceptions=True)


async def test_a_slot_is_held_until_its_thread_is_done_even_when_the_caller_gave_up() -> None:
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=4) as pool:
        slots = HostSlots(pool, per_host=2, unproven=3)
        calls = [asyncio.create_task(slots.call(f"http://tarpit-{n % 2}:80", release.wait)) for n in range(6)]
        await asyncio.sleep(0.05)
        assert slots.in_flight() == 3, "hosts that never answered share 3 slots"
        assert slots.in_flight("http://tarpit-0:80") <= 2, "and each host has 2"
        for call in calls:
            call.cancel()  # the callers give up (a timeout); their threads are still blocked
        await asyncio.gather(*calls, return_exceptions=True)
        assert slots.in_flight() == 3, "a slot is freed when its thread is done, not when its caller gives up"
        release.set()
        deadline = time.monotonic() + 2
        while slots.in_flight():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
