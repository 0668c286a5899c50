"""Load generation and statistics: a fixed number of requests at a fixed concurrency, timed one by one."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Stats:
    """Latency percentiles (milliseconds) and throughput of one measured scenario."""

    requests: int
    concurrency: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    per_second: float
    errors: int

    def as_dict(self) -> dict[str, float | int]:
        """JSON form."""
        return dict(self.__dict__)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


Work = Callable[[int, int], Awaitable[Mapping[str, float] | None]]
"""One iteration: (worker index, iteration index) → named seconds it timed itself, or None to time the whole call."""

WHOLE = "request"
"""The sample name of an iteration timed as a whole."""


def stats_of(samples: list[float], *, elapsed: float, concurrency: int, errors: int) -> Stats:
    """Percentiles of ``samples`` (seconds) and how many per second ``elapsed`` allowed."""
    ordered = sorted(samples)
    return Stats(
        requests=len(samples),
        concurrency=concurrency,
        p50_ms=round(percentile(ordered, 0.50) * 1000, 2),
        p95_ms=round(percentile(ordered, 0.95) * 1000, 2),
        p99_ms=round(percentile(ordered, 0.99) * 1000, 2),
        max_ms=round(ordered[-1] * 1000, 2) if ordered else 0.0,
        per_second=round(len(samples) / elapsed, 1) if elapsed > 0 else 0.0,
        errors=errors,
    )


async def measure(work: Work, *, iterations: int, concurrency: int, warmup: int = 0) -> dict[str, Stats]:
    """Run ``warmup`` unmeasured then ``iterations`` measured calls of ``work`` with ``concurrency`` workers.

    Each worker takes the next iteration index until all are taken, so the count is fixed. Returns
    statistics per sample name (``WHOLE`` when ``work`` returns None); ``per_second`` is iterations
    per wall-clock second. An exception counts as an error and its iteration is not sampled.
    """

    async def run(count: int, offset: int, samples: dict[str, list[float]], errors: list[int]) -> float:
        counter = iter(range(offset, offset + count))

        async def worker(index: int) -> None:
            for iteration in counter:
                started = time.perf_counter()
                try:
                    own = await work(index, iteration)
                except Exception:
                    errors.append(iteration)
                    continue
                for name, seconds in (own or {WHOLE: time.perf_counter() - started}).items():
                    samples.setdefault(name, []).append(seconds)

        started = time.perf_counter()
        await asyncio.gather(*(worker(index) for index in range(concurrency)))
        return time.perf_counter() - started

    if warmup:
        await run(warmup, 0, {}, [])
    samples: dict[str, list[float]] = {}
    errors: list[int] = []
    elapsed = await run(iterations, warmup, samples, errors)
    if not samples:
        samples[WHOLE] = []
    return {
        name: stats_of(values, elapsed=elapsed, concurrency=concurrency, errors=len(errors))
        for name, values in samples.items()
    }
