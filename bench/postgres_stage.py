"""The PostgreSQL stage of ``make bench``: the 100,000-event bench data copied with ``make migrate-to-postgres``,
then served by one replica and by two on one database.

The server is a throwaway one (initdb into a temp dir, as the tests do) with durable settings: fsync and
synchronous commit on, as a deployment's. For each of one and two replicas: /help turns and single
ticket events from 8 senders, spread round-robin over the replicas as a load balancer would, and the
cold start of each replica (process start to the first /help reply). Reported beside the embedded
store's figures at the same stored volume; no target is judged on them.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from pathlib import Path
from typing import Any

from bench import run as bench
from bench.load import WHOLE, measure
from bench.prefill import ALL_OFFICERS, prefill
from storage.engine import Store
from storage.repositories import INDEXES
from tests.support.postgres import start_server
from tools.migrate_to_postgres import copy_store

DURABLE = ("fsync=on", "synchronous_commit=on", "shared_buffers=256MB")
"""A deployment's durability: each commit is on disk before it is acknowledged."""


async def postgres_stage(driver: bench.Driver, workdir: Path, stored: int) -> dict[str, Any]:
    """Copy ``stored`` prefilled events into PostgreSQL, then load one replica and two; the figures."""
    out: dict[str, Any] = {"stored_events": stored}
    data_dir = workdir / f"postgres-source-{stored}"
    out["prefill_s"] = round(await prefill(data_dir, stored, bench.PEOPLE), 2)
    server = await asyncio.to_thread(start_server, settings=DURABLE)
    try:
        url = await asyncio.to_thread(server.create_database)
        started = time.perf_counter()
        store = await Store.open(data_dir, INDEXES)
        try:
            copied = await copy_store(store, url)
        finally:
            await store.close()
        out["migrate"] = {
            "seconds": round(time.perf_counter() - started, 2),
            "documents": sum(copied.embedded.values()),
            "counts_match": copied.matches,
            "ticket_events": copied.postgresql.get("ticket_events"),
        }
        replicas: list[bench.BotProcess] = []
        try:
            for count in (1, 2):
                while len(replicas) < count:
                    name = f"ours-postgres-{len(replicas) + 1}"
                    bot = await bench.start_our_bot(name, workdir / "unused", {"DATABASE_URL": url})
                    replicas.append(bot)
                    out.setdefault("cold_start_s", []).append(await driver.cold_start(bot))
                out[f"replicas_{count}"] = await _load(driver, replicas)
                out[f"replicas_{count}"]["peak_rss_mb"] = [bot.peak_rss_mb() for bot in replicas]
        finally:
            for bot in replicas:
                await bot.stop()
    finally:
        await asyncio.to_thread(server.stop)
    one, two = out["replicas_1"], out["replicas_2"]
    print(
        f"  PostgreSQL, {stored} stored: migrate {out['migrate']['seconds']} s (counts match: "
        f"{out['migrate']['counts_match']}), cold start {out['cold_start_s']} s; "
        f"/help p50 {one['help']['p50_ms']} / {two['help']['p50_ms']} ms, "
        f"single p99 {one['single']['p99_ms']} / {two['single']['p99_ms']} ms (1 / 2 replicas)",
        flush=True,
    )
    return out


async def _load(driver: bench.Driver, replicas: list[bench.BotProcess]) -> dict[str, Any]:
    """/help turns and single events, each request to the next replica in turn."""
    turn = itertools.count()
    run = uuid.uuid4().hex[:6]

    def next_bot() -> bench.BotProcess:
        return replicas[next(turn) % len(replicas)]

    async def help_turn(worker: int, _: int) -> None:
        body = bench.message("/help", driver.connector.url, f"a:bench-pg-help-{worker}", bench.guid(0x900 + worker))
        await driver.turn(next_bot(), body)

    help_stats = await measure(
        help_turn, iterations=bench.TURNS, concurrency=bench.TURN_CONCURRENCY, warmup=bench.TURN_WARMUP
    )

    async def single(worker: int, i: int) -> None:
        code, number = ALL_OFFICERS[i % len(ALL_OFFICERS)]
        event = bench.ticket_event(f"{run}-pg-{len(replicas)}-{i}", f"P-{run}-{i}", code=code, officer=number)
        answer = await driver.post_events(next_bot(), event)
        if answer["results"][0]["status"] != "recorded":
            raise RuntimeError("event not recorded")

    single_stats = await measure(
        single,
        iterations=bench.SINGLE_EVENTS,
        concurrency=bench.SENDERS,
        warmup=bench.SINGLE_WARMUP,
    )
    return {"help": help_stats[WHOLE].as_dict(), "single": single_stats[WHOLE].as_dict()}
