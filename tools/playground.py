"""The bot as a process and one Microsoft 365 Agents Playground instance per person: what ``make demo`` starts.

The end-to-end tier (tests/e2e) starts the same things through this module, so the demo and the
tests run one set-up: the bot started by ``make run`` in local mode, and two Playground instances,
"Pat Poc, Williston Police Department" (an agency's Point-of-Contact) and "Jamie Staff, Judicial
Bureau" (JB e-ticket staff, in ``JB_STAFF_IDS``), each with its own team and channel.

What the Agents Playground (npm ``@microsoft/m365agentsplayground`` 0.2.28) does, as seen on this machine:

- It reads ``.m365agentsplayground.yml`` from its working directory. The file needs
  ``version: "0.1.1"`` (without it the server logs a ConfigFileParseError to ``devTools/`` and
  exits), ``tenantId``, ``bot``, ``currentUser``, at least five ``users``, ``personalChat``,
  ``groupChat`` and ``team`` with ``channels``. Every message it posts comes from ``currentUser``;
  two instances with two configs give two people.
- ``bot.name`` is the bot's display name: the mention menu, the message headers. Without a config
  file the package's built-in one (in ``dist/index.js``) calls it "Test Bot".
- It exits when its standard input closes, so it is started with a pipe that stays open.
- Loading the page sends the bot ``installationUpdate`` and ``conversationUpdate`` (the bot
  added) for every chat, so the welcome card appears on each load.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from intake.signature import SIGNATURE_HEADER, sign

ROOT = Path(__file__).resolve().parents[1]
PLAYGROUND_BIN = ROOT / "node_modules" / ".bin" / "agentsplayground"
BOT_NAME = "JB e-Ticket Bot"
START_TIMEOUT = 60.0
"""Seconds the bot or a Playground may take to answer after it was started."""


@dataclass(frozen=True)
class Persona:
    """One Playground user and the chats their instance shows."""

    key: str
    user_id: str
    name: str
    aad_id: str
    email: str
    tenant: str
    team_id: str
    team_name: str
    channel_id: str
    channel_name: str
    colleagues: tuple[str, ...] = ("Avery One", "Blair Two", "Cameron Three", "Devon Four", "Emery Five")

    @property
    def title(self) -> str:
        """Who this is, as the demo introduces them: "Pat Poc, Williston Police Department"."""
        return f"{self.name}, {self.team_name}"

    def config(self) -> str:
        """The ``.m365agentsplayground.yml`` of this persona (JSON is valid YAML)."""
        prefix = self.aad_id[:-2]
        users = [
            {
                "id": f"{self.key}-user-{n}",
                "name": name,
                "userPrincipleName": f"user{n}@{self.key}.example",
                "aadObjectId": f"{prefix}{n:02d}",
                "givenName": name.split()[0],
                "surname": name.split()[-1],
                "email": f"user{n}@{self.key}.example",
            }
            for n, name in enumerate(self.colleagues, start=10)
        ]
        first, _, last = self.name.partition(" ")
        return json.dumps(
            {
                "version": "0.1.1",
                "tenantId": self.tenant,
                "bot": {"id": "jb-eticket-bot", "name": BOT_NAME},
                "currentUser": {
                    "id": self.user_id,
                    "name": self.name,
                    "userPrincipleName": self.email,
                    "aadObjectId": self.aad_id,
                    "givenName": first,
                    "surname": last,
                    "email": self.email,
                },
                "users": users,
                "personalChat": {"id": f"{self.key}-personal-chat"},
                "groupChat": {"id": f"{self.key}-group-chat", "name": f"{self.team_name} group"},
                "team": {
                    "id": self.team_id,
                    "name": self.team_name,
                    "aadGroupId": f"{prefix}99",
                    "channels": [{"id": self.channel_id, "name": self.channel_name}],
                },
            },
            indent=2,
        )


POC = Persona(
    "poc",
    "poc-user",
    "Pat Poc",
    "11111111-1111-4111-8111-111111111101",
    "pat.poc@williston.example",
    "tenant-vermont",
    "williston-team",
    "Williston Police Department",
    "williston-etickets",
    "Agency e-Tickets",
)
JB = Persona(
    "jb",
    "jb-user",
    "Jamie Staff",
    "22222222-2222-4222-8222-222222222201",
    "jamie.staff@vermont.example",
    "tenant-vermont",
    "jb-team",
    "Judicial Bureau",
    "jb-etickets",
    "JB e-Tickets",
)
PEOPLE = (POC, JB)
"""The two people of the demo and of the end-to-end tier, the PoC first."""


def free_port() -> int:
    """A TCP port nobody listens on now (loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_taken(port: int) -> bool:
    """Whether something listens on this TCP port (on any interface), so a server could not bind it."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp and node bind
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return True
    return False


def listening(port: int) -> bool:
    """Whether a server accepts connections on this port of the loopback interface."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def new_secret() -> str:
    """A fresh ticket-events secret (48 hex digits; the bot wants at least 16 characters)."""
    return secrets.token_hex(24)


def wait_http(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until url answers 2xx; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        with contextlib.suppress(OSError, urllib.error.URLError):
            with urllib.request.urlopen(url, timeout=2) as response:
                if 200 <= response.status < 300:
                    return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def stop_process(process: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGTERM) -> None:
    """End a process started in its own session, and everything in its process group: ``sig``, then SIGKILL."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def log_tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file, for a message that says why something did not start."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class BotProcess:
    """The bot started by ``make run``, on its own port and data dir, with JB staff and an intake secret."""

    data_dir: Path
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    secret: str = field(default_factory=new_secret, repr=False)
    jb_staff: Persona = JB
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> BotProcess:
        """Start ``make run`` (the README's command) without waiting for it to answer."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
        env |= {
            "PORT": str(self.port),
            "DATA_DIR": str(self.data_dir),
            "TICKET_EVENTS_SECRET": self.secret,
            "JB_STAFF_IDS": self.jb_staff.aad_id,
        } | self.env
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            # make and the bot share a process group, in a session of their own, that stop() ends
            self.process = subprocess.Popen(
                ["make", "--no-print-directory", "run"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> BotProcess:
        """Wait until ``/healthz`` answers."""
        wait_http(f"{self.url}/healthz", timeout, self.process)
        return self

    def start(self) -> BotProcess:
        """Start the bot and wait until it answers."""
        return self.launch().wait_ready()

    def stop(self) -> None:
        """Stop make and the bot as Ctrl-C in a terminal does: SIGINT to both (make forwards a SIGTERM to the bot,
        which would then get two signals and cut its shutdown short)."""
        if self.process is not None:
            stop_process(self.process, signal.SIGINT)

    def log(self) -> str:
        """What the bot wrote to its log so far."""
        return self.log_path.read_text(errors="replace")

    def post_events(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        """POST signed ticket events, as the records systems do; returns the JSON answer."""
        body = json.dumps({"events": events}).encode()
        request = urllib.request.Request(
            f"{self.url}/api/ticket-events",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, body)},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            result: dict[str, Any] = json.loads(response.read())
            return result

    def move_clock(self, instant: datetime) -> datetime:
        """Move the local-mode bot's story clock forward to ``instant`` (signed, like the intake)."""
        body = json.dumps({"to": instant.isoformat()}).encode()
        request = urllib.request.Request(
            f"{self.url}/api/local/clock",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, body)},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return datetime.fromisoformat(json.loads(response.read())["now"])


@dataclass
class Playground:
    """One Agents Playground instance for one persona, run from its own folder with its own config."""

    persona: Persona
    folder: Path
    bot_url: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def log_path(self) -> Path:
        return self.folder / "playground.log"

    def launch(self) -> Playground:
        """Write the persona's config and start the Playground without waiting for it to answer."""
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / ".m365agentsplayground.yml").write_text(self.persona.config())
        env = os.environ | {"TEAMSAPPTESTER_BROWSER": "none"}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(PLAYGROUND_BIN),
                    "-e",
                    f"{self.bot_url}/api/messages",
                    "-c",
                    "msteams",
                    "-p",
                    str(self.port),
                    "--disable-telemetry",
                ],
                cwd=self.folder,
                env=env,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> Playground:
        """Wait until the page answers."""
        wait_http(self.url, timeout, self.process)
        return self

    def start(self) -> Playground:
        """Start the Playground and wait until its page answers."""
        return self.launch().wait_ready()

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(OSError):
                if self.process.stdin:
                    self.process.stdin.close()
            stop_process(self.process)


def start_playgrounds(
    bot_url: str,
    folder: Path,
    ports: Mapping[str, int] | None = None,
    people: Iterable[Persona] = PEOPLE,
) -> dict[str, Playground]:
    """One Playground per person, in ``folder/<key>``, started side by side; by persona key.

    ``ports`` gives a person's port by key; the others get free ports. If one does not come up, the
    ones started are stopped again before the error is raised.
    """
    ports = ports or {}
    started: dict[str, Playground] = {}
    try:
        for persona in people:
            playground = Playground(persona, folder / persona.key, bot_url)
            if persona.key in ports:
                playground.port = ports[persona.key]
            started[persona.key] = playground.launch()
        for playground in started.values():
            playground.wait_ready()
    except BaseException:
        for playground in started.values():
            playground.stop()
        raise
    return started
