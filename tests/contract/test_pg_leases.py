"""Duties and delivery leases among replicas on one PostgreSQL database (storage/pg_leases.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from storage.pg_leases import PgLeases
from storage.repositories import Database

Replicas = Callable[[str], PgLeases]


@pytest.fixture
async def replicas(postgres_url: str) -> AsyncIterator[Replicas]:
    """Makes the leases of one replica after another on one migrated database; all closed at the end."""
    db = await Database.connect(postgres_url)  # applies the migrations
    await db.close()
    pools: list[AsyncConnectionPool[Any]] = []
    made: list[PgLeases] = []

    def replica(name: str) -> PgLeases:
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            postgres_url, min_size=1, max_size=2, kwargs={"autocommit": True}, open=False
        )
        pools.append(pool)
        made.append(PgLeases(postgres_url, pool, name=name))
        return made[-1]

    yield replica
    for leases in made:
        await leases.close()
    for pool in pools:
        await pool.close()


async def eventually(ask: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> bool:
    """Ask until the answer is yes (a closed connection's backend ends a moment after the client lets go)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await ask():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def opened(leases: PgLeases) -> PgLeases:
    await leases._pool.open(wait=True)
    return leases


async def test_one_replica_leads_a_duty_and_another_takes_it_when_it_is_gone(replicas: Replicas) -> None:
    first, second = await opened(replicas("first")), await opened(replicas("second"))
    assert await first.lead("clock-scheduler")
    assert not await second.lead("clock-scheduler"), "a duty has one leader"
    assert await first.lead("clock-scheduler"), "the leader keeps it"
    assert await second.lead("readiness-scheduler"), "another duty is free"
    assert second.leading() == {"clock-scheduler": False, "readiness-scheduler": True}
    await first.close()  # the replica died: its connection, and its locks, are gone
    assert await eventually(lambda: second.lead("clock-scheduler")), "the server ends the closed session's locks"
    assert not await first.lead("clock-scheduler"), "back again, it follows"


async def test_a_leader_whose_backend_is_killed_stops_leading_and_the_duty_moves(
    replicas: Replicas, postgres_url: str
) -> None:
    first, second = await opened(replicas("first")), await opened(replicas("second"))
    assert await first.lead("clock-scheduler")
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as admin:
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted")
    await asyncio.sleep(0.1)
    assert await second.lead("clock-scheduler")
    assert not await first.lead("clock-scheduler"), "its connection is gone: it no longer leads"
    assert first.leading() == {"clock-scheduler": False}


async def test_a_conversation_is_delivered_by_one_replica_until_its_lease_ends(replicas: Replicas) -> None:
    first, second = await opened(replicas("first")), await opened(replicas("second"))
    assert await first.claim("19:channel", 30)
    assert not await second.claim("19:channel", 30), "held by the first"
    assert await first.claim("19:channel", 30), "renewed by its holder"
    assert await second.claim("a:personal-chat", 30), "another conversation is free"
    await first.release("19:channel")
    assert await second.claim("19:channel", 30), "given back: taken at once"
    assert not await first.claim("19:channel", 30)


async def test_an_ended_lease_is_taken_over(replicas: Replicas) -> None:
    first, second = await opened(replicas("first")), await opened(replicas("second"))
    assert await first.claim("19:channel", 0.2)
    assert not await second.claim("19:channel", 30)
    await asyncio.sleep(0.3)  # the first died: it renews no more
    assert await second.claim("19:channel", 30)
    assert not await first.claim("19:channel", 30)


async def test_replicas_claiming_at_once_get_one_holder_each_time(replicas: Replicas) -> None:
    many = [await opened(replicas(f"replica-{n}")) for n in range(4)]
    for round_ in range(10):
        conversation = f"19:conversation-{round_}"
        granted = await asyncio.gather(*(leases.claim(conversation, 30) for leases in many))
        assert sum(granted) == 1, f"round {round_}: {granted}"


async def test_duties_asked_for_at_once_are_all_kept(replicas: Replicas) -> None:
    first, second = await opened(replicas("first")), await opened(replicas("second"))
    duties = ["readiness-scheduler", "clock-scheduler", "archive"]
    assert await asyncio.gather(*(first.lead(duty) for duty in duties)) == [True, True, True]
    assert await asyncio.gather(*(second.lead(duty) for duty in duties)) == [False, False, False]


async def test_a_lost_connection_gives_up_every_duty_it_held(replicas: Replicas, postgres_url: str) -> None:
    first = await opened(replicas("first"))
    assert await first.lead("clock-scheduler") and await first.lead("readiness-scheduler")
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as admin:
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted")
    await asyncio.sleep(0.1)
    second = await opened(replicas("second"))
    assert await second.lead("readiness-scheduler"), "the lock went with the connection"
    assert not await first.lead("clock-scheduler"), "this ask finds the connection gone"
    assert first.leading()["readiness-scheduler"] is False, "/metrics must not say it still leads"
