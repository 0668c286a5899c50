"""A local stand-in for the Bot Framework connector (Teams' side): records what the bot sends."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Sent:
    """One call the bot made to the connector."""

    method: str
    conversation_id: str
    activity_id: str | None
    body: dict[str, Any]
    at: float

    @property
    def cards(self) -> list[dict[str, Any]]:
        """The Adaptive Cards this activity carried."""
        return [
            a["content"]
            for a in self.body.get("attachments") or []
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]

    @property
    def text(self) -> str:
        """Every text in the activity and its cards, joined (for assertions)."""
        parts = [self.body.get("text") or ""]

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for key in ("text", "title", "value", "label"):
                    if isinstance(node.get(key), str):
                        parts.append(node[key])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(self.cards)
        return "\n".join(parts)


@dataclass
class FakeConnector:
    """Answers like Teams' connector; ``script`` can make the next calls fail (429, 500, 403...).

    ``put_script`` does the same for updates (PUT) only, before ``script``. A call in a conversation
    listed in ``stalled`` is held without an answer (a connector that never answers) until
    ``release_stalled()`` or ``close()``, and then answered 503 and not recorded as sent.
    """

    sent: list[Sent] = field(default_factory=list)
    attempts: list[tuple[float, int]] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    put_script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    stalled: set[str] = field(default_factory=set)
    held: int = 0
    on_call: Callable[[], None] | None = None
    members: list[dict[str, Any]] = field(default_factory=list)
    """The roster every conversation answers with (Teams' TeamsChannelAccount JSON: id, name, aadObjectId, email)."""
    roster_reads: list[str] = field(default_factory=list)
    """The conversations whose paged roster was read."""
    server: TestServer | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1000))
    _event: asyncio.Event = field(default_factory=asyncio.Event)
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/")).rstrip("/") + "/"

    async def start(self) -> FakeConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_get("/v3/conversations/{conversation}/members", self._roster)
        app.router.add_get("/v3/conversations/{conversation}/pagedmembers", self._paged_roster)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        self.server = TestServer(app, host="127.0.0.1")
        # msrest keeps keep-alive connections open; do not wait the default 60 s for them at shutdown
        await self.server.start_server(shutdown_timeout=0.5)
        return self

    async def close(self) -> None:
        self.release_stalled()
        if self.server is not None:
            await self.server.close()

    def release_stalled(self) -> None:
        """Answer the held calls (503) and hold no more."""
        self.stalled.clear()
        self._released.set()

    def _scripted(self, method: str) -> web.Response | None:
        script = self.put_script if method == "PUT" and self.put_script else self.script
        if not script:
            return None
        status, headers = script.pop(0)
        if status < 300:
            return None
        body = {
            "error": {"code": "MessageWritesBlocked" if status == 403 else "Scripted", "message": "scripted failure"}
        }
        return web.json_response(body, status=status, headers=headers)

    async def _roster(self, request: web.Request) -> web.Response:
        return web.json_response(self.members)

    async def _paged_roster(self, request: web.Request) -> web.Response:
        self.roster_reads.append(request.match_info["conversation"])
        size = int(request.query.get("pageSize", "100"))
        more = len(self.members) > size
        body: dict[str, Any] = {"members": self.members[:size]}
        if more:
            body["continuationToken"] = "next-page"
        return web.json_response(body)

    async def _member(self, request: web.Request) -> web.Response:
        wanted = request.match_info["member"]
        found = [m for m in self.members if wanted in (m.get("id"), m.get("aadObjectId"))]
        if not found:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation", "message": "no"}}, status=404)
        return web.json_response(found[0])

    async def _send(self, request: web.Request) -> web.Response:
        return await self._record(request, "POST")

    async def _update(self, request: web.Request) -> web.Response:
        return await self._record(request, "PUT")

    async def _record(self, request: web.Request, method: str) -> web.Response:
        body = await request.json()
        if request.match_info["conversation"] in self.stalled:
            self.held += 1
            self._event.set()
            try:
                await self._released.wait()
            finally:
                self.held -= 1
            return web.json_response({"error": {"code": "Stalled", "message": "held, then dropped"}}, status=503)
        failure = self._scripted(method)
        self.attempts.append((time.monotonic(), failure.status if failure else 200))
        if failure is not None:
            self._event.set()
            return failure
        activity_id = request.match_info.get("activity") if method == "PUT" else f"msg-{next(self._ids)}"
        self.sent.append(Sent(method, request.match_info["conversation"], activity_id, body, time.monotonic()))
        self._event.set()
        return web.json_response({"id": activity_id})

    async def wait_for_attempts(self, count: int, timeout: float = 10.0) -> None:
        """Wait until the bot has made ``count`` calls, failed ones included."""
        await self.wait_for(lambda _: len(self.attempts) >= count, timeout)

    async def wait_for(self, predicate: Callable[[list[Sent]], bool], timeout: float = 10.0) -> list[Sent]:
        """Wait until what was sent satisfies predicate (no fixed sleeps); returns everything sent."""
        deadline = time.monotonic() + timeout
        while True:
            self._event.clear()
            if predicate(self.sent):
                return self.sent
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"connector never saw the expected activity; saw: {[s.text[:80] for s in self.sent]}"
                )
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except TimeoutError:
                pass


class Tarpit:
    """A host that accepts connections and reads what is sent but never answers (a tarpit service URL)."""

    def __init__(self, host: str = "127.0.0.2") -> None:
        self.host = host
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._closed = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    async def start(self) -> Tarpit:
        self._server = await asyncio.start_server(self._hold, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        await self._closed.wait()
        writer.close()

    async def close(self) -> None:
        """Drop every held connection (the bot's calls then fail at once) and stop listening."""
        self._closed.set()
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
