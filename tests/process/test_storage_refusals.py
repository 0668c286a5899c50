"""The real bot process (``python app.py``) over one data directory: a second process is refused, even
after ``rm LOCK``; damaged storage stops the start with exit code 3 and a log line naming the file and
the offset; ``--recover`` starts it with the damage set aside and a warning on /healthz."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from intake.signature import sign
from storage.engine import SNAPSHOT_NAME

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
SECRET = "process-test-secret-0123456789"

pytestmark = pytest.mark.process


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_bot(data_dir: Path, *args: str) -> tuple[subprocess.Popen[str], int]:
    """``python app.py`` on a free port over ``data_dir`` (local mode, no secrets)."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PORT": str(port),
        "DATA_DIR": str(data_dir),
        "TICKET_EVENTS_SECRET": SECRET,
    }
    child = subprocess.Popen(
        [sys.executable, "app.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return child, port


def health(port: int) -> tuple[int, dict[str, Any]] | None:
    """GET /healthz: status and body, or None while nothing listens."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return None


def post_event(port: int, event_id: str) -> dict[str, Any]:
    """POST one signed ticket event; the intake's answer (200 expected)."""
    body = json.dumps(
        {
            "event_id": event_id,
            "type": "submitted",
            "ticket_number": "VT-0001",
            "officer_number": "A1234",
            "judiciary_code": "9000",
            "occurred_at": "2026-11-20T15:00:00Z",
            "issued_at": "2026-11-20T14:00:00Z",
        }
    ).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/ticket-events",
        data=body,
        headers={"Content-Type": "application/json", "X-Signature-256": sign(SECRET, body)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return dict(json.loads(response.read()))


def wait_healthy(child: subprocess.Popen[str], port: int) -> tuple[int, dict[str, Any]]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert child.poll() is None, f"the bot exited {child.returncode}: {child.communicate()[1][-3000:]}"
        answer = health(port)
        if answer is not None:
            return answer
        time.sleep(0.1)
    raise AssertionError("the bot did not answer /healthz in time")


def refused_start(data_dir: Path, *args: str) -> str:
    """Start the bot, which must exit 3 on its own; its log."""
    child, _ = start_bot(data_dir, *args)
    _, log = child.communicate(timeout=START_TIMEOUT)
    assert child.returncode == 3, log[-3000:]
    assert "Traceback" not in log
    return log


def stop(child: subprocess.Popen[str]) -> str:
    child.send_signal(signal.SIGINT)
    _, log = child.communicate(timeout=START_TIMEOUT)
    return log


def test_a_second_bot_is_refused_even_after_lock_is_deleted_and_damage_is_loud(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first, port = start_bot(data_dir)
    try:
        assert wait_healthy(first, port) == (200, {"status": "ok", "store": "embedded", "storage": "ok"})
        assert post_event(port, "e1")["results"][0]["status"] == "recorded"
        (data_dir / "LOCK").unlink()
        log = refused_start(data_dir)
        assert "in use by another process" in log and str(data_dir) in log
    finally:
        stop(first)
    assert SNAPSHOT_NAME in os.listdir(data_dir)  # the first one closed cleanly: its final snapshot

    snapshot = data_dir / SNAPSHOT_NAME
    data = bytearray(snapshot.read_bytes())
    data[len(data) // 2] ^= 0x20  # a bit flip in the middle of the snapshot
    snapshot.write_bytes(bytes(data))
    log = refused_start(data_dir)
    assert "snapshot.json at byte" in log and "--recover" in log and "STORAGE_RECOVER=1" in log

    recovering, port = start_bot(data_dir, "--recover")
    try:
        status, body = wait_healthy(recovering, port)
        assert status == 200 and body["storage"] == "recovered" and "snapshot.json" in body["reason"]
    finally:
        log = stop(recovering)
    assert "damage set aside" in log
