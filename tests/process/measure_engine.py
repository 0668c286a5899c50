"""Measure the storage engine: durable single-doc write latency at 0 and 100,000 docs, and
writes/s with 8 concurrent writers. Run: ``.venv/bin/python tests/process/measure_engine.py``."""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from storage.engine import Put, Store

logger = logging.getLogger(__name__)
INDEXES = {"ticket_events": ["ticket_key", "officer_key"]}


def ticket_event(n: int) -> dict[str, object]:
    """A ticket event of realistic size (about 300 bytes of JSON)."""
    return {
        "ticket_key": f"VT-{n // 3:08d}",
        "officer_key": f"O-{n % 400:04d}",
        "agency": "Vermont State Police",
        "kind": "accepted",
        "received_at": "2026-05-09T12:00:00+00:00",
        "violation": "23 V.S.A. 1004",
        "note": "x" * 120,
        "n": n,
    }


async def populate(store: Store, count: int) -> None:
    """Store ``count`` ticket events in big batches."""
    for start in range(0, count, 1000):
        await store.write(
            [Put("ticket_events", f"e{n}", ticket_event(n)) for n in range(start, min(count, start + 1000))]
        )
    await store.flush()


async def single_write_latency(store: Store, first: int, rounds: int) -> list[float]:
    """Seconds per awaited single-doc write."""
    times = []
    for n in range(first, first + rounds):
        t0 = time.perf_counter()
        await store.write([Put("ticket_events", f"e{n}", ticket_event(n))])
        times.append(time.perf_counter() - t0)
    return times


async def concurrent_rate(store: Store, first: int, writers: int, seconds: float) -> float:
    """Acknowledged single-event writes per second with ``writers`` coroutines writing in a loop."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def writer(w: int) -> None:
        nonlocal done
        n = first + w * 10_000_000
        while time.perf_counter() < deadline:
            await store.write([Put("ticket_events", f"e{n}", ticket_event(n))])
            n += 1
            done += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    return done / (time.perf_counter() - t0)


def summary(times: list[float]) -> str:
    """Median and p99 in milliseconds."""
    ordered = sorted(times)
    return f"median {statistics.median(ordered) * 1000:.2f} ms, p99 {ordered[int(len(ordered) * 0.99)] * 1000:.2f} ms"


async def main() -> None:
    """Run the measurements in a fresh temp dir."""
    with tempfile.TemporaryDirectory() as tmp:
        empty = await Store.open(Path(tmp) / "empty", INDEXES)
        logger.info("durable single write, 0 docs: %s", summary(await single_write_latency(empty, 0, 300)))
        logger.info("8 writers, 0 docs: %.0f writes/s", await concurrent_rate(empty, 10**9, 8, 3.0))
        await empty.close()

        full = await Store.open(Path(tmp) / "full", INDEXES)
        t0 = time.perf_counter()
        await populate(full, 100_000)
        logger.info("populated 100,000 docs in %.1f s", time.perf_counter() - t0)
        logger.info("durable single write, 100,000 docs: %s", summary(await single_write_latency(full, 200_000, 300)))
        logger.info("8 writers, 100,000 docs: %.0f writes/s", await concurrent_rate(full, 10**9, 8, 3.0))
        await full.flush()
        t0 = time.perf_counter()
        await full.close()
        logger.info(
            "close with final snapshot at %d docs: %.2f s", full.count("ticket_events"), time.perf_counter() - t0
        )

        busy = await Store.open(Path(tmp) / "full", INDEXES, compact_every=500)
        t0 = time.perf_counter()
        times = await single_write_latency(busy, 300_000, 2000)
        logger.info(
            "durable single write, ~%d docs, a snapshot every 500 writes: %s (%d snapshots' worth of writes in %.1f s)",
            busy.count("ticket_events"),
            summary(times),
            2000 // 500,
            time.perf_counter() - t0,
        )
        logger.info(
            "8 writers, ~100,000 docs, snapshot every 500 writes: %.0f writes/s",
            await concurrent_rate(busy, 2 * 10**9, 8, 3.0),
        )
        await busy.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("storage.engine").setLevel(logging.WARNING)
    asyncio.run(main())
