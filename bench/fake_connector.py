"""A local stand-in for the Bot Framework connector (Teams' side) that both bots reply to.

It answers like Teams: ``POST /v3/conversations/{id}/activities[/{replyToId}]`` and
``PUT /v3/conversations/{id}/activities/{activityId}`` → 200 ``{"id": ...}``; ``GET`` of one member
→ 200 with a member (what ``TeamsInfo.get_member`` reads); ``POST /v3/conversations`` → 200 with a new
id. It keeps only counters and the last activity per conversation (a benchmark must not grow
without bound), and lets the driver wait for the next activity in a conversation.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Arrival:
    """The last activity the bot sent to one conversation and when it arrived (monotonic seconds)."""

    method: str
    body: dict[str, Any]
    at: float


@dataclass
class FakeConnector:
    """Answers like Teams' connector on 127.0.0.1; counts calls; remembers the last activity per conversation."""

    host: str = "127.0.0.1"
    calls: int = 0
    last: dict[str, Arrival] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _waiters: dict[str, list[asyncio.Future[Arrival]]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        """The serviceUrl activities carry so that replies come here."""
        return f"http://{self.host}:{self.port}/"

    async def start(self) -> FakeConnector:
        """Listen on a free loopback port."""
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    def next_arrival(self, conversation_id: str) -> asyncio.Future[Arrival]:
        """A future for the next activity the bot sends or updates in ``conversation_id``."""
        future: asyncio.Future[Arrival] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(conversation_id, []).append(future)
        return future

    async def _create(self, request: web.Request) -> web.Response:
        self.calls += 1
        await request.read()
        return web.json_response({"id": f"a:created-{next(self._ids)}", "activityId": f"msg-{next(self._ids)}"})

    async def _member(self, request: web.Request) -> web.Response:
        self.calls += 1
        member = request.match_info["member"]
        return web.json_response(
            {
                "id": member,
                "name": "Bench User",
                "aadObjectId": member.removeprefix("29:"),
                "email": "bench.user@agency.example",
                "userPrincipalName": "bench.user@agency.example",
            }
        )

    async def _send(self, request: web.Request) -> web.Response:
        return await self._record(request, "POST", f"msg-{next(self._ids)}")

    async def _update(self, request: web.Request) -> web.Response:
        return await self._record(request, "PUT", request.match_info["activity"])

    async def _record(self, request: web.Request, method: str, activity_id: str) -> web.Response:
        self.calls += 1
        body = await request.json()
        conversation = request.match_info["conversation"]
        arrival = Arrival(method, body, time.monotonic())
        self.last[conversation] = arrival
        for waiter in self._waiters.pop(conversation, []):
            if not waiter.done():
                waiter.set_result(arrival)
        return web.json_response({"id": activity_id})


def cards_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The Adaptive Cards an activity carries."""
    return [
        a.get("content") or {}
        for a in body.get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


def find_action_data(node: Any, key: str) -> dict[str, Any] | None:
    """The ``data`` of the first Action.Execute in a card whose data has ``key``, or None."""
    if isinstance(node, dict):
        data = node.get("data")
        if node.get("type") == "Action.Execute" and isinstance(data, dict) and key in data:
            return data
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = find_action_data(child, key)
        if found is not None:
            return found
    return None
