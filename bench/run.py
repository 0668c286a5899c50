"""The benchmark driver: starts the echo bot and our bot as processes, loads them, reports and judges.

Everything runs on 127.0.0.1: the bots, the fake connector (in this process) and the load. The
bots are loaded one at a time, so each has the machine's two cores to itself while measured.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import platform
import shutil
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.fake_connector import FakeConnector, cards_of, find_action_data
from bench.load import WHOLE, Stats, measure, stats_of
from bench.prefill import (
    ALL_OFFICERS,
    BENCH_AGENCY,
    MONITORED_NUMBER,
    People,
    monitoring_officer,
    prefill,
    prefill_monitoring,
    prefill_years,
    ready_officer,
)
from intake.signature import SIGNATURE_HEADER, sign

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
LOGS = BUILD / "bench-logs"
SECRET = "bench-secret-0123456789abcdef"
BOT_ID = "28:bench-bot"
TENANT = "tenant-bench"
PEOPLE = People(
    poc="11111111-1111-4111-8111-111111111111",
    jb="22222222-2222-4222-8222-222222222222",
    agency_channel="19:bench-agency@thread.tacv2",
)

TURNS = int(os.environ.get("BENCH_TURNS", "300"))
TURN_WARMUP = 30
TURN_CONCURRENCY = 4
SINGLE_EVENTS = int(os.environ.get("BENCH_SINGLE_EVENTS", "2000"))
SINGLE_WARMUP = 200
SENDERS = 8
POSTGRES_STORED = int(os.environ.get("BENCH_POSTGRES_STORED", "100000"))
BATCHES = int(os.environ.get("BENCH_BATCHES", "40"))
BATCH_SIZE = 100
BATCH_CONCURRENCY = 2
STAGES = tuple(int(n) for n in os.environ.get("BENCH_STAGES", "0,10000,100000,1000000").split(",") if n)
YEARS_FROM = 1_000_000
"""Stages of at least this many stored events hold ten years of them, the older ones archived as the bot does."""
MONITORING = tuple(
    (int(officers), int(each))
    for officers, _, each in (
        stage.partition("x") for stage in os.environ.get("BENCH_MONITORING", "2x5,1x50000,200x250").split(",") if stage
    )
)
"""Monitoring stages: officers in monitoring x e-tickets each; the first is the baseline of JB /status."""
STATUS_TURNS = int(os.environ.get("BENCH_STATUS_TURNS", "100"))
STATUS_WARMUP = 10
LAG_TICK = 0.001
START_TIMEOUT = 90.0
STOP_TIMEOUT = 60.0
REQUEST_TIMEOUT = 30.0

TARGETS = {
    "help_p50_ratio": 1.5,
    "approve_p50_ratio": 2.0,
    "intake_p99_ratio_100k_vs_empty": 2.0,
    "single_event_per_second": 500.0,
    "peak_rss_mb_100k": 300.0,
    "monitoring_single_p99_ratio": 2.0,
    "monitoring_status_p50_ratio": 2.0,
    "recheck_loop_block_ms": 50.0,
    "peak_rss_mb_1m": 300.0,
    "cold_start_s_1m": 3.0,
    "ratio_growth_1m_vs_100k": 1.3,
}
"""The 1,000,000-event stage's p99s keep the ratios of the 100,000-event stage: to the echo bot's /help
p99 (turns) and to the empty store's single-event p99, within 30 % (the machine's noise moved echo-bot
numbers by up to that much between runs)."""


# ---- processes -------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on 127.0.0.1 just now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_status_kb(pid: int, field_name: str) -> int | None:
    """A ``/proc/<pid>/status`` size field (VmHWM, VmRSS) in kB, or None when unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass(frozen=True)
class CpuSample:
    """Machine-wide busy and stolen CPU seconds, and those of the bench's own processes, at one instant."""

    at: float
    busy_s: float
    steal_s: float
    ours_s: float


def cpu_sample(pids: list[int]) -> CpuSample:
    """Read /proc/stat and /proc/<pid>/stat (utime + stime) for ``pids``."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    ours = 0
    for pid in pids:
        try:
            rest = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            ours += int(rest[11]) + int(rest[12])
        except (OSError, IndexError, ValueError):
            continue
    return CpuSample(time.monotonic(), (user + nice + system + irq + softirq) / tick, steal / tick, ours / tick)


def foreign_cpu(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """CPU seconds other processes used (and the hypervisor stole) between two samples: noise in the results."""
    wall = after.at - before.at
    foreign = max(0.0, (after.busy_s - before.busy_s) - (after.ours_s - before.ours_s))
    return {
        "wall_s": round(wall, 1),
        "other_processes_cpu_s": round(foreign, 1),
        "steal_s": round(after.steal_s - before.steal_s, 1),
        "other_share_of_machine": round(foreign / (wall * (os.cpu_count() or 1)), 3) if wall > 0 else 0.0,
    }


@dataclass
class BotProcess:
    """One bot running as its own process, its stderr in a log file."""

    name: str
    port: int
    process: asyncio.subprocess.Process
    log_path: Path
    started_at: float

    @property
    def url(self) -> str:
        """Base URL of the bot."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The process id (the Python interpreter itself, no shell in between)."""
        return self.process.pid

    def peak_rss_mb(self) -> float | None:
        """Peak resident set size so far (VmHWM), MB."""
        kb = proc_status_kb(self.pid, "VmHWM")
        return None if kb is None else round(kb / 1024, 1)

    def log_count(self, text: str) -> int:
        """How many log lines contain ``text``."""
        try:
            return sum(1 for line in self.log_path.read_text(errors="replace").splitlines() if text in line)
        except OSError:
            return 0

    async def stop(self) -> float:
        """SIGTERM, wait (the bot closes its store: a final snapshot), SIGKILL after a timeout; seconds taken."""
        started = time.monotonic()
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return round(time.monotonic() - started, 2)


async def spawn(name: str, args: list[str], env: Mapping[str, str], port: int) -> BotProcess:
    """Start a process in the repository root with stderr and stdout in ``build/bench-logs/<name>.log``."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"{name}.log"
    with open(log_path, "wb") as log:
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            cwd=ROOT,
            env=dict(env),
            stdout=log,
            stderr=log,
            stdin=asyncio.subprocess.DEVNULL,
        )
    return BotProcess(name, port, process, log_path, started)


def base_env() -> dict[str, str]:
    """This process's environment without Bot Framework credentials (both bots run in local mode)."""
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("microsoftapp")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


async def start_echo_bot() -> BotProcess:
    """The bare botbuilder echo bot."""
    port = free_port()
    return await spawn("echo", ["-m", "bench.echo_bot"], base_env() | {"PORT": str(port)}, port)


async def start_our_bot(name: str, data_dir: Path, extra_env: Mapping[str, str] | None = None) -> BotProcess:
    """``python app.py`` with its own data dir, one JB staff member and the intake secret (and ``extra_env``)."""
    port = free_port()
    env = (
        base_env()
        | {
            "PORT": str(port),
            "DATA_DIR": str(data_dir),
            "JB_STAFF_IDS": PEOPLE.jb,
            "TICKET_EVENTS_SECRET": SECRET,
        }
        | dict(extra_env or {})
    )
    return await spawn(name, ["app.py"], env, port)


# ---- activities ------------------------------------------------------------------------------------


def guid(n: int) -> str:
    """A GUID-shaped Azure AD object id for bench user ``n``."""
    return f"{n:08x}-0000-4000-8000-{n:012x}"


def activity(kind: str, service_url: str, conversation_id: str, user: str, *, channel: bool = False) -> dict[str, Any]:
    """A Teams-shaped activity from ``user`` in a personal chat (or an agency channel) to the bot."""
    conversation: dict[str, Any] = {"id": conversation_id, "conversationType": "personal", "tenantId": TENANT}
    channel_data: dict[str, Any] = {"tenant": {"id": TENANT}}
    if channel:
        conversation |= {"conversationType": "channel", "isGroup": True}
        channel_data |= {
            "team": {"id": "19:bench-team@thread.tacv2", "name": "Bench Town PD"},
            "channel": {"id": PEOPLE.agency_channel, "name": "e-Tickets"},
        }
    return {
        "type": kind,
        "id": f"activity-{uuid.uuid4().hex[:12]}",
        "timestamp": datetime.now(UTC).isoformat(),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": f"29:{user}", "name": "Bench User", "aadObjectId": user},
        "conversation": conversation,
        "recipient": {"id": BOT_ID, "name": "JB e-Ticket Bot"},
        "channelData": channel_data,
        "locale": "en-US",
    }


def message(text: str, service_url: str, conversation_id: str, user: str, *, channel: bool = False) -> dict[str, Any]:
    """A typed message (with an @mention of the bot in a channel)."""
    body = activity("message", service_url, conversation_id, user, channel=channel)
    if channel:
        tag = "<at>JB e-Ticket Bot</at>"
        body["text"] = f"{tag} {text}"
        body["entities"] = [{"type": "mention", "text": tag, "mentioned": {"id": BOT_ID, "name": "JB e-Ticket Bot"}}]
    else:
        body["text"] = text
    return body


def invoke(
    verb: str, data: dict[str, Any], service_url: str, conversation_id: str, user: str, reply_to_id: str = "msg-card"
) -> dict[str, Any]:
    """An Action.Execute press: an ``adaptiveCard/action`` invoke carrying the verb and data."""
    body = activity("invoke", service_url, conversation_id, user)
    body["name"] = "adaptiveCard/action"
    body["replyToId"] = reply_to_id
    body["value"] = {
        "action": {"type": "Action.Execute", "verb": verb, "data": {"verb": verb, **data}},
        "trigger": "manual",
    }
    return body


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def ticket_event(
    event_id: str,
    ticket: str,
    *,
    kind: str = "submitted",
    officer: str = MONITORED_NUMBER,
    code: str = BENCH_AGENCY,
    **extra: Any,
) -> dict[str, Any]:
    """A clean intake event (uploaded an hour after issue), or ``kind`` with ``extra`` fields."""
    now = datetime.now(UTC)
    return {
        "event_id": event_id,
        "type": kind,
        "ticket_number": ticket,
        "officer_number": officer,
        "judiciary_code": code,
        "occurred_at": iso(now),
        "issued_at": iso(now - timedelta(hours=1)),
    } | extra


# ---- the driver ------------------------------------------------------------------------------------


@dataclass
class Driver:
    """The HTTP client and fake connector every scenario uses."""

    session: aiohttp.ClientSession
    connector: FakeConnector
    results: dict[str, Any] = field(default_factory=dict)

    async def post_activity(self, bot: BotProcess, body: dict[str, Any]) -> tuple[int, Any]:
        """POST an activity; returns the status and the JSON body (None when empty)."""
        async with self.session.post(f"{bot.url}/api/messages", json=body) as response:
            raw = await response.read()
            return response.status, (json.loads(raw) if raw else None)

    async def turn(self, bot: BotProcess, body: dict[str, Any]) -> dict[str, Any]:
        """Send a message and return the activity the bot replied with (it arrives during the turn)."""
        arrival = self.connector.next_arrival(body["conversation"]["id"])
        try:
            status, _ = await self.post_activity(bot, body)
            if status not in (200, 201, 202):
                raise RuntimeError(f"{bot.name} answered {status}")
            return (await asyncio.wait_for(arrival, REQUEST_TIMEOUT)).body
        finally:
            arrival.cancel()

    async def press(self, bot: BotProcess, body: dict[str, Any]) -> dict[str, Any]:
        """Send an invoke and return the card the bot answered with."""
        status, answer = await self.post_activity(bot, body)
        if status != 200 or not isinstance(answer, dict) or "value" not in answer:
            raise RuntimeError(f"{bot.name} answered the invoke with {status}")
        return answer["value"]

    async def post_events(self, bot: BotProcess, payload: Any) -> dict[str, Any]:
        """POST signed ticket events; returns the JSON answer (raises unless 200)."""
        raw = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(SECRET, raw)}
        async with self.session.post(f"{bot.url}/api/ticket-events", data=raw, headers=headers) as response:
            answer = await response.json()
            if response.status != 200:
                raise RuntimeError(f"intake answered {response.status}: {str(answer)[:200]}")
            return answer

    async def connector_quiet(self, *, for_s: float = 1.0, at_most_s: float = 120.0) -> None:
        """Wait until the bot has sent nothing to the connector for ``for_s`` (its outbox is drained)."""
        deadline = time.monotonic() + at_most_s
        while time.monotonic() < deadline:
            calls = self.connector.calls
            await asyncio.sleep(for_s)
            if self.connector.calls == calls:
                return
        raise RuntimeError("the bot kept sending for two minutes")

    async def cold_start(self, bot: BotProcess) -> float:
        """Seconds from process start to the first /help reply arriving at the fake connector."""
        conversation = f"a:bench-cold-{bot.name}"
        body = message("/help", self.connector.url, conversation, guid(0xC01D))
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if bot.process.returncode is not None:
                raise RuntimeError(f"{bot.name} exited with {bot.process.returncode}; see {bot.log_path}")
            arrival = self.connector.next_arrival(conversation)
            try:
                status, _ = await self.post_activity(bot, body)
            except aiohttp.ClientConnectionError:
                arrival.cancel()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{bot.name} did not start within {START_TIMEOUT} s") from None
                await asyncio.sleep(0.01)
                continue
            if status not in (200, 201):
                raise RuntimeError(f"{bot.name} answered the first /help with {status}")
            reply = await asyncio.wait_for(arrival, REQUEST_TIMEOUT)
            return round(reply.at - bot.started_at, 3)


# ---- turn scenarios --------------------------------------------------------------------------------


async def help_turns(driver: Driver, bot: BotProcess) -> Stats:
    """/help typed in a 1:1 chat, one chat per worker."""

    async def work(worker: int, _: int) -> None:
        await driver.turn(bot, message("/help", driver.connector.url, f"a:bench-help-{worker}", guid(0x100 + worker)))

    return (await measure(work, iterations=TURNS, concurrency=TURN_CONCURRENCY, warmup=TURN_WARMUP))[WHOLE]


async def wizard_steps(driver: Driver, bot: BotProcess) -> dict[str, Stats]:
    """/new-package, then Next on its first card (Valcour chosen); then Cancel (not timed) to begin afresh."""

    async def work(worker: int, _: int) -> dict[str, float]:
        conversation, user = f"a:bench-wizard-{worker}", guid(0x200 + worker)
        started = time.perf_counter()
        reply = await driver.turn(bot, message("/new-package", driver.connector.url, conversation, user))
        typed = time.perf_counter() - started
        found = next((d for card in cards_of(reply) if (d := find_action_data(card, "wizard"))), None)
        wizard = (
            {"wizard": found["wizard"], "step": found.get("step")}
            if found
            else {"wizard": "echo", "step": "records_system"}
        )
        started = time.perf_counter()
        card = await driver.press(
            bot, invoke("wizard.next", wizard | {"records_system": "valcour"}, driver.connector.url, conversation, user)
        )
        pressed = time.perf_counter() - started
        if found and "Pre-conditions" not in json.dumps(card):
            raise RuntimeError("the wizard did not move to its second step")
        await driver.press(bot, invoke("wizard.cancel", wizard, driver.connector.url, conversation, user))
        return {"new_package": typed, "wizard_step": pressed}

    return await measure(work, iterations=TURNS, concurrency=TURN_CONCURRENCY, warmup=TURN_WARMUP)


async def introduce(driver: Driver, bot: BotProcess) -> None:
    """The PoC and JB staff have 1:1 chats and the agency channel has spoken: alerts have somewhere to go."""
    url = driver.connector.url
    await driver.turn(bot, message("/help", url, "a:bench-poc", PEOPLE.poc))
    await driver.turn(bot, message("/help", url, "a:bench-jb", PEOPLE.jb))
    await driver.turn(bot, message("/help", url, f"{PEOPLE.agency_channel};messageid=1", PEOPLE.poc, channel=True))


async def open_incidents(driver: Driver, bot: BotProcess, count: int) -> list[str]:
    """``count`` rejected e-tickets posted through the intake (signed, batches of 100): their incident ids."""
    ids: list[str] = []
    run = uuid.uuid4().hex[:6]
    for start in range(0, count, BATCH_SIZE):
        events = [
            ticket_event(f"rej-{run}-{i}", f"R-{run}-{i}", kind="rejected", reason="Missing plate state")
            for i in range(start, min(count, start + BATCH_SIZE))
        ]
        answer = await driver.post_events(bot, {"events": events})
        ids += [incident["id"] for result in answer["results"] for incident in result["incidents"]]
    return ids


async def approve_presses(driver: Driver, bot: BotProcess, check: bool) -> Stats:
    """Action.Execute Approve by JB staff on a different ready officer each time (echo: the same invoke)."""

    async def work(_: int, iteration: int) -> None:
        code, number = ready_officer(iteration)
        card = await driver.press(
            bot,
            invoke(
                "officer.approve",
                {"judiciary_code": code, "officer_number": number},
                driver.connector.url,
                "a:bench-jb",
                PEOPLE.jb,
            ),
        )
        if check and "Approved by" not in json.dumps(card):
            raise RuntimeError(f"officer {code}:{number} was not approved")

    return (await measure(work, iterations=TURNS, concurrency=TURN_CONCURRENCY, warmup=TURN_WARMUP))[WHOLE]


async def resolve_presses(driver: Driver, bot: BotProcess, incident_ids: list[str] | None) -> Stats:
    """Action.Execute Mark resolved by JB staff on a fresh open incident each time (echo: the same invoke)."""

    async def work(_: int, iteration: int) -> None:
        incident = incident_ids[iteration] if incident_ids else f"echo-{iteration}"
        card = await driver.press(
            bot, invoke("incident.resolve", {"incident_id": incident}, driver.connector.url, "a:bench-jb", PEOPLE.jb)
        )
        if incident_ids and "Resolved by" not in json.dumps(card):
            raise RuntimeError("the incident was not resolved")

    return (await measure(work, iterations=TURNS, concurrency=TURN_CONCURRENCY, warmup=TURN_WARMUP))[WHOLE]


async def turn_comparison(driver: Driver, workdir: Path) -> dict[str, Any]:
    """Echo bot and our bot side by side: cold start, /help, a wizard step, Action.Execute; peak RSS."""
    data_dir = workdir / "turns"
    await prefill(data_dir, 0, PEOPLE, ready=TURNS + TURN_WARMUP)
    echo = await start_echo_bot()
    ours = await start_our_bot("ours-turns", data_dir)
    out: dict[str, Any] = {"echo": {}, "ours": {}}
    try:
        out["echo"]["cold_start_s"] = await driver.cold_start(echo)
        out["ours"]["cold_start_s"] = await driver.cold_start(ours)
        before = cpu_sample([os.getpid(), echo.pid, ours.pid])
        print(f"  cold start: echo {out['echo']['cold_start_s']} s, ours {out['ours']['cold_start_s']} s", flush=True)
        for label, bot in (("echo", echo), ("ours", ours)):
            out[label]["help"] = (await help_turns(driver, bot)).as_dict()
            print(f"  /help {label}: {out[label]['help']}", flush=True)
        for label, bot in (("echo", echo), ("ours", ours)):
            for name, stats in (await wizard_steps(driver, bot)).items():
                out[label][name] = stats.as_dict()
            print(
                f"  wizard {label}: start {out[label]['new_package']['p50_ms']} ms, step {out[label]['wizard_step']['p50_ms']} ms",
                flush=True,
            )
        await introduce(driver, ours)
        out["echo"]["approve"] = (await approve_presses(driver, echo, False)).as_dict()
        out["ours"]["approve"] = (await approve_presses(driver, ours, True)).as_dict()
        print(
            f"  Approve: echo {out['echo']['approve']['p50_ms']} ms, ours {out['ours']['approve']['p50_ms']} ms",
            flush=True,
        )
        started = time.perf_counter()
        incidents = await open_incidents(driver, ours, TURNS + TURN_WARMUP)
        out["ours"]["incident_setup_s"] = round(time.perf_counter() - started, 2)
        if len(incidents) != TURNS + TURN_WARMUP:
            raise RuntimeError(f"expected {TURNS + TURN_WARMUP} incidents, got {len(incidents)}")
        out["echo"]["resolve"] = (await resolve_presses(driver, echo, None)).as_dict()
        out["ours"]["resolve"] = (await resolve_presses(driver, ours, incidents)).as_dict()
        print(
            f"  Mark resolved: echo {out['echo']['resolve']['p50_ms']} ms, ours {out['ours']['resolve']['p50_ms']} ms",
            flush=True,
        )
        out["echo"]["peak_rss_mb"] = echo.peak_rss_mb()
        out["ours"]["peak_rss_mb"] = ours.peak_rss_mb()
        out["noise"] = foreign_cpu(before, cpu_sample([os.getpid(), echo.pid, ours.pid]))
    finally:
        await echo.stop()
        await ours.stop()
    return out


# ---- intake stages ---------------------------------------------------------------------------------


async def intake_stage(driver: Driver, workdir: Path, stored: int) -> dict[str, Any]:
    """Our bot over ``stored`` prefilled events: cold start, /help, single events (8 senders), batches of 100."""
    data_dir = workdir / f"intake-{stored}"
    out: dict[str, Any] = {"stored_events": stored}
    if stored >= YEARS_FROM:
        took, held = await prefill_years(data_dir, stored, PEOPLE)
        out["prefill_s"], out["archived_tickets"] = round(took, 2), sum(held.values())
    else:
        out["prefill_s"] = round(await prefill(data_dir, stored, PEOPLE), 2)
    out["data_mb"] = round(sum(f.stat().st_size for f in data_dir.iterdir()) / 2**20, 1)
    bot = await start_our_bot(f"ours-intake-{stored}", data_dir)
    run = f"s{stored}-{uuid.uuid4().hex[:6]}"
    try:
        out["cold_start_s"] = await driver.cold_start(bot)
        before = cpu_sample([os.getpid(), bot.pid])
        out["help"] = (await help_turns(driver, bot)).as_dict()

        async def single(worker: int, i: int) -> None:
            code, number = ALL_OFFICERS[i % len(ALL_OFFICERS)]
            answer = await driver.post_events(
                bot, ticket_event(f"{run}-single-{i}", f"S-{run}-{i}", code=code, officer=number)
            )
            if answer["results"][0]["status"] != "recorded":
                raise RuntimeError("event not recorded")

        out["single"] = (await measure(single, iterations=SINGLE_EVENTS, concurrency=SENDERS, warmup=SINGLE_WARMUP))[
            WHOLE
        ].as_dict()

        async def batch(_: int, i: int) -> None:
            events = [
                ticket_event(
                    f"{run}-batch-{i}-{j}",
                    f"T-{run}-{i}-{j}",
                    code=ALL_OFFICERS[j % len(ALL_OFFICERS)][0],
                    officer=ALL_OFFICERS[j % len(ALL_OFFICERS)][1],
                )
                for j in range(BATCH_SIZE)
            ]
            answer = await driver.post_events(bot, {"events": events})
            if len(answer["results"]) != BATCH_SIZE:
                raise RuntimeError("batch not recorded")

        out["batch_100"] = (await measure(batch, iterations=BATCHES, concurrency=BATCH_CONCURRENCY, warmup=4))[
            WHOLE
        ].as_dict()
        out["peak_rss_mb"] = bot.peak_rss_mb()
        out["noise"] = foreign_cpu(before, cpu_sample([os.getpid(), bot.pid]))
        out["snapshots_during_run"] = bot.log_count("snapshot written")
    finally:
        out["stop_s"] = await bot.stop()
    print(
        f"  {stored:>7} stored: cold start {out['cold_start_s']} s, single p99 {out['single']['p99_ms']} ms "
        f"at {out['single']['per_second']}/s, batch p99 {out['batch_100']['p99_ms']} ms, RSS {out['peak_rss_mb']} MB",
        flush=True,
    )
    shutil.rmtree(data_dir, ignore_errors=True)
    return out


# ---- monitoring stages -----------------------------------------------------------------------------


async def status_turns(driver: Driver, bots: list[BotProcess]) -> list[Stats]:
    """JB staff type /status in their 1:1 chat (every officer in monitoring, ready ones first), one turn at a time.

    With several bots the turns alternate between them (one to each, again and again), so whatever
    else the machine does weighs on every bot alike: their ratio is what the target judges.
    """
    samples: list[list[float]] = [[] for _ in bots]
    errors = [0 for _ in bots]
    started = time.perf_counter()
    for turn in range(STATUS_WARMUP + STATUS_TURNS):
        for index, bot in enumerate(bots):
            began = time.perf_counter()
            try:
                reply = await driver.turn(bot, message("/status", driver.connector.url, "a:bench-jb-status", PEOPLE.jb))
                if "monitoring status" not in json.dumps(reply):
                    raise RuntimeError("/status did not answer with the status card")
            except Exception:
                errors[index] += 1
                continue
            if turn >= STATUS_WARMUP:
                samples[index].append(time.perf_counter() - began)
    elapsed = time.perf_counter() - started
    return [
        stats_of(values, elapsed=elapsed, concurrency=1, errors=errors[index]) for index, values in enumerate(samples)
    ]


async def loop_block_while(job: Any) -> tuple[Any, dict[str, float]]:
    """Run ``job`` (a coroutine) while a probe sleeps ``LAG_TICK`` again and again.

    Returns the job's result and, in ms, the longest overshoot of the probe's sleep (``lag``, wall
    clock: it includes any time the OS ran other processes instead) and the most CPU time the event
    loop's thread spent in one such interval (``busy``: the loop blocked by our own code).
    """
    done = asyncio.Event()
    lag = busy = 0.0

    async def probe() -> None:
        nonlocal lag, busy
        while not done.is_set():
            started, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(LAG_TICK)
            lag = max(lag, time.perf_counter() - started - LAG_TICK)
            busy = max(busy, time.thread_time() - cpu)

    task = asyncio.create_task(probe())
    await asyncio.sleep(LAG_TICK)
    try:
        result = await job
    finally:
        done.set()
        await task
    return result, {"lag_ms": round(lag * 1000, 2), "busy_ms": round(busy * 1000, 2)}


async def recheck_lag(data_dir: Path) -> dict[str, Any]:
    """The hourly re-check (``services.approval.recheck``) over the stage's store, in this process, loop lag measured.

    Twice: as every hour (nobody's readiness changed since the bot's own re-check), and with the
    readiness memory cleared, so every ready officer becomes ready at once and their readiness
    cards are drawn and queued (the JB chat exists): the heaviest re-check there is.
    """
    from app import wire
    from domain.records import OfficerState
    from services.approval import recheck, view_of
    from settings import Settings
    from storage.repositories import Database

    settings = Settings.from_env({"DATA_DIR": str(data_dir), "JB_STAFF_IDS": PEOPLE.jb})
    db = await Database.open(data_dir)
    gc.collect()
    gc.freeze()  # as the bot does once its store is open (app.py)
    try:
        app = wire(settings, db)
        # the bot has drawn cards before its first hourly re-check: so does this process (first use builds the models)
        app.notifier.presenter.view_card(view_of(app, db.officers.in_state(OfficerState.MONITORING)[0]))
        started = time.perf_counter()
        steady, steady_block = await loop_block_while(recheck(app))
        steady_s = time.perf_counter() - started
        await db.commit([db.readiness.put(key, False, datetime.now(UTC)) for key in db.readiness.ready_keys()])
        started = time.perf_counter()
        fresh, fresh_block = await loop_block_while(recheck(app))
        fresh_s = time.perf_counter() - started
    finally:
        await db.close()
        gc.unfreeze()
    return {
        "hourly": {"became_ready": len(steady), "seconds": round(steady_s, 3)} | steady_block,
        "all_become_ready": {"became_ready": len(fresh), "seconds": round(fresh_s, 3)} | fresh_block,
        "max_loop_block_ms": max(steady_block["busy_ms"], fresh_block["busy_ms"]),
        "max_loop_lag_ms": max(steady_block["lag_ms"], fresh_block["lag_ms"]),
    }


@dataclass
class Stage:
    """A monitoring stage's results, and its bot while it keeps running (the baseline does, for the later stages)."""

    out: dict[str, Any]
    data_dir: Path
    bot: BotProcess | None = None

    async def finish(self) -> dict[str, Any]:
        """Stop the bot if it runs, measure the hourly re-check over the store, remove the store."""
        if self.bot is not None:
            self.out["stop_s"] = await self.bot.stop()
            self.bot = None
        self.out["recheck"] = await recheck_lag(self.data_dir)
        shutil.rmtree(self.data_dir, ignore_errors=True)
        return self.out


async def monitoring_stage(
    driver: Driver, workdir: Path, officers: int, each: int, *, baseline: BotProcess | None = None
) -> Stage:
    """``officers`` in monitoring holding ``each`` e-tickets: JB /status, single events to them; the bot keeps running.

    With a ``baseline`` bot running, the /status turns alternate between the two (``status_turns``)
    and the baseline's own turns of this pairing are kept beside the stage's (``status_baseline``).
    """
    name = f"{officers}x{each}"
    data_dir = workdir / f"monitoring-{name}"
    out: dict[str, Any] = {"officers": officers, "each": each, "e_tickets": officers * each}
    out["prefill_s"] = round(await prefill_monitoring(data_dir, PEOPLE, officers=officers, tickets_each=each), 2)
    out["data_mb"] = round(sum(f.stat().st_size for f in data_dir.iterdir()) / 2**20, 1)
    bot = await start_our_bot(f"ours-monitoring-{name}", data_dir)
    stage = Stage(out, data_dir, bot)
    run = f"m{name}-{uuid.uuid4().hex[:6]}"
    try:
        out["cold_start_s"] = await driver.cold_start(bot)
        # JB staff's 1:1 chat appears: the readiness cards the start-up re-check queued for the JB go out first
        await driver.turn(bot, message("/help", driver.connector.url, "a:bench-jb-status", PEOPLE.jb))
        await driver.connector_quiet()
        before = cpu_sample([os.getpid(), bot.pid])
        bot_cpu = cpu_sample([bot.pid]).ours_s
        stats = await status_turns(driver, [bot] if baseline is None else [bot, baseline])
        out["status"] = stats[0].as_dict()
        if baseline is not None:
            out["status_baseline"] = stats[1].as_dict()
        turns = STATUS_TURNS + STATUS_WARMUP
        out["status"]["bot_cpu_ms_per_turn"] = round((cpu_sample([bot.pid]).ours_s - bot_cpu) * 1000 / turns, 2)

        async def single(_: int, i: int) -> None:
            code, number = monitoring_officer(i % officers)
            answer = await driver.post_events(
                bot, ticket_event(f"{run}-single-{i}", f"S-{run}-{i}", code=code, officer=number)
            )
            if answer["results"][0]["status"] != "recorded":
                raise RuntimeError("event not recorded")

        out["single"] = (await measure(single, iterations=SINGLE_EVENTS, concurrency=SENDERS, warmup=SINGLE_WARMUP))[
            WHOLE
        ].as_dict()
        out["peak_rss_mb"] = bot.peak_rss_mb()
        out["noise"] = foreign_cpu(before, cpu_sample([os.getpid(), bot.pid]))
    except BaseException:
        await stage.finish()
        raise
    print(
        f"  {name:>9}: cold start {out['cold_start_s']} s, /status p50 {out['status']['p50_ms']} ms"
        + (f" (baseline alongside {out['status_baseline']['p50_ms']} ms)" if baseline is not None else "")
        + f", single p99 {out['single']['p99_ms']} ms, RSS {out['peak_rss_mb']} MB",
        flush=True,
    )
    return stage


async def monitoring_stages(driver: Driver, workdir: Path) -> dict[str, dict[str, Any]]:
    """Every monitoring stage; the first (the baseline) keeps its bot running so that the others' /status pairs with it."""
    results: dict[str, dict[str, Any]] = {}
    baseline: Stage | None = None
    try:
        for officers, each in MONITORING:
            stage = await monitoring_stage(
                driver, workdir, officers, each, baseline=baseline.bot if baseline is not None else None
            )
            if baseline is None:
                baseline = stage
            else:
                await stage.finish()
            results[f"{officers}x{each}"] = stage.out
    finally:
        if baseline is not None:
            await baseline.finish()
    for name, out in results.items():
        print(f"  {name:>9}: re-check longest loop block {out['recheck']['max_loop_block_ms']} ms", flush=True)
    return results


# ---- report ----------------------------------------------------------------------------------------


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b rounded, or None."""
    return round(a / b, 2) if a and b else None


def judge(
    turns: dict[str, Any], stages: dict[int, dict[str, Any]], monitoring: dict[str, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Pass/fail for each target of issues 7 and 13."""
    echo, ours = turns["echo"], turns["ours"]
    checks: list[dict[str, Any]] = []

    def check(name: str, value: float | None, limit: float, at_most: bool, text: str) -> None:
        ok = value is not None and (value <= limit if at_most else value >= limit)
        checks.append({"target": name, "value": value, "limit": limit, "pass": ok, "text": text})

    check(
        "help_p50_ratio",
        ratio(ours["help"]["p50_ms"], echo["help"]["p50_ms"]),
        TARGETS["help_p50_ratio"],
        True,
        "our /help p50 within 1.5x of the echo bot's",
    )
    check(
        "approve_p50_ratio",
        ratio(ours["approve"]["p50_ms"], echo["approve"]["p50_ms"]),
        TARGETS["approve_p50_ratio"],
        True,
        "Action.Execute Approve p50 within 2x of the echo bot's invoke",
    )
    empty = stages.get(0)
    full = stages.get(100_000) or (stages.get(max(s for s in stages if s < YEARS_FROM)) if stages else None)
    check(
        "intake_p99_ratio_100k_vs_empty",
        ratio(full["single"]["p99_ms"], empty["single"]["p99_ms"]) if empty and full and max(stages) > 0 else None,
        TARGETS["intake_p99_ratio_100k_vs_empty"],
        True,
        f"single-event intake p99 at {full['stored_events'] if full else 0:,} stored within 2x of empty",
    )
    check(
        "single_event_per_second",
        min((s["single"]["per_second"] for s in stages.values()), default=None),
        TARGETS["single_event_per_second"],
        False,
        "single-event requests per second with 8 senders (lowest stage)",
    )
    check(
        "peak_rss_mb_100k",
        full["peak_rss_mb"] if full else None,
        TARGETS["peak_rss_mb_100k"],
        True,
        f"our peak RSS at {full['stored_events'] if full else 0:,} stored events, MB",
    )
    million = stages.get(YEARS_FROM)
    if million is not None:
        check(
            "peak_rss_mb_1m",
            million["peak_rss_mb"],
            TARGETS["peak_rss_mb_1m"],
            True,
            "our peak RSS at 1,000,000 stored events (ten years, the older archived), MB",
        )
        check(
            "cold_start_s_1m",
            million["cold_start_s"],
            TARGETS["cold_start_s_1m"],
            True,
            "cold start at 1,000,000 stored events, s",
        )
        echo_help = echo["help"]["p99_ms"]
        for what, of, base in (
            ("/help p99 to the echo bot's /help p99", "help", echo_help),
            ("single-event p99 to the empty store's", "single", (empty or {}).get("single", {}).get("p99_ms")),
        ):
            at_1m = ratio(million[of]["p99_ms"], base)
            at_100k = ratio(full[of]["p99_ms"], base) if full else None
            check(
                f"ratio_growth_1m_vs_100k_{of}",
                ratio(at_1m, at_100k),
                TARGETS["ratio_growth_1m_vs_100k"],
                True,
                f"{what} at 1,000,000 stored ({at_1m}) over the same ratio at 100,000 ({at_100k})",
            )
    monitoring = monitoring or {}
    baseline = next(iter(monitoring.values()), None)
    empty_p99 = (empty or baseline or {}).get("single", {}).get("p99_ms")
    empty_name = "the empty store" if empty else "the first monitoring stage"
    for name, stage in list(monitoring.items())[1:]:
        label = f"{stage['officers']} officer{'s' if stage['officers'] != 1 else ''} in monitoring x {stage['each']:,}"
        check(
            f"monitoring_single_p99_ratio_{name}",
            ratio(stage["single"]["p99_ms"], empty_p99),
            TARGETS["monitoring_single_p99_ratio"],
            True,
            f"single-event p99 with {label} within 2x of {empty_name}",
        )
        paired = stage.get("status_baseline") or (baseline or {}).get("status", {})
        check(
            f"monitoring_status_p50_ratio_{name}",
            ratio(stage["status"]["p50_ms"], paired.get("p50_ms")),
            TARGETS["monitoring_status_p50_ratio"],
            True,
            f"JB /status p50 with {label} within 2x of {baseline['officers'] if baseline else '?'} officers",
        )
    if monitoring:
        check(
            "recheck_loop_block_ms",
            max(stage["recheck"]["max_loop_block_ms"] for stage in monitoring.values()),
            TARGETS["recheck_loop_block_ms"],
            True,
            "the hourly re-check's longest event-loop block, ms of the loop's CPU (every monitoring stage)",
        )
    return checks


def table(
    turns: dict[str, Any],
    stages: dict[int, dict[str, Any]],
    checks: list[dict[str, Any]],
    monitoring: dict[str, dict[str, Any]] | None = None,
) -> str:
    """The results as Markdown tables."""
    echo, ours = turns["echo"], turns["ours"]
    lines = [
        f"Turns: {TURNS} measured per scenario after {TURN_WARMUP} warm-up, {TURN_CONCURRENCY} concurrent clients.",
        "",
        "| scenario | bot | p50 ms | p95 ms | p99 ms | per s | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    names = [
        ("help", "/help turn"),
        ("new_package", "/new-package turn"),
        ("wizard_step", "wizard step (card submit)"),
        ("approve", "Action.Execute Approve"),
        ("resolve", "Action.Execute Mark resolved"),
    ]
    for key, title in names:
        for label, data in (("echo", echo), ("ours", ours)):
            s = data[key]
            lines.append(
                f"| {title} | {label} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | {s['per_second']} | {s['errors']} |"
            )
        lines.append(
            f"| {title} | ours/echo | {ratio(ours[key]['p50_ms'], echo[key]['p50_ms'])} | "
            f"{ratio(ours[key]['p95_ms'], echo[key]['p95_ms'])} | {ratio(ours[key]['p99_ms'], echo[key]['p99_ms'])} | "
            f"{ratio(ours[key]['per_second'], echo[key]['per_second'])} | |"
        )
    lines += [
        "",
        "| bot | cold start to first reply s | peak RSS MB |",
        "| --- | ---: | ---: |",
        f"| echo | {echo['cold_start_s']} | {echo['peak_rss_mb']} |",
        f"| ours | {ours['cold_start_s']} | {ours['peak_rss_mb']} |",
        f"| ours/echo | {ratio(ours['cold_start_s'], echo['cold_start_s'])} | {ratio(ours['peak_rss_mb'], echo['peak_rss_mb'])} |",
        "",
        f"Intake: single events {SINGLE_EVENTS} after {SINGLE_WARMUP} warm-up with {SENDERS} senders; "
        f"{BATCHES} batches of {BATCH_SIZE} with {BATCH_CONCURRENCY} senders.",
        "",
        "| stored events | prefill s | cold start s | /help p50 ms | single p50 ms | single p99 ms | single per s "
        "| batch p50 ms | batch p99 ms | events per s (batches) | peak RSS MB | snapshots | stop s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for stored, s in sorted(stages.items()):
        lines.append(
            f"| {stored:,} | {s['prefill_s']} | {s['cold_start_s']} | {s['help']['p50_ms']} | {s['single']['p50_ms']} | "
            f"{s['single']['p99_ms']} | {s['single']['per_second']} | {s['batch_100']['p50_ms']} | "
            f"{s['batch_100']['p99_ms']} | {round(s['batch_100']['per_second'] * BATCH_SIZE)} | {s['peak_rss_mb']} | "
            f"{s['snapshots_during_run']} | {s['stop_s']} |"
        )
    monitoring = monitoring or {}
    if monitoring:
        lines += [
            "",
            f"Officers in monitoring: JB /status {STATUS_TURNS} turns after {STATUS_WARMUP} warm-up, one at a time, "
            "each stage's alternating with the baseline's bot (its p50 in those pairs in brackets); single events as "
            "above, spread over the stage's officers; the hourly re-check in the driver over the stage's store.",
            "",
            "| officers x e-tickets each | stored events | prefill s | cold start s | /status p50 ms | /status p99 ms "
            "| /status bot CPU ms per turn "
            "| single p50 ms | single p99 ms | single per s | re-check s (hourly) | re-check s (all become ready) "
            "| re-check longest loop block ms (CPU) | re-check longest loop lag ms (wall) | peak RSS MB |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for m in monitoring.values():
            r = m["recheck"]
            lines.append(
                f"| {m['officers']} x {m['each']:,} | {m['e_tickets'] * 2:,} | {m['prefill_s']} | {m['cold_start_s']} | "
                f"{m['status']['p50_ms']}"
                + (f" ({m['status_baseline']['p50_ms']})" if "status_baseline" in m else "")
                + f" | {m['status']['p99_ms']} | {m['status']['bot_cpu_ms_per_turn']} | "
                f"{m['single']['p50_ms']} | {m['single']['p99_ms']} | "
                f"{m['single']['per_second']} | {r['hourly']['seconds']} | {r['all_become_ready']['seconds']} "
                f"({r['all_become_ready']['became_ready']} ready) | {r['max_loop_block_ms']} | {r['max_loop_lag_ms']} | "
                f"{m['peak_rss_mb']} |"
            )
    noise = [("turns", turns.get("noise"))] + [(f"intake {k:,}", v.get("noise")) for k, v in sorted(stages.items())]
    noise += [(f"monitoring {k}", v.get("noise")) for k, v in monitoring.items()]
    lines += [
        "",
        "Other processes' share of the machine's CPU while measuring (noise): "
        + ", ".join(f"{name} {n['other_share_of_machine']:.0%} (steal {n['steal_s']} s)" for name, n in noise if n),
    ]
    lines += ["", "| target | value | limit | result |", "| --- | ---: | ---: | --- |"]
    for c in checks:
        lines.append(f"| {c['text']} | {c['value']} | {c['limit']} | {'PASS' if c['pass'] else 'FAIL'} |")
    return "\n".join(lines)


async def run() -> dict[str, Any]:
    """The whole benchmark; returns what is written to build/bench.json."""
    began = time.monotonic()
    connector = await FakeConnector().start()
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    session = aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=64))
    driver = Driver(session, connector)
    workdir = Path(tempfile.mkdtemp(prefix="jb-bench-"))
    try:
        print("turns: echo bot vs our bot", flush=True)
        turns = await turn_comparison(driver, workdir)
        stages: dict[int, dict[str, Any]] = {}
        print("intake: POST /api/ticket-events by stored events", flush=True)
        for stored in STAGES:
            stages[stored] = await intake_stage(driver, workdir, stored)
        print("officers in monitoring: JB /status, single events, the hourly re-check", flush=True)
        monitoring = await monitoring_stages(driver, workdir)
        print("PostgreSQL: the bench data migrated, then one replica and two", flush=True)
        from bench.postgres_stage import postgres_stage  # it imports this module

        postgres = await postgres_stage(driver, workdir, POSTGRES_STORED)
    finally:
        await session.close()
        await connector.close()
        shutil.rmtree(workdir, ignore_errors=True)
    checks = judge(turns, stages, monitoring)
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "settings": {
            "turns": TURNS,
            "turn_warmup": TURN_WARMUP,
            "turn_concurrency": TURN_CONCURRENCY,
            "single_events": SINGLE_EVENTS,
            "single_warmup": SINGLE_WARMUP,
            "senders": SENDERS,
            "batches": BATCHES,
            "batch_size": BATCH_SIZE,
            "batch_concurrency": BATCH_CONCURRENCY,
            "status_turns": STATUS_TURNS,
            "status_warmup": STATUS_WARMUP,
        },
        "turns": turns,
        "intake": {str(k): v for k, v in stages.items()},
        "monitoring": monitoring,
        "postgresql": postgres,
        "targets": checks,
        "connector_calls": connector.calls,
        "duration_s": round(time.monotonic() - began, 1),
    }


def main() -> None:
    """Run, print the table and a pass/fail line per target, write build/bench.json; exit 1 if a target is missed."""
    results = asyncio.run(run())
    BUILD.mkdir(exist_ok=True)
    (BUILD / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(
        table(
            results["turns"],
            {int(k): v for k, v in results["intake"].items()},
            results["targets"],
            results["monitoring"],
        )
    )
    postgres = results["postgresql"]
    print()
    print(
        f"PostgreSQL ({postgres['stored_events']:,} stored events, copied by make migrate-to-postgres in "
        f"{postgres['migrate']['seconds']} s, counts match: {postgres['migrate']['counts_match']})"
    )
    print(f"  cold start of each replica: {postgres['cold_start_s']} s")
    for count in (1, 2):
        figures = postgres[f"replicas_{count}"]
        print(
            f"  {count} replica{'s' if count > 1 else ' '}: /help p50 {figures['help']['p50_ms']} ms "
            f"p99 {figures['help']['p99_ms']} ms; single event p50 {figures['single']['p50_ms']} ms "
            f"p99 {figures['single']['p99_ms']} ms at {figures['single']['per_second']}/s; RSS {figures['peak_rss_mb']} MB"
        )
    print()
    for c in results["targets"]:
        print(f"{'PASS' if c['pass'] else 'FAIL'}: {c['text']}: {c['value']} (limit {c['limit']})")
    print(f"\nwritten to {BUILD / 'bench.json'} in {results['duration_s']} s; bot logs in {LOGS}")
    if not all(c["pass"] for c in results["targets"]):
        raise SystemExit(1)
