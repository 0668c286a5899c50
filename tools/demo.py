"""``make demo``: the whole SOP on this machine, as two people, without a tenant.

Starts the bot in local mode (``make run``) with its store in ``demo-data/data`` (kept until
``make demo-clean``), an intake secret generated once and kept in ``demo-data/intake-secret`` (for
``make demo-events``; never printed), and ``JB_STAFF_IDS`` set to Jamie Staff; then two Agents
Playground instances, "Pat Poc, Williston Police Department" and "Jamie Staff, Judicial Bureau"
(tools/playground.py, the ones the end-to-end tier drives). It prints the two addresses and what
to do first, and runs until Ctrl-C (SIGINT) or SIGTERM, which stop all three; it then exits 0.

Environment (make passes it on): ``PORT`` (3978) for the bot, ``DEMO_POC_PORT`` (56150) and
``DEMO_JB_PORT`` (56151) for the two Playgrounds, ``DEMO_DATA`` (``demo-data``) for everything kept.
Logs: ``demo-data/bot.log`` and ``demo-data/playground/<poc|jb>/playground.log``.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TextIO

from tools.playground import (
    BOT_NAME,
    JB,
    POC,
    ROOT,
    BotProcess,
    Playground,
    listening,
    log_tail,
    new_secret,
    port_taken,
    start_playgrounds,
)

DEFAULT_PORTS = {"bot": 3978, POC.key: 56150, JB.key: 56151}
PORT_VARIABLES = {"bot": "PORT", POC.key: "DEMO_POC_PORT", JB.key: "DEMO_JB_PORT"}
SECRET_FILE = "intake-secret"


class Stopped(Exception):
    """Ctrl-C or SIGTERM: stop everything started and exit 0."""


class CannotStart(Exception):
    """Something the demo needs is not there; the message says what to do."""


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    # stopping takes a few seconds: a second Ctrl-C must not interrupt it half-way
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Stopped(signal.Signals(signum).name)


def ports_from(env: Mapping[str, str]) -> dict[str, int]:
    """The bot's and each Playground's port: the environment's, else the README's defaults."""
    ports: dict[str, int] = {}
    for key, variable in PORT_VARIABLES.items():
        raw = env.get(variable, "").strip()
        if not raw:
            ports[key] = DEFAULT_PORTS[key]
            continue
        if not raw.isdigit() or not 1 <= int(raw) <= 65535:
            raise CannotStart(f"{variable} must be a TCP port number, got {raw!r}")
        ports[key] = int(raw)
    if len(set(ports.values())) != len(ports):
        raise CannotStart(f"the bot and the two Playgrounds need three different ports, got {ports}")
    return ports


def intake_secret(folder: Path) -> str:
    """The demo's ticket-events secret: read from ``folder/intake-secret``, or generated there (mode 0600) once."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / SECRET_FILE
    if path.exists():
        secret = path.read_text().strip()
        if len(secret) >= 16:
            return secret
    secret = new_secret()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret + "\n")
    return secret


def _shown(path: Path) -> str:
    """A path as the person at the terminal would type it: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def instructions(folder: Path, ports: Mapping[str, int]) -> str:
    """What the demo prints once everything answers: the two addresses and what to do first."""
    data = _shown(folder)
    jb_url, poc_url = f"http://localhost:{ports[JB.key]}/", f"http://localhost:{ports[POC.key]}/"
    return f"""
JB e-Ticket Bot demo: the bot on port {ports["bot"]} (local mode: nothing is authenticated, keep it on this
machine) and two Microsoft 365 Agents Playground pages, one per person:

  {JB.title} (JB e-ticket staff):   {jb_url}
  {POC.title} (agency PoC):   {poc_url}

First, in this order (README.md, "Try it in ten minutes", has a screenshot of every step):
  1. {JB.name}: open the channel "{JB.channel_name}", type @ and pick "{BOT_NAME}", then /subscribe jb and Post.
     JB notices (Information Packages, readiness cards, alerts) now go to that channel.
  2. {POC.name}: in Personal Chat type /new-package and fill in the Information Package:
     Valcour, both preconditions, Judiciary Code 9000, officers A1234 and B2345, Submit.
  3. {JB.name}: press Acknowledge on the package card. {POC.name} gets the acknowledgment.
  4. {POC.name}: in the channel "{POC.channel_name}": @{BOT_NAME} /subscribe 9000 (the agency's alerts go there).
  5. In another terminal: make demo-events   (a month of e-tickets; AGENCY=... OFFICERS=... for another package)
     {JB.name} then presses Approve on "Ready for approval"; either of them presses Mark resolved on an alert.

Kept in {data}/ for the next make demo (make demo-clean removes it): the bot's store, the intake
secret ({data}/{SECRET_FILE}, read by make demo-events), logs ({data}/bot.log, {data}/playground/*/playground.log).
Ctrl-C stops the bot and both Playgrounds.
"""


@dataclass
class Demo:
    """The bot and the two Playgrounds of one demo run."""

    folder: Path
    ports: dict[str, int]
    bot: BotProcess | None = None
    playgrounds: dict[str, Playground] = field(default_factory=dict)

    def start(self) -> None:
        """Start the bot, wait until it answers, then both Playgrounds; raise CannotStart with the reason."""
        taken = [(key, port) for key, port in self.ports.items() if port_taken(port)]
        for key, port in taken:
            if listening(port):
                raise CannotStart(
                    f"port {port} ({PORT_VARIABLES[key]}) is in use (another make run or make demo?): stop it,"
                    " or choose another port with that variable"
                )
        if taken:
            key, port = taken[0]
            raise CannotStart(
                f"port {port} ({PORT_VARIABLES[key]}) is held by a connection that is closing (TIME-WAIT in"
                " ss -tan): try again within a minute, or choose another port with that variable"
            )
        self.bot = BotProcess(
            data_dir=self.folder / "data",
            log_path=self.folder / "bot.log",
            port=self.ports["bot"],
            secret=intake_secret(self.folder),
            jb_staff=JB,
        ).launch()
        try:
            self.bot.wait_ready()
        except (RuntimeError, TimeoutError) as error:
            raise CannotStart(
                f"the bot did not start ({error}); {self.bot.log_path}:\n{log_tail(self.bot.log_path)}"
            ) from None
        try:
            self.playgrounds = start_playgrounds(
                self.bot.url, self.folder / "playground", {key: self.ports[key] for key in (POC.key, JB.key)}
            )
        except (RuntimeError, TimeoutError) as error:
            logs = self.folder / "playground"
            raise CannotStart(f"a Playground did not start ({error}); see {logs}/*/playground.log") from None

    def first_exit(self) -> str | None:
        """Which process has ended on its own, with its log's tail; None while all run."""
        processes: list[tuple[str, BotProcess | Playground]] = [("the bot", self.bot)] if self.bot else []
        processes += [(f"{p.persona.title}'s Playground", p) for p in self.playgrounds.values()]
        for name, started in processes:
            if started is not None and started.process is not None and started.process.poll() is not None:
                return (
                    f"{name} exited ({started.process.returncode}); {started.log_path}:\n{log_tail(started.log_path)}"
                )
        return None

    def stop(self) -> None:
        """Stop the bot first (so nothing is sent to a Playground that has gone), then the Playgrounds."""
        if self.bot is not None:
            self.bot.stop()
        for playground in self.playgrounds.values():
            playground.stop()


def main(env: Mapping[str, str] | None = None, out: TextIO = sys.stdout) -> int:
    """Run the demo until a signal; 0 when stopped by Ctrl-C or SIGTERM, 1 when something could not start or died."""
    env = os.environ if env is None else env
    signal.signal(signal.SIGINT, _stop_on_signal)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    code = 0
    demo: Demo | None = None
    try:
        folder = Path(env.get("DEMO_DATA", "").strip() or ROOT / "demo-data")
        demo = Demo(folder, ports_from(env))
        out.write(f"Starting the bot and two Agents Playground instances (data in {_shown(folder)}/) …\n")
        out.flush()
        demo.start()
        out.write(instructions(folder, demo.ports))
        out.flush()
        while (ended := demo.first_exit()) is None:
            time.sleep(0.5)
        out.write(f"\nStopping: {ended}\n")
        code = 1
    except Stopped:
        out.write("\nStopping the bot and both Playgrounds …\n")
    except CannotStart as error:
        out.write(f"make demo cannot start: {error}\n")
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if demo is not None:
            demo.stop()
    out.write("Stopped.\n" if code == 0 else "")
    out.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
