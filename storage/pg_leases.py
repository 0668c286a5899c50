"""Leases among replicas on one PostgreSQL database: duties by advisory lock, deliveries by row lease.

A duty (``lead``) is a session-level ``pg_try_advisory_lock`` taken on a connection of its own, held
for as long as that connection lives: PostgreSQL releases it when the holder's backend ends, so a
replica that is killed hands its duties over as soon as the server notices its connection is gone
(at once for a closed socket; for a silent network, after the TCP keepalives this connection sets).
Each ask checks the connection, so a leader that lost its connection stops leading at its next ask.

A conversation's delivery right (``claim``) is a row of ``delivery_leases`` (migration 0002) with its
holder and the instant it ends, on the database's clock: a replica takes a row that is free (its
lease ended) or its own, with ``FOR UPDATE SKIP LOCKED``, and renews it before every attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import uuid
from datetime import timedelta
from typing import Any, Final

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from storage.errors import StorageUnavailable

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS: Final = 5
KEEPALIVE: Final = ("SET tcp_keepalives_idle = 10", "SET tcp_keepalives_interval = 5", "SET tcp_keepalives_count = 3")
"""The server drops a silent holder's connection (and its duties) within about 25 s."""

_TAKE_NEW = (
    "INSERT INTO delivery_leases (conversation_id, holder, until) VALUES (%(id)s, %(me)s, now() + %(for)s)"
    " ON CONFLICT (conversation_id) DO NOTHING RETURNING holder"
)
_TAKE_FREE = (
    "WITH free AS ("
    " SELECT conversation_id FROM delivery_leases"
    " WHERE conversation_id = %(id)s AND (holder = %(me)s OR until < now())"
    " FOR UPDATE SKIP LOCKED)"
    " UPDATE delivery_leases SET holder = %(me)s, until = now() + %(for)s"
    " FROM free WHERE delivery_leases.conversation_id = free.conversation_id RETURNING holder"
)
_GIVE_BACK = "UPDATE delivery_leases SET until = now() WHERE conversation_id = %(id)s AND holder = %(me)s"


def duty_key(duty: str) -> int:
    """The advisory lock key of a duty: a stable signed 64-bit number from its name."""
    return int.from_bytes(hashlib.sha256(f"jb-eticket-duty:{duty}".encode()).digest()[:8], "big", signed=True)


def replica_name() -> str:
    """This process's name among replicas: host, process id and a random part (never reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class PgLeases:
    """Duties and delivery rights of one replica; see the module docstring."""

    def __init__(self, url: str, pool: AsyncConnectionPool[Any], *, name: str | None = None) -> None:
        self._url = url
        self._pool = pool
        self.name = name or replica_name()
        self._duties: AsyncConnection[Any] | None = None
        self._held: dict[str, bool] = {}
        self._asking = asyncio.Lock()  # one ask at a time: two would each open the duties' connection

    async def lead(self, duty: str) -> bool:
        """Whether this replica holds ``duty`` now, taking it when free. Never raises (a failure: not held)."""
        async with self._asking:
            return await self._lead(duty)

    async def _lead(self, duty: str) -> bool:
        try:
            connection = await self._duty_connection()
            if self._held.get(duty):
                await connection.execute("SELECT 1")  # still connected: still holding it
                return True
            cursor = await connection.execute("SELECT pg_try_advisory_lock(%s)", (duty_key(duty),))
            row = await cursor.fetchone()
            held = bool(row and row[0])
        except psycopg.Error as error:
            if any(self._held.values()):
                logger.warning("lost the connection that held this replica's duties (%s)", type(error).__name__)
            await self._drop_duty_connection()
            self._held[duty] = False
            return False
        if held and not self._held.get(duty):
            logger.info("this replica leads %s", duty)
        self._held[duty] = held
        return held

    def leading(self) -> dict[str, bool]:
        """Every duty asked about, and whether this replica held it at the last ask."""
        return dict(self._held)

    async def claim(self, conversation_id: str, seconds: float) -> bool:
        """Take or renew the conversation's delivery lease for ``seconds``; False while another replica holds it."""
        params = {"id": conversation_id, "me": self.name, "for": timedelta(seconds=seconds)}
        try:
            async with self._pool.connection() as connection:
                cursor = await connection.execute(_TAKE_NEW, params)
                if await cursor.fetchone() is not None:
                    return True
                cursor = await connection.execute(_TAKE_FREE, params)
                return await cursor.fetchone() is not None
        except (psycopg.Error, TimeoutError) as error:
            raise StorageUnavailable(f"the delivery lease could not be claimed ({type(error).__name__})") from error

    async def release(self, conversation_id: str) -> None:
        """End this replica's lease on the conversation now. Never raises."""
        try:
            async with self._pool.connection() as connection:
                await connection.execute(_GIVE_BACK, {"id": conversation_id, "me": self.name})
        except (psycopg.Error, TimeoutError) as error:
            logger.warning("could not give back a delivery lease (%s); it ends on its own", type(error).__name__)

    async def close(self) -> None:
        """Give every duty up (closing their connection releases the locks)."""
        await self._drop_duty_connection()

    async def _duty_connection(self) -> AsyncConnection[Any]:
        if self._duties is None or self._duties.closed:
            await self._drop_duty_connection()
            connection = await AsyncConnection.connect(
                self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
            )
            for statement in KEEPALIVE:
                await connection.execute(statement)
            self._duties = connection
        return self._duties

    async def _drop_duty_connection(self) -> None:
        """Close the duties' connection: every lock it held is gone with it."""
        if self._duties is not None:
            with contextlib.suppress(Exception):
                await self._duties.close()
        self._duties = None
        self._held = {duty: False for duty in self._held}
