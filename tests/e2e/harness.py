"""End-to-end harness: the bot as a real process, Agents Playground instances, headless Chromium.

What the Microsoft 365 Agents Playground (npm ``@microsoft/m365agentsplayground`` 0.2.28) does,
as seen on this machine:

- It needs a ``.m365agentsplayground.yml`` with ``version: "0.1.1"`` (without it the server logs a
  ConfigFileParseError to ``devTools/`` and exits), ``tenantId``, ``bot``, ``currentUser``, at least
  five ``users``, ``personalChat``, ``groupChat`` and ``team`` with ``channels``. Every message it
  posts comes from ``currentUser``; two instances with two configs give two people.
- It exits when its standard input closes, so it is started with a pipe that stays open.
- Loading the page sends the bot ``installationUpdate`` and ``conversationUpdate`` (the bot
  added) for every chat, so the welcome card appears on each load.
- The compose box is ``[contenteditable=true][role=textbox]``. In a channel a message reaches the
  bot only with a mention: type ``@`` and click the bot in the ``[role=menuitem]`` suggestions; a new
  channel post is sent with the Post button.
- Adaptive Cards render as ``.ac-adaptiveCard``; each input's ``<label for=…>`` names it; an
  expanded choice set is a radio group, a compact one (the 1.5 default) an ``input[role=combobox]``
  whose options are ``[role=listbox] [role=option]``; toggles are checkboxes; ``Input.Date`` opens
  ``[role=dialog][aria-label=Calendar]`` with a header button labelled like "November 2026", month
  arrows that have only a ``title`` ("Next month December", "Previous month October") and days as
  buttons like ``button[aria-label="24, November, 2026"]`` (neighbouring months' days too).
  Buttons carry the action title in ``title``.
  After ``Action.Execute`` the card returned in the invoke response replaces the pressed card.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "e2e"
PLAYGROUND_BIN = ROOT / "node_modules" / ".bin" / "agentsplayground"
CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECRET = "e2e-ticket-events-secret-0123"


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
                "bot": {"id": "jb-eticket-bot", "name": "JB e-Ticket Bot"},
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
    "Williston PD",
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


def free_port() -> int:
    """A TCP port nobody listens on now (loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@dataclass
class BotProcess:
    """The bot started by ``make run``, on its own port and data dir."""

    data_dir: Path
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> BotProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
        env |= {
            "PORT": str(self.port),
            "DATA_DIR": str(self.data_dir),
            "TICKET_EVENTS_SECRET": SECRET,
            "JB_STAFF_IDS": JB.aad_id,
        } | self.env
        log = self.log_path.open("ab")
        # exactly the README's command; make and the bot share a process group that stop() ends
        self.process = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_http(f"{self.url}/healthz", 60, self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)

    def log(self) -> str:
        """What the bot wrote to its log so far."""
        return self.log_path.read_text(errors="replace")

    def post_events(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        """POST signed ticket events, as the records systems do; returns the JSON answer."""
        from intake.signature import sign

        body = json.dumps({"events": events}).encode()
        request = urllib.request.Request(
            f"{self.url}/api/ticket-events",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "X-Signature-256": sign(SECRET, body)},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


@dataclass
class Playground:
    """One Agents Playground instance for one persona."""

    persona: Persona
    folder: Path
    bot_url: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> Playground:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / ".m365agentsplayground.yml").write_text(self.persona.config())
        env = os.environ | {"TEAMSAPPTESTER_BROWSER": "none"}
        log = (self.folder / "playground.log").open("ab")
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
        wait_http(self.url, 60, self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(OSError):
                if self.process.stdin:
                    self.process.stdin.close()
            _stop(self.process)


class StepFailed(AssertionError):
    """A step did not show what it should; the message names the screenshot."""


class ChatPage:
    """One person's Playground page, driven like a person would."""

    def __init__(self, page: Any, persona: Persona, counter: list[int]) -> None:
        self.page = page
        self.persona = persona
        self._counter = counter

    def shot(self, name: str) -> Path:
        """Save a screenshot as build/e2e/NN-<persona>-<name>.png."""
        self._counter[0] += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{self._counter[0]:02d}-{self.persona.key}-{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def fail(self, name: str, message: str) -> None:
        """Take a screenshot and fail with its path."""
        path = self.shot(f"FAILED-{name}")
        raise StepFailed(f"{message} (screenshot: {path})")

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.locator("[contenteditable=true][role=textbox]").first.wait_for(timeout=30_000)

    def open_personal_chat(self) -> None:
        self.page.get_by_text("Personal Chat", exact=True).first.click()
        self.page.wait_for_timeout(500)

    def open_channel(self, name: str) -> None:
        self.page.get_by_text(name, exact=True).first.click()
        self.page.wait_for_timeout(500)

    def cards(self) -> Any:
        return self.page.locator(".ac-adaptiveCard")

    def card_count(self) -> int:
        return self.cards().count()

    def send(self, text: str, *, mention: bool = False) -> None:
        """Type a message and send it; in channels, @mention the bot first."""
        box = self.page.locator("[contenteditable=true][role=textbox]").first
        box.click()
        if mention:
            box.type("@")
            self.page.locator("[role=menuitem]", has_text="JB e-Ticket Bot").first.click()
            box.type(" ")
        box.type(text)
        post = self.page.get_by_role("button", name="Post")
        if mention and post.count():
            post.first.click()
        else:
            self.page.keyboard.press("Enter")

    def cards_with(self, text: str) -> list[Any]:
        """The cards on screen that show text (in page order)."""
        cards = self.cards()
        found = []
        for index in range(cards.count()):
            card = cards.nth(index)
            with contextlib.suppress(Exception):
                if text in card.inner_text(timeout=1000):
                    found.append(card)
        return found

    def wait_for_card_text(self, text: str, name: str, *, timeout: float = 20.0, more_than: int = 0) -> Any:
        """Wait until more than ``more_than`` cards show text; returns the newest such card (fails with a screenshot)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.cards_with(text)
            if len(found) > more_than:
                # channels list the newest thread first, chats the newest message last
                card = found[0] if self._in_channel() else found[-1]
                with contextlib.suppress(Exception):
                    card.scroll_into_view_if_needed(timeout=2000)
                return card
            self.page.wait_for_timeout(300)
        self.fail(name, f"no new card showed {text!r}")

    def _in_channel(self) -> bool:
        return self.page.get_by_text("Start a new post").count() > 0

    def wait_for_card_gone(self, text: str, card: Any, name: str, *, timeout: float = 20.0) -> None:
        """Wait until this card no longer shows text (it was replaced or updated)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if text not in card.inner_text(timeout=1000):
                    return
            self.page.wait_for_timeout(300)
        self.fail(name, f"the card still shows {text!r}")

    def _input_for(self, card: Any, label: str) -> Any:
        labels = card.locator("label")
        for index in range(labels.count()):
            element = labels.nth(index)
            text = re.sub(r"\s*\*$", "", element.inner_text().strip())
            if text == label or text.startswith(label):
                target = element.get_attribute("for")
                if target:
                    return card.locator(f"[id='{target}']")
        self.fail("input", f"no input labelled {label!r}")

    def fill(self, card: Any, label: str, value: str) -> None:
        """Type into the text input with this label."""
        field_ = self._input_for(card, label)
        field_.fill(value)

    def choose(self, card: Any, label: str, option: str) -> None:
        """Pick an option of a choice set by its title: a radio group (expanded) or a drop-down (compact)."""
        target = self._input_for(card, label)
        if target.get_attribute("role") == "combobox":
            target.click()
            self.page.locator("[role=listbox] [role=option]", has_text=option).first.click()
        else:
            target.locator("label", has_text=option).first.click()

    def toggle(self, card: Any, label: str) -> None:
        """Tick a toggle (checkbox) by its title."""
        box = card.locator("label", has_text=label).first
        box.click()

    def pick_date(self, card: Any, label: str, day: date) -> None:
        """Open an Input.Date picker, go to the day's month and click the day (typing is disabled)."""
        self._input_for(card, label).click()
        calendar = self.page.locator("[role=dialog][aria-label=Calendar]")
        calendar.wait_for(timeout=5000)
        # the header button is labelled like "November 2026"; the arrows only have a title
        # ("Next month December", "Previous month October"), no aria-label
        header = calendar.locator("button[aria-live], button:has(> span[aria-live])").first
        shown = datetime.strptime(header.inner_text().strip(), "%B %Y")
        steps = (day.year - shown.year) * 12 + day.month - shown.month
        arrow = "Next month" if steps > 0 else "Previous month"
        for _ in range(abs(steps)):
            calendar.locator(f"button[title^='{arrow}']").first.click()
        aria = f"{day.day}, {day.strftime('%B')}, {day.year}"
        button = calendar.locator(f"button[aria-label='{aria}']").first
        try:
            button.wait_for(timeout=5000)
        except Exception:
            self.fail("date", f"the date picker for {label!r} shows no day {aria!r}")
        button.click()

    def press(self, card: Any, title: str) -> None:
        """Press a card button by its title."""
        card.locator(f"button[title='{title}']").first.click()
