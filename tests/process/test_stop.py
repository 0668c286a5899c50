"""Stopping the bot: Ctrl-C or SIGTERM ends it with exit code 0, so ``make run`` prints no ``Error`` line.

A stop waits at most ``SHUTDOWN_GRACE`` seconds for requests in flight (aiohttp's default is 60); a
second Ctrl-C while it waits is noted and the stop goes on (aiohttp's own answer to it is exit code 1,
with a traceback).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import SHUTDOWN_GRACE
from tools.playground import ROOT, BotProcess, free_port, wait_http

pytestmark = pytest.mark.process


@pytest.fixture
def stalled_request() -> Iterator[list[socket.socket]]:
    """Connections opened by ``_stall``, closed after the test."""
    opened: list[socket.socket] = []
    yield opened
    for connection in opened:
        connection.close()


def _stall(port: int, opened: list[socket.socket]) -> None:
    """Open a request to /api/messages whose body never arrives: its handler waits for it."""
    connection = socket.create_connection(("127.0.0.1", port))
    connection.sendall(
        b"POST /api/messages HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    )
    opened.append(connection)
    time.sleep(0.3)  # the request has reached its handler


def _start_app(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
    env |= {"PORT": str(port), "DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    wait_http(f"http://127.0.0.1:{port}/healthz", 60, process)
    return process, port


def test_ctrl_c_stops_make_run_without_an_error_line_and_the_secret_warning_is_logged_once(tmp_path: Path) -> None:
    bot = BotProcess(data_dir=tmp_path / "data", log_path=tmp_path / "bot.log", env={"TICKET_EVENTS_SECRET": ""})
    bot.start()
    assert bot.process is not None
    os.killpg(bot.process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    bot.process.wait(timeout=30)
    log = bot.log()
    assert "Error" not in log and "Traceback" not in log, log[-2000:]
    assert log.rstrip().endswith("stopped"), log[-2000:]
    assert log.count("TICKET_EVENTS_SECRET is not set") == 1, log


def test_sigterm_waits_for_a_request_in_flight_at_most_the_grace_and_exits_0(
    tmp_path: Path, stalled_request: list[socket.socket]
) -> None:
    process, port = _start_app(tmp_path)
    _stall(port, stalled_request)
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=SHUTDOWN_GRACE + 20)
    took = time.monotonic() - began
    assert process.returncode == 0, out.decode()[-2000:]
    assert took < SHUTDOWN_GRACE + 10, f"stopping took {took:.1f} s"
    assert b"SIGTERM: stopping" in out and b"storage closed" in out
    assert b"Traceback" not in out and b"ERROR" not in out, out.decode()[-3000:]


def test_a_second_ctrl_c_while_it_waits_is_noted_and_it_still_stops_within_the_grace_with_exit_code_0(
    tmp_path: Path, stalled_request: list[socket.socket]
) -> None:
    process, port = _start_app(tmp_path)
    _stall(port, stalled_request)
    began = time.monotonic()
    process.send_signal(signal.SIGINT)
    time.sleep(1.0)  # shutting down, waiting for the stalled request
    assert process.poll() is None
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=SHUTDOWN_GRACE + 20)
    assert process.returncode == 0, out.decode()[-2000:]
    assert time.monotonic() - began < SHUTDOWN_GRACE + 10
    assert b"SIGINT: already stopping" in out and b"storage closed" in out
    assert b"Traceback" not in out and b"ERROR" not in out, out.decode()[-3000:]
