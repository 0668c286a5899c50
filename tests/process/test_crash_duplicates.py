"""SIGKILL while every event is posted twice at once: an event a sender was told is a duplicate
(or recorded) is never missing after the kill, on a slow journal fsync and on a fast disk."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from storage.repositories import Database
from tests.process import slow_fsync

WRITER = Path(__file__).with_name("duplicate_writer.py")
SLOW_FSYNC = 0.05  # seconds added to every journal fsync: a slow disk, where the window is widest


def run_and_kill(data_dir: Path, round_no: int, delay: float, fsync_delay: float) -> list[str]:
    """Start the writer, wait until it opened the data, SIGKILL it after ``delay`` s; its acknowledged lines."""
    child = subprocess.Popen(
        [sys.executable, str(WRITER), str(data_dir), str(round_no)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=slow_fsync.child_env(fsync_delay),
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == b"open", child.stderr.read().decode() if child.stderr else ""
    try:
        child.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        child.kill()
    out, err = child.communicate(timeout=30)
    assert child.returncode == -9, err.decode()[-2000:]
    return [line for line in out.decode().splitlines() if line]


@pytest.mark.process
@pytest.mark.parametrize(
    ("fsync_delay", "rounds"),
    [(SLOW_FSYNC, 16 if slow_fsync.SOAK else 5), (0.0, 16 if slow_fsync.SOAK else 2)],
    ids=["slow fsync", "fast disk"],
)
async def test_an_event_answered_duplicate_survives_sigkill(tmp_path: Path, fsync_delay: float, rounds: int) -> None:
    data_dir = tmp_path / "data"
    rng = random.Random()
    told: dict[str, set[str]] = {"recorded": set(), "duplicate": set()}
    for round_no in range(rounds):
        for line in run_and_kill(data_dir, round_no, rng.uniform(0.2, 0.8), fsync_delay):
            status, _, event_id = line.partition(" ")
            told[status].add(event_id)
        db = await Database.open(data_dir)
        try:
            for status, event_ids in told.items():
                missing = sorted(event_id for event_id in event_ids if not db.events.seen(event_id))
                assert not missing, (
                    f"{len(missing)} events answered {status!r} are missing after the kill: {missing[:5]}"
                )
        finally:
            await db.close()
    assert told["duplicate"], "no event was ever answered duplicate: the test did not test the duplicate path"
