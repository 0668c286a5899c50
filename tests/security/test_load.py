"""Load on loopback: 50 conversations typing commands at once, plus signed intake batches of 100 events.

Bounded: 10 s in the CI profile, 60 s under ``make soak`` (SOAK=1). Zero errors (every request
answered 2xx, every reply arrived at the fake connector), zero lost events (the store holds every
event sent), and the p99 latencies it saw, printed and written to build/load.json.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app import CONTEXT
from intake.signature import sign
from tests.conftest import SECRET
from tests.security.conftest import SOAK
from tests.support.factories import make_message
from tests.support.fake_connector import FakeConnector
from tests.support.seed import seed_agency

pytestmark = pytest.mark.soak

DURATION = 60.0 if SOAK else 10.0
CONVERSATIONS = 50
BATCH = 100
COMMANDS = (
    "/help",
    "help",
    "/package",
    "/package 9000",
    "/status",
    "good morning",
    "/add-officer 12",
    "/subscribe 9000",
)
REPORT = Path(__file__).resolve().parents[2] / "build" / "load.json"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


async def test_load_on_loopback(
    bot_client: Callable[..., Any], connector: FakeConnector, caplog: pytest.LogCaptureFixture
) -> None:
    client = await bot_client()
    await seed_agency(client.server.app[CONTEXT])
    deadline = time.monotonic() + DURATION
    message_ms: list[float] = []
    batch_ms: list[float] = []
    failures: list[str] = []
    sent_per_conversation: dict[str, int] = {}
    events_sent = 0
    ids = itertools.count()

    async def person(number: int) -> None:
        aad = f"{number:08d}-0000-4000-8000-00000000load"
        conversation = f"a:personal-{aad[:8]}"
        sent_per_conversation[conversation] = 0
        for command in itertools.cycle(COMMANDS):
            if time.monotonic() >= deadline:
                return
            activity = make_message(command, connector.url, user_aad=aad, user_name=f"Load {number}")
            started = time.perf_counter()
            response = await client.post("/api/messages", json=activity)
            message_ms.append((time.perf_counter() - started) * 1000)
            if response.status not in (200, 201):
                failures.append(f"message {command!r}: {response.status}")
            sent_per_conversation[conversation] += 1

    async def records_system() -> None:
        nonlocal events_sent
        while time.monotonic() < deadline:
            events = []
            for _ in range(BATCH):
                n = next(ids)
                events.append(
                    {
                        "event_id": f"load-{n}",
                        "type": "submitted",
                        "ticket_number": f"LD-{n}",
                        "officer_number": "A1234",
                        "judiciary_code": "9000",
                        "occurred_at": "2026-11-20T15:00:00Z",
                        "issued_at": "2026-11-20T14:00:00Z",
                    }
                )
            raw = json.dumps({"events": events}).encode()
            started = time.perf_counter()
            response = await client.post(
                "/api/ticket-events",
                data=raw,
                headers={"Content-Type": "application/json", "X-Signature-256": sign(SECRET, raw)},
            )
            batch_ms.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                failures.append(f"batch: {response.status}")
                continue
            results = (await response.json())["results"]
            if [r["status"] for r in results] != ["recorded"] * BATCH:
                failures.append("batch: not all recorded")
            events_sent += BATCH

    started = time.monotonic()
    await asyncio.wait_for(
        asyncio.gather(*(person(n) for n in range(CONVERSATIONS)), records_system()), timeout=DURATION + 60
    )
    elapsed = time.monotonic() - started

    assert failures == []
    replies: dict[str, int] = {}
    for item in connector.sent:
        replies[item.conversation_id] = replies.get(item.conversation_id, 0) + 1
    missing = {
        cid: (count, replies.get(cid, 0)) for cid, count in sent_per_conversation.items() if replies.get(cid, 0) < count
    }
    assert missing == {}, f"replies that never arrived (sent, received): {missing}"
    assert client.server.app[CONTEXT].db.events.count() == events_sent, "every event sent is stored"
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]

    report = {
        "profile": "soak" if SOAK else "ci",
        "seconds": round(elapsed, 1),
        "conversations": CONVERSATIONS,
        "messages": len(message_ms),
        "messages_per_second": round(len(message_ms) / elapsed, 1),
        "message_p50_ms": round(percentile(message_ms, 0.50), 1),
        "message_p99_ms": round(percentile(message_ms, 0.99), 1),
        "intake_batches": len(batch_ms),
        "events": events_sent,
        "batch_p50_ms": round(percentile(batch_ms, 0.50), 1),
        "batch_p99_ms": round(percentile(batch_ms, 0.99), 1),
        "errors": 0,
        "lost_events": 0,
    }
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nload: {json.dumps(report)}")
    assert report["messages"] >= CONVERSATIONS and events_sent >= BATCH
