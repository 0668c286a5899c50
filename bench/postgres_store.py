"""The PostgreSQL store's open time and commit latency: ``python -m bench.postgres_store [--events 100000]``.

Not part of ``make bench``. A throwaway server (tests/support/postgres.py) with PostgreSQL's durable
defaults (fsync and synchronous_commit on) gets the bench's prefilled data: ``bench.prefill`` writes it
into an embedded data directory, and COPY loads every table into the database, as one replica's
commits would have left it. Then it measures:

- open: ``Database.connect`` on the loaded database (migrations checked, every document read into memory);
- commits: single-event writes (the event and its ticket's state in one commit, awaited one at a time);
- catch-up: how soon a second replica holds a commit of the first (by NOTIFY).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from bench.prefill import prefill
from bench.run import PEOPLE
from domain.records import EventType, TicketEvent
from domain.tickets import derive_state
from storage.engine import Store
from storage.postgres import PgStore
from storage.repositories import INDEXES, Database
from tests.support.postgres import running_server


async def load_into(url: str, data_dir: Path) -> int:
    """Copy every table of the embedded store at ``data_dir`` into the (migrated) database at ``url``; how many docs."""
    await (await Database.connect(url)).close()  # migrate
    store = await Store.open(data_dir, INDEXES)
    seq = 0
    try:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            async with conn.cursor() as cursor:
                for table in sorted(store._tables):  # the bench reads the engine's own tables
                    async with cursor.copy(f'COPY "{table}" (key, doc, seq, created) FROM STDIN') as copy:
                        for key, doc in zip(store.keys(table), store.all(table), strict=True):
                            seq += 1
                            await copy.write_row((key, json.dumps(doc, separators=(",", ":")), seq, seq))
                await cursor.execute("SELECT setval('store_seq', %s)", (seq,))
            await conn.commit()
    finally:
        await store.close()
    return seq


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(url: str, commits: int) -> dict[str, float]:
    opens = []
    for _ in range(3):
        started = time.perf_counter()
        db = await Database.connect(url)
        opens.append(time.perf_counter() - started)
        await db.close()
    a = await Database.connect(url)
    b = await Database.connect(url, poll_every=60)
    latencies, seen = [], []
    try:
        base = datetime(2026, 11, 1, tzinfo=UTC)
        for n in range(commits):
            event = TicketEvent(
                event_id=f"bench-pg-{n}",
                type=EventType.SUBMITTED,
                ticket_number=f"PG-{n}",
                officer_number="B1000",
                judiciary_code="9000",
                occurred_at=base + timedelta(minutes=n),
                issued_at=base + timedelta(minutes=n),
            )
            started = time.perf_counter()
            await a.commit([a.events.put(event), a.ticket_states.put(derive_state([event]))])
            committed = time.perf_counter()
            latencies.append(committed - started)
            if n % 20 == 0:  # how long until the other replica has it, without asking
                while not b.events.seen(event.event_id):
                    await asyncio.sleep(0.0005)
                seen.append(time.perf_counter() - committed)
    finally:
        await a.close()
        await b.close()
    return {
        "open_s_min": min(opens),
        "open_s_median": statistics.median(opens),
        "commit_ms_p50": percentile(latencies, 0.50) * 1000,
        "commit_ms_p99": percentile(latencies, 0.99) * 1000,
        "other_replica_ms_p50": percentile(seen, 0.50) * 1000,
        "other_replica_ms_p99": percentile(seen, 0.99) * 1000,
    }


async def main(events: int, commits: int) -> None:
    with tempfile.TemporaryDirectory() as scratch, running_server(settings=()) as server:
        data_dir = Path(scratch) / "data"
        filled = await prefill(data_dir, events, PEOPLE)
        url = server.create_database()
        started = time.perf_counter()
        docs = await load_into(url, data_dir)
        loaded = time.perf_counter() - started
        results = {"events": events, "docs": docs, "prefill_s": filled, "copy_s": loaded}
        results |= await measure(url, commits)
        store = await PgStore.open(url, INDEXES)
        results["events_stored"] = store.count("ticket_events")
        await store.close()
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in results.items()}, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--commits", type=int, default=1000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.commits))
