"""SIGKILL while packages are submitted and ticket events recorded: every acknowledged one survives,
on a fast disk and with a slow journal fsync."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.repositories import Database
from tests.process import slow_fsync

WRITER = Path(__file__).with_name("package_event_writer.py")
SLOW_FSYNC = 0.03  # seconds added to every journal fsync in the slow-disk variant


def run_and_kill(data_dir: Path, round_no: int, delay: float, fsync_delay: float = 0.0) -> list[str]:
    """Start the writer, wait until it opened the data, SIGKILL it after ``delay`` s; its acknowledged lines."""
    child = subprocess.Popen(
        [sys.executable, str(WRITER), str(data_dir), str(round_no)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=slow_fsync.child_env(fsync_delay),
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == b"open", child.stderr.read().decode() if child.stderr else ""
    time.sleep(delay)
    child.kill()
    out, err = child.communicate(timeout=30)
    assert child.returncode == -9, err.decode()[-2000:]
    return [line for line in out.decode().splitlines() if line]


@pytest.mark.process
@pytest.mark.parametrize(
    ("fsync_delay", "rounds"),
    [(0.0, 16 if slow_fsync.SOAK else 8), (SLOW_FSYNC, 16 if slow_fsync.SOAK else 3)],
    ids=["fast disk", "slow fsync"],
)
async def test_acknowledged_packages_and_events_survive_sigkill(
    tmp_path: Path, fsync_delay: float, rounds: int
) -> None:
    data_dir = tmp_path / "data"
    rng = random.Random()
    packages: set[str] = set()
    events: set[str] = set()
    for round_no in range(rounds):
        for line in run_and_kill(data_dir, round_no, rng.uniform(0.05, 0.8), fsync_delay):
            kind, _, name = line.partition(" ")
            (packages if kind == "package" else events).add(name)
        db = await Database.open(data_dir)  # opens every time, whatever instant the kill hit
        try:
            for code in packages:
                assert db.packages.get(code) is not None, f"acknowledged package {code} lost"
                assert db.officers.get(code, "A1234") is not None, f"officer of acknowledged package {code} lost"
            for event_id in events:
                assert db.events.seen(event_id), f"acknowledged event {event_id} lost"
            rejected = [e for e in events if e.endswith("-rejected")]
            incidents = {i.event_id for code in packages for i in db.incidents.of_officer(f"{code}:A1234")}
            assert set(rejected) <= incidents, "an acknowledged rejected event lost its incident"
        finally:
            await db.close()
    assert packages and events, "the writer never got to acknowledge anything"
