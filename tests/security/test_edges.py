"""Edges of the HTTP surface (issue 12, finding 9): malformed activities and slow request bodies.

A malformed activity is answered 400 naming the field before authentication, and no turn runs. A
request body that does not arrive in time is cut off with 408, so slow bodies cannot hold the bot's
connections (a slowloris); the bot keeps answering everyone else meanwhile.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import time
from collections.abc import Callable
from typing import Any

import pytest

import app as app_module
import intake.api
from app import CONTEXT
from tests.security.test_bot_auth import APP_ID, MetadataServer
from tests.support.factories import make_bot_added, make_invoke, make_message
from tests.support.fake_connector import FakeConnector

MALFORMED: list[tuple[str, Any, str]] = [
    ("conversation", "a:personal", "conversation"),
    ("conversation", ["a:personal"], "conversation"),
    ("conversation", {}, "conversation.id"),
    ("conversation", {"id": 5}, "conversation.id"),
    ("conversation", {"id": "a:x", "isGroup": "yes"}, "conversation.isGroup"),
    ("from", [{"id": "29:x"}], "from"),
    ("from", "29:x", "from"),
    ("from", {"id": ["29:x"]}, "from.id"),
    ("recipient", "28:bot", "recipient"),
    ("entities", "mention", "entities"),
    ("entities", {"type": "mention"}, "entities"),
    ("entities", ["mention"], "entities[0]"),
    ("membersAdded", {"id": "28:bot"}, "membersAdded"),
    ("membersAdded", ["28:bot"], "membersAdded[0]"),
    ("membersRemoved", {"id": "28:bot"}, "membersRemoved"),
    ("attachments", "card", "attachments"),
    ("timestamp", "yesterday", "timestamp"),
    ("timestamp", 5, "timestamp"),
    ("localTimestamp", "noon", "localTimestamp"),
    ("suggestedActions", "x", "suggestedActions"),
    ("relatesTo", "x", "relatesTo"),
    ("reactionsAdded", {}, "reactionsAdded"),
    ("historyDisclosed", "x", "historyDisclosed"),
    ("textHighlights", "x", "textHighlights"),
    ("serviceUrl", "not a url", "serviceUrl"),
    ("serviceUrl", 5, "serviceUrl"),
    ("channelId", 5, "channelId"),
    ("text", {"html": "x"}, "text"),
    ("name", 5, "name"),
]


@pytest.mark.parametrize("make", ["message", "invoke", "bot added"])
async def test_a_malformed_activity_is_400_naming_the_field_and_runs_no_turn(
    bot_client: Callable[..., Any], connector: FakeConnector, make: str
) -> None:
    client = await bot_client()
    for field, value, named in MALFORMED:
        if make == "message":
            activity = make_message("/help", connector.url)
        elif make == "invoke":
            activity = make_invoke("package.acknowledge", {"judiciary_code": "9000"}, connector.url)
        else:
            activity = make_bot_added(connector.url)
        activity[field] = copy.deepcopy(value)
        response = await client.post("/api/messages", json=activity)
        text = await response.text()
        assert response.status == 400, (field, value, response.status, text[:200])
        assert named in (await response.json())["error"], (field, text)
        assert "Traceback" not in text
    assert client.server.app[CONTEXT].db.conversations.get("a:personal-11111111") is None, "no turn ran"
    assert connector.sent == []


async def test_a_malformed_activity_is_400_before_authentication(
    bot_client: Callable[..., Any], connector: FakeConnector, settings_for: Callable[..., Any]
) -> None:
    metadata = MetadataServer()
    try:
        settings = settings_for(
            MicrosoftAppId=APP_ID,
            MicrosoftAppPassword="not-a-real-password",
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=metadata.url,
        )
        client = await bot_client(settings)
        activity = make_message("/help", connector.url) | {"entities": "mention"}
        response = await client.post("/api/messages", json=activity)  # no token at all
        assert response.status == 400
        assert "entities" in (await response.json())["error"]
        assert metadata.requests == [], "no key was fetched for a body that is not an activity"
    finally:
        metadata.close()


async def _slow_body(port: int, path: str, *, declared: int = 400, sent: bytes = b'{"type": "mess') -> bytes:
    """Send headers and the start of a body, then nothing: return whatever the server answers (b"" if closed)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {declared}\r\n\r\n"
            ).encode()
            + sent
        )
        await writer.drain()
        return await asyncio.wait_for(reader.read(4096), 3.0)
    finally:
        writer.close()


async def test_a_slow_activity_body_is_cut_off_with_408(
    bot_client: Callable[..., Any], connector: FakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "BODY_READ_TIMEOUT", 0.3, raising=False)
    client = await bot_client()
    started = time.monotonic()
    answer = await _slow_body(client.server.port, "/api/messages")
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    assert time.monotonic() - started < 2.0


async def test_a_slow_ticket_event_body_is_cut_off_with_408(
    bot_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intake.api, "_read_limited", functools.partial(intake.api._read_limited, timeout=0.3))
    client = await bot_client()
    answer = await _slow_body(client.server.port, "/api/ticket-events")
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    assert b'"error"' in answer


async def test_many_slow_bodies_do_not_take_the_bot_offline(
    bot_client: Callable[..., Any], connector: FakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "BODY_READ_TIMEOUT", 0.5, raising=False)
    monkeypatch.setattr(intake.api, "_read_limited", functools.partial(intake.api._read_limited, timeout=0.5))
    client = await bot_client()
    slow = [
        asyncio.create_task(_slow_body(client.server.port, "/api/messages" if n % 2 else "/api/ticket-events"))
        for n in range(60)
    ]
    await asyncio.sleep(0.1)
    started = time.monotonic()
    assert (await client.get("/healthz")).status == 200
    response = await client.post("/api/messages", json=make_message("/help", connector.url))
    assert response.status in (200, 201)
    assert time.monotonic() - started < 1.0
    answers = await asyncio.gather(*slow)
    assert all(answer.startswith(b"HTTP/1.1 408") for answer in answers), "every slow body was cut off with 408"
