"""A slow connector host stays local (issue 12, finding 5: tarpits).

Tarpit service URLs (hosts that accept and never answer) cannot take every connector thread:
``/help`` in a conversation of another host keeps answering.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from tests.support.factories import JB_AAD, make_message
from tests.support.fake_connector import FakeConnector, Tarpit


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
        assert took < 1.0, f"/help took {took:.1f} s while tarpits held the connector"
        held = sum(t.connections for t in tarpits)
        assert held <= 16, f"tarpits hold {held} connector threads"
    finally:
        for tarpit in tarpits:
            await tarpit.close()
        await asyncio.gather(*turns, return_exceptions=True)
