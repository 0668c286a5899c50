"""Child process of the crash-consistency test: writes to a Store until it is killed.

Usage: ``python crash_writer.py DATA_DIR ROUND``. Prints ``<writer> <i>`` on stdout once write
``i`` of ``writer`` is acknowledged (its future awaited), so the parent knows what must survive.
With ``JB_TEST_FSYNC_DELAY`` set, every journal fsync is that much slower (``slow_fsync``).
"""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from storage.engine import Delete, Op, Put, Store
from tests.process import slow_fsync

WRITERS = 4
WRITES_PER_WRITER = 50_000  # far more than fits before the parent kills it; bounded all the same
COMPACT_EVERY = 20
INDEXES = {"single": ["writer"], "multi": ["batch"]}


def key_of(round_no: int, writer: int, i: int) -> str:
    """The key a write puts its (first) doc under."""
    return f"r{round_no}w{writer}i{i}"


def deletes_previous(i: int) -> bool:
    """Whether write ``i`` deletes the doc of write ``i - 1`` (and puts a marker, atomically)."""
    return i % 10 == 9


def ops_for(round_no: int, writer: int, i: int) -> list[Op]:
    """The ops of write ``i`` of ``writer`` in ``round_no``: deterministic, so the parent can check."""
    rng = random.Random(f"{round_no}-{writer}-{i}")
    size = rng.choice([0, 10, 200, 2000, 8000])
    key = key_of(round_no, writer, i)
    doc = {"round": round_no, "writer": writer, "i": i, "pad": rng.choice("abcdef") * size}
    if deletes_previous(i):
        return [Delete("single", key_of(round_no, writer, i - 1)), Put("markers", key, doc)]
    if rng.random() < 0.3:
        return [Put("multi", f"{key}-{part}", {**doc, "batch": key, "part": part}) for part in "abc"]
    return [Put("single", key, doc)]


async def write_burst(store: Store, round_no: int, writer: int) -> None:
    """Write sequentially, acknowledging each durable write on stdout."""
    for i in range(WRITES_PER_WRITER):
        await store.write(ops_for(round_no, writer, i))
        sys.stdout.write(f"{writer} {i}\n")
        sys.stdout.flush()


async def main(data_dir: Path, round_no: int) -> None:
    """Open the store and run the writers until done (or killed)."""
    store = await Store.open(data_dir, INDEXES, compact_every=COMPACT_EVERY, fsync=slow_fsync.from_env())
    sys.stdout.write("open\n")
    sys.stdout.flush()
    await asyncio.gather(*(write_burst(store, round_no, w) for w in range(WRITERS)))
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
