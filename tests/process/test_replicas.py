"""Two bot processes on one PostgreSQL database behind a round-robin proxy; one is SIGKILLed mid-load.

The load mixes what production sees at once: signed intake batches whose event ids overlap, sent to
both replicas at the same moment; Approve pressed for the same officer on both replicas at the same
moment; and chat turns. A client retries whatever got no answer (as the records systems and Teams do),
through the proxy, which stops sending to a replica it cannot reach (a load balancer's health check).

What must hold: every acknowledged event is recorded exactly once; each officer is approved once;
every notice is delivered at least once, and more than once only where the replica that was killed
had a delivery in flight (the documented crash window: at most one notice per conversation it held);
nothing is written under the replicas' DATA_DIR. The counts are written to build/replicas-report.json.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import psycopg
import pytest
from aiohttp import web

from intake.signature import sign
from storage.repositories import Database
from tests.support import seed
from tests.support.factories import JB_AAD, OTHER_AAD, POC_AAD, make_invoke, make_message
from tests.support.fake_connector import FakeConnector
from tools.playground import ROOT, free_port

pytestmark = pytest.mark.process

SECRET = "replica-test-secret-0123456789"
AGENCY = "9000"
CHANNEL = "19:agency-channel@thread.tacv2"
OFFICERS = [f"A{1000 + n}" for n in range(6)]
TICKETS_PER_OFFICER = 4
REPORT = ROOT / "build" / "replicas-report.json"


def closed_court_hours() -> dict[str, str]:
    """Business hours of one hour, twelve hours from now in court time: the clocks send nothing during the test.

    What they send depends on the day (the weekly digest on Wednesdays, reminders as the seeded dates
    age), and it is not what this test counts.
    """
    start = (datetime.now(ZoneInfo("America/New_York")).hour + 12) % 24
    return {"BUSINESS_HOURS_START": str(start), "BUSINESS_HOURS_END": str(start + 1)}


class Replica:
    """One bot process (``python app.py``) on the shared database."""

    def __init__(self, url: str, data_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.log_path = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
        env |= {
            "PORT": str(self.port),
            "DATABASE_URL": url,
            "DATA_DIR": str(data_dir),
            "TICKET_EVENTS_SECRET": SECRET,
            "JB_STAFF_IDS": JB_AAD,
            **closed_court_hours(),
        }
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def ready(self, session: aiohttp.ClientSession, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                async with session.get(f"{self.url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        raise AssertionError(f"replica on {self.port} did not start:\n{self.log()}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


class RoundRobin:
    """A load balancer in miniature: each request to the next replica; one it cannot reach is left out."""

    def __init__(self, replicas: list[Replica]) -> None:
        self.replicas = replicas
        self.turn = itertools.count()
        self.down: set[int] = set()
        self.forwarded: collections.Counter[int] = collections.Counter()
        self.port = free_port()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> RoundRobin:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "x-signature-256")}
        for _ in range(len(self.replicas)):
            replica = self.replicas[next(self.turn) % len(self.replicas)]
            if replica.port in self.down:
                continue
            try:
                async with self._session.request(
                    request.method, replica.url + request.path_qs, data=body, headers=headers
                ) as answer:
                    payload = await answer.read()
                    self.forwarded[replica.port] += 1
                    return web.Response(
                        status=answer.status, body=payload, content_type=answer.content_type or "application/json"
                    )
            except aiohttp.ClientError:
                self.down.add(replica.port)
        return web.json_response({"error": "no replica answered"}, status=502)


def ticket_events() -> list[dict[str, Any]]:
    """Each officer's tickets: submitted then accepted, and every third rejected (an alert to the agency)."""
    events: list[dict[str, Any]] = []
    for officer_index, officer in enumerate(OFFICERS):
        for ticket in range(TICKETS_PER_OFFICER):
            number = f"VT-{officer_index}-{ticket}"
            issued = f"2026-11-{10 + ticket:02d}T14:00:00Z"
            common = {
                "ticket_number": number,
                "officer_number": officer,
                "judiciary_code": AGENCY,
                "issued_at": issued,
            }
            events.append({"event_id": f"{number}-s", "type": "submitted", "occurred_at": issued} | common)
            outcome = "rejected" if (officer_index + ticket) % 3 == 0 else "accepted"
            last = {"event_id": f"{number}-o", "type": outcome, "occurred_at": f"2026-11-{10 + ticket:02d}T15:00:00Z"}
            if outcome == "rejected":
                last["reason"] = "Statute not found"
            events.append(last | {k: v for k, v in common.items() if k != "issued_at"})
    return events


def batches(events: list[dict[str, Any]], size: int = 6, stride: int = 3) -> list[list[dict[str, Any]]]:
    """Overlapping windows: each event id is in two batches."""
    return [events[start : start + size] for start in range(0, len(events), stride)]


class Client:
    """Sends like the records systems and Teams: a request without an answer is sent again, through the proxy."""

    def __init__(self, session: aiohttp.ClientSession, proxy: RoundRobin) -> None:
        self.session = session
        self.proxy = proxy
        self.acknowledged: set[str] = set()
        self.retries = 0
        self.approve_answers: list[str] = []
        self.resolved = 0

    async def post(self, base: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        url = base
        for attempt in range(40):
            try:
                async with self.session.post(url + path, data=body, headers=headers) as response:
                    text = await response.text()
                    if response.status < 500:
                        return response.status, json.loads(text) if text else None
            except (TimeoutError, aiohttp.ClientError):
                pass
            self.retries += 1
            url = self.proxy.url
            await asyncio.sleep(min(0.1 * (attempt + 1), 1.0))
        raise AssertionError(f"{path} never got an answer")

    async def events(self, base: str, batch: list[dict[str, Any]]) -> None:
        raw = json.dumps({"events": batch}).encode()
        headers = {"Content-Type": "application/json", "X-Signature-256": sign(SECRET, raw)}
        status, answer = await self.post(base, "/api/ticket-events", raw, headers)
        assert status == 200, (status, answer)
        for result in answer["results"]:
            assert result["status"] in ("recorded", "duplicate")
            self.acknowledged.add(result["event_id"])

    async def activity(self, base: str, activity: dict[str, Any]) -> Any:
        status, answer = await self.post(
            base, "/api/messages", json.dumps(activity).encode(), {"Content-Type": "application/json"}
        )
        assert status in (200, 201), (status, answer)
        return answer


async def outbox_rows(url: str) -> list[dict[str, Any]]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        cursor = await connection.execute("SELECT doc FROM outbox WHERE doc IS NOT NULL")
        return [row[0] for row in await cursor.fetchall()]


async def scalar(url: str, query: str) -> Any:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        row = await (await connection.execute(query)).fetchone()
        return row[0] if row else None


async def test_two_replicas_behind_a_proxy_with_one_killed_mid_load(postgres_url: str, tmp_path: Path) -> None:
    connector = await FakeConnector().start()
    db = await Database.connect(postgres_url)
    await db.commit(
        [
            db.packages.put(seed.package(AGENCY)),
            *[db.officers.put(seed.officer(number, AGENCY)) for number in OFFICERS],
            db.subscriptions.put(AGENCY, CHANNEL, POC_AAD, seed.SUBMITTED_AT),
        ]
    )
    await db.close()
    replicas = [Replica(postgres_url, tmp_path / f"replica-{n}-data", tmp_path / f"replica-{n}.log") for n in range(2)]
    proxy = await RoundRobin(replicas).start()
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
    client = Client(session, proxy)
    killed = replicas[1]
    try:
        for replica in replicas:
            await replica.ready(session)
        # the people and the channel have talked to the bot: their conversations are known
        for activity in (
            make_message("/help", connector.url),
            make_message("/help", connector.url, user_aad=JB_AAD, user_name="Jamie Staff"),
            make_message("/help", connector.url, mention=True, kind="channel"),
        ):
            await client.activity(proxy.url, activity)
        await connector.wait_for(lambda sent: len(sent) >= 3)
        before_load = len(connector.sent)

        events = ticket_events()
        windows = batches(events)
        half = len(windows) // 2

        async def intake(part: list[list[dict[str, Any]]]) -> None:
            for batch in part:  # each batch to both replicas at the same moment
                await asyncio.gather(*(client.events(replica.url, batch) for replica in replicas))

        async def approvals() -> None:
            for officer in OFFICERS:
                press = {"judiciary_code": AGENCY, "officer_number": officer}
                answers = await asyncio.gather(
                    *(
                        client.activity(
                            replica.url,
                            make_invoke(
                                "officer.approve_confirm",
                                press,
                                connector.url,
                                user_aad=JB_AAD,
                                user_name="Jamie Staff",
                            ),
                        )
                        for replica in replicas
                    )
                )
                client.approve_answers += [json.dumps(answer) for answer in answers]

        async def on_both(verb: str, data: dict[str, Any], user: tuple[str, str]) -> None:
            """The same button pressed on both replicas at the same moment."""
            presses = (
                client.activity(
                    replica.url, make_invoke(verb, data, connector.url, user_aad=user[0], user_name=user[1])
                )
                for replica in replicas
            )
            answers = await asyncio.gather(*presses)
            client.approve_answers += [json.dumps(answer) for answer in answers]

        async def acknowledge() -> None:
            await on_both("package.acknowledge", {"judiciary_code": AGENCY}, (JB_AAD, "Jamie Staff"))

        async def resolve_open_incidents() -> None:
            rows = await scalar(postgres_url, "SELECT json_agg(doc) FROM incidents WHERE doc IS NOT NULL")
            for incident in rows or []:  # the PoC resolves each alert, pressed on both replicas at once
                await on_both("incident.resolve", {"incident_id": incident["id"]}, (POC_AAD, "Pat Poc"))
            client.resolved += len(rows or [])

        async def chat() -> None:
            for _ in range(6):  # someone else's chat: its replies are not notices
                await client.activity(proxy.url, make_message("/help", connector.url, user_aad=OTHER_AAD))

        await asyncio.gather(intake(windows[:half]), approvals(), acknowledge(), chat())
        await resolve_open_incidents()
        in_flight = asyncio.gather(intake(windows[half:]), chat())
        await asyncio.sleep(0.05)
        killed.kill()  # mid-load: requests to it fail and are sent again through the proxy
        await in_flight

        deadline = time.monotonic() + 120
        while True:
            rows = await outbox_rows(postgres_url)
            pending = [row for row in rows if row["status"] in ("pending", "waiting")]
            if not pending or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert not pending, f"{len(pending)} notices never left: {[row['summary'] for row in pending]}"

        # every acknowledged event recorded exactly once (its id is the table's primary key)
        all_ids = {event["event_id"] for event in events}
        assert client.acknowledged == all_ids
        recorded = await scalar(postgres_url, "SELECT count(*) FROM ticket_events WHERE doc IS NOT NULL")
        assert recorded == len(all_ids)

        # each officer approved once, whichever replica's press won
        audit = await scalar(
            postgres_url,
            "SELECT json_agg(doc) FROM audit WHERE doc IS NOT NULL AND doc->>'action' = 'officer.approve'",
        )
        approvals_per_officer = collections.Counter(entry["target"] for entry in audit or [])
        assert approvals_per_officer == {f"officer:{AGENCY}:{officer}": 1 for officer in OFFICERS}

        # the package acknowledged once; each incident resolved once
        def audited(action: str) -> str:
            return f"SELECT json_agg(doc) FROM audit WHERE doc IS NOT NULL AND doc->>'action' = '{action}'"

        acknowledgments = await scalar(postgres_url, audited("package.acknowledge"))
        assert len(acknowledgments or []) == 1
        resolutions = await scalar(postgres_url, audited("incident.resolve"))
        resolved_ids = collections.Counter(entry["before"]["incident"] for entry in resolutions or [])
        assert client.resolved > 0 and set(resolved_ids.values()) == {1}, resolved_ids
        assert len(resolved_ids) == client.resolved

        # every notice delivered at least once; more than once only in the crash window
        sends = [row for row in rows if row["action"] == "send"]
        assert all(row["status"] == "sent" for row in sends), [row["status"] for row in sends]
        conversations = {row["conversation_id"] for row in sends}
        arrivals = [
            sent
            for sent in connector.sent[before_load:]
            if sent.method == "POST" and sent.conversation_id.split(";")[0] in conversations
        ]
        arrived = {sent.activity_id for sent in arrivals}
        missing = [row["summary"] for row in sends if row["activity_id"] not in arrived]
        assert not missing, f"{len(missing)} notices never reached Teams: {missing}"
        recorded_ids = {row["activity_id"] for row in sends}
        duplicates = [sent for sent in arrivals if sent.activity_id not in recorded_ids]
        assert len(arrivals) == len(sends) + len(duplicates)
        texts = collections.Counter((sent.conversation_id, sent.text) for sent in arrivals)
        assert len(duplicates) <= len(conversations), (
            f"{len(duplicates)} duplicate deliveries for {len(conversations)} conversations: "
            + json.dumps(
                [[d.conversation_id, d.text.splitlines()[1:3], texts[(d.conversation_id, d.text)]] for d in duplicates]
            )
            + json.dumps([[r["conversation_id"], r["summary"], r["activity_id"], r["attempts"]] for r in sends])
        )
        assert not killed.data_dir.exists() and not replicas[0].data_dir.exists(), "nothing on a replica's disk"

        report = {
            "events_sent": sum(len(batch) for batch in windows) * 2,
            "distinct_events": len(all_ids),
            "events_recorded": recorded,
            "requests_retried": client.retries,
            "presses_on_both_replicas": len(client.approve_answers),
            "approvals_recorded": sum(approvals_per_officer.values()),
            "acknowledgments_recorded": len(acknowledgments or []),
            "incidents_resolved_once": len(resolved_ids),
            "notices_sent": len(sends),
            "notice_deliveries": len(arrivals),
            "duplicate_deliveries": len(duplicates),
            "conversations": len(conversations),
            "forwarded_by_proxy": {str(port): count for port, count in proxy.forwarded.items()},
            "killed_replica_port": killed.port,
        }
        REPORT.parent.mkdir(exist_ok=True)
        REPORT.write_text(json.dumps(report, indent=2) + "\n")
        print(json.dumps(report, indent=2))
    finally:
        await session.close()
        await proxy.close()
        for replica in replicas:
            replica.stop()
        await connector.close()
