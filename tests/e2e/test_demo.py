"""``make demo`` and ``make demo-events`` as a newcomer runs them, checked in headless Chromium.

``make demo`` starts the bot and two Playground pages (Pat Poc and Jamie Staff); the walkthrough's
first steps are taken in them (``/subscribe jb``, the Information Package, ``/subscribe 9000``);
``make demo-events`` posts its month with no error; the JB channel then shows the readiness card
and the agency channel the rejection alert. Ctrl-C (SIGINT to the foreground process group, as a
terminal sends it) stops everything ``make demo`` started, with no ``Error`` line from make.
Its screenshots (build/e2e/demo-*.png) are the README's for the step after ``make demo-events``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import JB, POC, ROOT, SHOTS, ChatPage, free_port, wait_http
from tests.e2e.walkthrough import send_package, subscribe
from tools.playground import listening

pytestmark = pytest.mark.process

READY_LINE = "Ctrl-C stops the bot and both Playgrounds."


@dataclass
class Running:
    """``make demo`` as a process, its output collected line by line as it comes."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"make demo did not print {text!r}:\n{self.output()[-3000:]}")


def _collect(running: Running) -> None:
    assert running.process.stdout is not None
    for line in running.process.stdout:
        running.lines.append(line)


def _descendants(pid: int) -> set[int]:
    """Every process below pid, by parent links in /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    """The environment of ``make demo`` and ``make demo-events``: free ports and a data dir of the test's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
    return env | {
        "DEMO_DATA": str(tmp_path / "demo-data"),
        "PORT": str(free_port()),
        "DEMO_POC_PORT": str(free_port()),
        "DEMO_JB_PORT": str(free_port()),
    }


@pytest.fixture
def demo(e2e_ready: None, demo_env: dict[str, str]) -> Iterator[Running]:
    process = subprocess.Popen(
        ["make", "--no-print-directory", "demo"],
        cwd=ROOT,
        env=demo_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    running = Running(process)
    threading.Thread(target=_collect, args=(running,), daemon=True).start()
    yield running
    if process.poll() is None:  # the test failed before its Ctrl-C
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_make_demo_then_make_demo_events_show_the_readiness_card_and_the_rejection_alert_and_ctrl_c_ends_it_all(
    demo: Running, demo_env: dict[str, str], browser: Any
) -> None:
    demo.wait_for(READY_LINE, timeout=150)
    printed = demo.output()
    urls = {
        key: f"http://localhost:{demo_env[variable]}/"
        for key, variable in (("poc", "DEMO_POC_PORT"), ("jb", "DEMO_JB_PORT"))
    }
    for persona in (POC, JB):
        assert f"{persona.title} (" in printed and urls[persona.key] in printed, printed
        wait_http(urls[persona.key].replace("localhost", "127.0.0.1"), 10)
    assert "/subscribe jb" in printed and "make demo-events" in printed
    secret_file = Path(demo_env["DEMO_DATA"]) / "intake-secret"
    assert secret_file.stat().st_mode & 0o777 == 0o600
    secret = secret_file.read_text().strip()
    assert secret not in printed and secret not in (Path(demo_env["DEMO_DATA"]) / "bot.log").read_text()
    started = _descendants(demo.process.pid)
    assert len(started) >= 4, "make demo should run make, the demo runner, the bot and two Playgrounds"

    counter = [0]
    pages: dict[str, ChatPage] = {}
    for persona in (POC, JB):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        pages[persona.key] = ChatPage(context.new_page(), persona, counter, prefix="demo-")
        pages[persona.key].open(urls[persona.key])
    poc, jb = pages["poc"], pages["jb"]
    subscribe(jb, JB.channel_name, "jb", "demo-jb-subscribe")
    send_package(poc)
    jb.wait_for_card_text("Williston Police Department", "demo-jb-package-card")
    subscribe(poc, POC.channel_name, "9000", "demo-agency-subscribe")

    events = subprocess.run(
        ["make", "--no-print-directory", "demo-events"],
        cwd=ROOT,
        env=demo_env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "demo-events.txt").write_text(events.stdout)  # what it printed, beside the screenshots
    assert events.returncode == 0, events.stdout[-3000:] + events.stderr[-2000:]
    assert re.search(r"Sent: \d+ recorded, 0 already recorded, 0 errors", events.stdout), events.stdout[-3000:]
    assert "day  3 (" in events.stdout and "plate state missing" in events.stdout
    assert "(expected:" not in events.stdout, events.stdout  # every event raised what the story says

    poc.wait_for_card_text("Plate state missing", "demo-rejection-alert", timeout=60)
    # the demo's later alerts keep arriving at the top of the channel: read the texts, not a position
    alerts = poc.texts_with("Plate state missing")
    assert any("E-ticket rejected by Odyssey" in text and "B2345" in text for text in alerts), alerts
    poc.shot("agency-channel-after-demo-events")
    jb.open_channel(JB.channel_name)
    card = jb.wait_for_card_text("Ready for approval", "demo-readiness-card", timeout=60)
    text = card.inner_text()
    assert "A1234" in text and "Every condition of readiness holds" in text
    jb.shot("jb-channel-readiness-card-after-demo-events")

    os.killpg(demo.process.pid, signal.SIGINT)  # Ctrl-C in the terminal
    demo.process.wait(timeout=60)
    out = demo.output()
    assert "Error" not in out and "Traceback" not in out, out[-3000:]
    assert out.rstrip().endswith("Stopped."), out[-3000:]
    deadline = time.monotonic() + 10
    while (left := sorted(pid for pid in started if _alive(pid))) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"processes left behind: {left}"
    for variable in ("PORT", "DEMO_POC_PORT", "DEMO_JB_PORT"):
        assert not listening(int(demo_env[variable])), f"something still listens on {variable}"
