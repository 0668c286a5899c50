"""The repositories the clocks read and write, on the embedded store and on the in-memory one alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.records import Incident, IncidentKind
from storage.repositories import Database
from tests.support.memory_db import MemoryDatabase

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def incident(number: int, code: str, raised: datetime) -> Incident:
    return Incident(
        id=f"i{number}",
        kind=IncidentKind.REJECTED,
        judiciary_code=code,
        officer_number="A1234",
        ticket_number=f"VT-{number}",
        event_id=f"e{number}",
        raised_at=raised,
    )


@pytest.fixture(params=["embedded", "memory"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "memory":
        yield MemoryDatabase()
        return
    opened = await Database.open(tmp_path / "data")
    yield opened
    await opened.close()


async def test_the_clock_log_remembers_an_occurrence_once_committed(db: Any) -> None:
    assert not db.clocks.done("escalation:i1:7")
    await db.commit([db.clocks.put("escalation:i1:7", "escalation", T0)])
    assert db.clocks.done("escalation:i1:7")
    assert not db.clocks.done("escalation:i1:2")


async def test_the_clock_log_survives_a_restart(tmp_path: Path) -> None:
    first = await Database.open(tmp_path / "data")
    await first.commit([first.clocks.put("digest:2026-11-23:jb", "digest", T0)])
    await first.close()
    second = await Database.open(tmp_path / "data")
    try:
        assert second.clocks.done("digest:2026-11-23:jb")
    finally:
        await second.close()


async def test_readiness_memory_says_since_when(db: Any) -> None:
    assert db.readiness.since("9000:A1234") is None
    await db.commit([db.readiness.put("9000:A1234", True, T0)])
    assert db.readiness.since("9000:A1234") == T0
    assert db.readiness.was_ready("9000:A1234")


async def test_incidents_raised_since_an_instant_of_one_agency_or_all(db: Any) -> None:
    records = [
        incident(1, "9000", T0 - timedelta(days=10)),
        incident(2, "9000", T0 + timedelta(hours=1)),
        incident(3, "9100", T0),
    ]
    await db.commit([db.incidents.put(record) for record in records])
    assert [i.id for i in db.incidents.raised_since(T0)] == ["i3", "i2"]
    assert [i.id for i in db.incidents.raised_since(T0, "9000")] == ["i2"]
    assert [i.id for i in db.incidents.raised_since(T0 - timedelta(days=30), "9000")] == ["i1", "i2"]
