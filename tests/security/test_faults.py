"""Faults: a full disk or read-only data directory at the write path, and a Teams outage.

CI runs as root, so file modes cannot make the disk refuse; the failure is injected where every
durable write goes, the store's journal append (``Store._append_and_sync``, also the last step of
the health probe). While it fails: a person's command that writes gets a clear message and changes
nothing, the intake answers 503 with Retry-After and records nothing, /healthz answers 503 with the
reason. When it clears, everything works again and the files reopen whole.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from app import CONTEXT, OUTBOX
from intake.signature import sign
from settings import Settings
from storage.repositories import Database
from tests.conftest import SECRET
from tests.security.conftest import SOAK
from tests.support.factories import JB_AAD, make_invoke, make_message
from tests.support.fake_connector import FakeConnector
from tests.support.seed import seed_agency

AGENCY_CHANNEL = "19:agency-channel@thread.tacv2"
NEW_CHANNEL = "19:new-channel@thread.tacv2"


def event(event_id: str, kind: str = "rejected", ticket: str = "VT-0001", **fields: Any) -> dict[str, Any]:
    base = {
        "event_id": event_id,
        "type": kind,
        "ticket_number": ticket,
        "officer_number": "A1234",
        "judiciary_code": "9000",
        "occurred_at": "2026-11-20T15:00:00Z",
        "issued_at": "2026-11-20T09:00:00-05:00",
        "reason": "Missing plate state",
    }
    return base | fields


async def post_events(client: Any, body: Any) -> Any:
    raw = json.dumps(body).encode()
    return await client.post(
        "/api/ticket-events",
        data=raw,
        headers={"Content-Type": "application/json", "X-Signature-256": sign(SECRET, raw)},
    )


async def known_conversations(client: Any, connector: FakeConnector) -> None:
    """The PoC, a JB staff member and the agency channel have talked to the bot; the agency is seeded."""
    await client.post("/api/messages", json=make_message("/help", connector.url))
    await client.post(
        "/api/messages", json=make_message("/help", connector.url, user_aad=JB_AAD, user_name="Jamie Staff")
    )
    await client.post("/api/messages", json=make_message("/help", connector.url, mention=True, kind="channel"))
    await connector.wait_for(lambda sent: len(sent) >= 3)
    await seed_agency(client.server.app[CONTEXT], channel=AGENCY_CHANNEL)
    connector.sent.clear()


class DiskFault:
    """Makes every journal append of one store fail with an OSError until cleared."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, store: Any, code: int) -> None:
        self.calls = 0
        self._monkeypatch = monkeypatch
        self._store = store
        self._code = code

    def __enter__(self) -> DiskFault:
        def refuse(data: bytes) -> None:
            self.calls += 1
            raise OSError(self._code, os.strerror(self._code))

        self._monkeypatch.setattr(self._store, "_append_and_sync", refuse)
        return self

    def __exit__(self, *exc: object) -> None:
        self._monkeypatch.delattr(self._store, "_append_and_sync")  # back to the class's method


def snapshot_of(app: Any) -> dict[str, list[dict[str, Any]]]:
    """Every table's documents, to compare before and after."""
    store = app.db.store
    return {table: docs for table in sorted(store.table_names()) if (docs := store.all(table))}


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS], ids=["disk full", "read-only"])
async def test_a_refused_write_is_clear_everywhere_and_nothing_changes(
    bot_client: Callable[..., Any],
    connector: FakeConnector,
    settings_for: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    code: int,
) -> None:
    settings = settings_for()
    client = await bot_client(settings)
    await known_conversations(client, connector)
    app = client.server.app[CONTEXT]
    before = snapshot_of(app)

    with DiskFault(monkeypatch, app.db.store, code) as fault:
        # a command that writes records: /subscribe in a new channel
        subscribe = make_message("/subscribe 9000", connector.url, mention=True, kind="channel", channel=NEW_CHANNEL)
        response = await client.post("/api/messages", json=subscribe)
        assert response.status in (200, 201)
        # a command that writes conversation state: /new-package starts the wizard in the 1:1 chat
        response = await client.post("/api/messages", json=make_message("/new-package", connector.url))
        assert response.status in (200, 201)
        # a card press that writes: JB staff acknowledge the package
        press = make_invoke(
            "package.acknowledge", {"judiciary_code": "9000"}, connector.url, user_aad=JB_AAD, user_name="Jamie Staff"
        )
        answer = await client.post("/api/messages", json=press)
        assert answer.status == 200
        pressed = json.dumps(await answer.json())
        # the intake
        refused = await post_events(client, {"events": [event("e1", "submitted"), event("e2")]})
        health = await client.get("/healthz")
        assert fault.calls >= 4

        replies = "\n".join(sent.text for sent in connector.sent)
        for told in (replies, pressed):
            assert "could not save that just now" in told and "Nothing was changed" in told
            assert "Traceback" not in told
        assert "could not save that just now" in connector.sent[-1].text, (
            "the last word of the wizard turn is the refusal"
        )
        assert refused.status == 503
        assert refused.headers["Retry-After"].isdigit() and int(refused.headers["Retry-After"]) > 0
        assert "nothing was recorded" in (await refused.json())["error"]
        assert health.status == 503
        reason = (await health.json())["storage"]
        assert errno.errorcode[code] in reason and "not writable" in reason
        assert snapshot_of(app) == before, "a refused write leaves nothing behind in memory"

    # the fault clears: everything works again
    assert (await client.get("/healthz")).status == 200
    await client.post(
        "/api/messages",
        json=make_message("/subscribe 9000", connector.url, mention=True, kind="channel", channel=NEW_CHANNEL),
    )
    assert "Alerts routed here" in connector.sent[-1].text
    accepted = await post_events(client, {"events": [event("e1", "submitted"), event("e2")]})
    assert accepted.status == 200
    assert [r["status"] for r in (await accepted.json())["results"]] == ["recorded", "recorded"]
    await client.close()

    db = await Database.open(settings.data_dir)  # no file is corrupt: the store reopens with every committed write
    try:
        assert db.events.seen("e1") and db.events.seen("e2")
        assert db.subscriptions.conversation_for("9000") == NEW_CHANNEL
        assert db.packages.get("9000") is not None and db.packages.get("9000").acknowledged is None
        assert len(db.incidents.open()) == 1
    finally:
        await db.close()
    assert not [name for name in os.listdir(settings.data_dir) if name.endswith(".dropped")], "no damaged journal tail"


class RestartableConnector(FakeConnector):
    """The fake Teams connector, which can go down and come back on the same port."""

    port: int = 0

    async def start(self) -> RestartableConnector:
        await super().start()
        assert self.server is not None
        self.port = self.server.port  # type: ignore[assignment]
        return self

    async def go_down(self) -> None:
        await self.close()

    async def come_back(self) -> None:
        app = self.server.app if self.server is not None else None
        assert app is not None
        from aiohttp import web

        fresh = web.Application()
        for route in app.router.routes():
            fresh.router.add_route(route.method, route.resource.canonical, route.handler)  # type: ignore[union-attr]
        self.server = TestServer(fresh, host="127.0.0.1", port=self.port)
        await self.server.start_server()


async def test_a_teams_outage_loses_no_notice(bot_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    connector = await RestartableConnector().start()
    try:
        client = await bot_client()
        await known_conversations(client, connector)
        outbox = client.server.app[OUTBOX]
        monkeypatch.setattr(outbox, "_base_delay", 0.05)  # retry within the test's time, not in minutes
        monkeypatch.setattr(outbox, "_max_delay", 0.4)

        tickets = 8 if SOAK else 3
        # Teams answers 503 for a while...
        connector.script = [(503, {"Retry-After": "0"})] * 4
        first = await post_events(client, {"events": [event(f"a{n}", ticket=f"VT-A{n}") for n in range(tickets)]})
        assert first.status == 200
        await connector.wait_for_attempts(4)
        # ...then refuses connections altogether while more alerts are raised
        await connector.go_down()
        second = await post_events(client, {"events": [event(f"b{n}", ticket=f"VT-B{n}") for n in range(tickets)]})
        assert second.status == 200
        app = client.server.app[CONTEXT]
        await wait_until(lambda: any(n.attempts >= 2 and n.error for n in app.db.outbox.pending()), timeout=10)
        await connector.come_back()

        expected = 2 * tickets * 3  # every incident alerts the agency channel, the PoC and the JB
        await wait_until(lambda: not app.db.outbox.pending(), timeout=30)
        sent = connector.sent
        assert app.db.outbox.failed() == []
        delivered = sorted((item.conversation_id, ticket_of(item.text)) for item in sent)
        assert len(delivered) == len(set(delivered)) == expected, (
            "each alert arrives once, none twice",
            [(s.method, s.conversation_id, ticket_of(s.text)) for s in sent],
        )
        for conversation in (AGENCY_CHANNEL, "a:personal-11111111", "a:personal-22222222"):
            got = {ticket for cid, ticket in delivered if cid == conversation}
            assert got == {f"VT-A{n}" for n in range(tickets)} | {f"VT-B{n}" for n in range(tickets)}
    finally:
        await connector.close()


def ticket_of(text: str) -> str:
    import re

    found = re.findall(r"VT-[AB][0-9]+", text)
    assert found, text[:200]
    return found[0]


async def wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)
