"""SIGKILL a process in the middle of writing: every acknowledged write survives, intact, and a
multi-op write is there whole or not at all; on a fast disk and with a slow journal fsync."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.engine import Delete, Put, Store
from tests.process import crash_writer, slow_fsync

pytestmark = pytest.mark.process

SCRIPT = Path(crash_writer.__file__)
SLOW_FSYNC = 0.02  # seconds added to every journal fsync in the slow-disk variant


def run_and_kill(
    data_dir: Path, round_no: int, delay: float, fsync_delay: float = 0.0
) -> tuple[set[tuple[int, int]], bool]:
    """Start the writer, SIGKILL it after ``delay`` seconds; return its acknowledged writes."""
    child = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(data_dir), str(round_no)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=slow_fsync.child_env(fsync_delay),
    )
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    out, err = child.communicate(timeout=10)
    assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]
    lines = out.decode().split("\n")[:-1]  # a line cut by the kill has no newline: not counted
    acked = {(int(w), int(i)) for w, i in (line.split() for line in lines if line != "open")}
    return acked, "open" in lines


def check(store: Store, acked_by_round: dict[int, set[tuple[int, int]]]) -> int:
    """Assert every acknowledged write is present and right, and nothing is half there."""
    checked = 0
    for round_no, acked in acked_by_round.items():
        for writer, i in sorted(acked):
            for op in crash_writer.ops_for(round_no, writer, i):
                if isinstance(op, Delete):
                    assert store.get(op.table, op.key) is None, f"acked delete undone: {op.key}"
                    continue
                assert isinstance(op, Put)
                deleter = crash_writer.key_of(round_no, writer, i + 1)
                deleted = op.table == "single" and crash_writer.deletes_previous(i + 1)
                if deleted and store.get("markers", deleter) is not None:
                    assert store.get(op.table, op.key) is None, f"delete not applied: {op.key}"
                else:
                    assert store.get(op.table, op.key) == op.doc, f"acked write lost or wrong: {op.key}"
                checked += 1
    for doc in store.all("multi"):  # acknowledged or not: all three parts or none
        parts = store.find("multi", "batch", doc["batch"])
        assert sorted(p["part"] for p in parts) == ["a", "b", "c"], f"torn multi-op write {doc['batch']}"
    for table in ("single", "markers", "multi"):  # whatever survived is exactly what was written
        for doc in store.all(table):
            ops = crash_writer.ops_for(doc["round"], doc["writer"], doc["i"])
            assert doc in [op.doc for op in ops if isinstance(op, Put)]
    for doc in store.all("markers"):  # a surviving delete+marker write deleted its target
        assert store.get("single", crash_writer.key_of(doc["round"], doc["writer"], doc["i"] - 1)) is None
    return checked


@pytest.mark.parametrize(
    ("fsync_delay", "rounds", "least_acked"),
    [(0.0, 24 if slow_fsync.SOAK else 15, 200), (SLOW_FSYNC, 24 if slow_fsync.SOAK else 6, 40)],
    ids=["fast disk", "slow fsync"],
)
async def test_sigkill_during_writes_loses_no_acknowledged_write(
    tmp_path: Path, fsync_delay: float, rounds: int, least_acked: int
) -> None:
    data_dir = tmp_path / "data"
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    acked_by_round: dict[int, set[tuple[int, int]]] = {}
    opened_rounds = 0
    for round_no in range(rounds):
        acked, opened = run_and_kill(data_dir, round_no, rng.uniform(0.05, 1.0), fsync_delay)
        acked_by_round[round_no] = acked
        opened_rounds += opened
        store = await Store.open(data_dir, crash_writer.INDEXES)
        try:
            check(store, acked_by_round)
        finally:
            await store.close()
    total = sum(len(a) for a in acked_by_round.values())
    assert opened_rounds >= rounds // 2, f"the child rarely got to write (seed {seed})"
    assert total >= least_acked, f"too few acknowledged writes to mean anything: {total} (seed {seed})"
