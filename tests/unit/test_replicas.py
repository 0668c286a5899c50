"""Replicas on one database: a use case beaten by another replica decides again, and a duty runs on one replica."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.periodic import Periodic
from domain.policy import Requester
from domain.records import Actor, OfficerState, Stamp
from services import approval
from services.context import CONFLICT_ATTEMPTS, AppContext
from services.outcomes import AlreadyDone, Done, Happening
from settings import Settings
from storage.errors import ConflictError
from tests.support import seed
from tests.support.factories import JB_AAD
from tests.support.memory_db import MemoryDatabase, RecordingNotifier

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
STAFF = Requester(Actor(aad_id=JB_AAD, name="Jamie Staff"), is_staff=True)
REMOTE = Actor(aad_id="33333333-3333-4333-8333-333333333333", name="Jo Bureau")


@dataclass
class BeatenDatabase(MemoryDatabase):
    """A database where another replica approves the officer just before each of this replica's commits."""

    beaten: int = 0
    remote_writes: list[Any] = field(default_factory=list)

    async def commit(self, changes: Any) -> None:
        if self.beaten > 0:
            self.beaten -= 1
            approved = self.officers.get("9000", "A1234")
            assert approved is not None
            self.remote_writes.append(
                self.officers.put(
                    approved.model_copy(
                        update={
                            "state": OfficerState.APPROVED,
                            "approved": Stamp(actor=REMOTE, at=NOW),
                            "approval_date": date(2026, 11, 20),
                        }
                    )
                )
            )
            raise ConflictError("the officer changed on another replica")
        await super().commit(changes)

    async def catch_up(self) -> None:
        await super().catch_up()
        for change in self.remote_writes:
            change.apply()
        self.remote_writes.clear()


async def context(db: MemoryDatabase) -> AppContext:
    await db.seed(seed.package(), seed.officer())
    settings = Settings.from_env({"JB_STAFF_IDS": JB_AAD})
    return AppContext(settings=settings, db=db, notifier=RecordingNotifier(), clock=lambda: NOW)


async def test_an_approve_beaten_by_another_replica_says_who_approved() -> None:
    db = BeatenDatabase()
    app = await context(db)
    db.beaten = 1
    outcome = await app.retrying(lambda: approval.approve(app, STAFF, "9000", "A1234", confirmed=True))
    assert isinstance(outcome, AlreadyDone) and outcome.what is Happening.APPROVED
    assert outcome.by.actor.name == "Jo Bureau", "the answer is about the approval the other replica made"
    assert db.catch_ups == 1
    assert "officer.approve" not in db.audit.actions(), "this replica approved nothing"


async def test_without_a_conflict_the_use_case_runs_once() -> None:
    db = BeatenDatabase()
    app = await context(db)
    outcome = await app.retrying(lambda: approval.approve(app, STAFF, "9000", "A1234", confirmed=True))
    assert isinstance(outcome, Done)
    assert db.catch_ups == 0


async def test_a_record_that_keeps_changing_gives_up_with_the_conflict() -> None:
    db = MemoryDatabase()
    app = await context(db)
    runs = 0

    async def always_beaten() -> None:
        nonlocal runs
        runs += 1
        raise ConflictError("changed again")

    with pytest.raises(ConflictError):
        await app.retrying(always_beaten)
    assert runs == CONFLICT_ATTEMPTS
    assert db.catch_ups == CONFLICT_ATTEMPTS - 1


class Leases:
    """Leases another replica holds until ``handed_over`` is set."""

    def __init__(self) -> None:
        self.handed_over = False
        self.asked: list[str] = []

    async def lead(self, duty: str) -> bool:
        self.asked.append(duty)
        return self.handed_over

    def leading(self) -> dict[str, bool]:
        return {"count": self.handed_over}

    async def claim(self, conversation_id: str, seconds: float) -> bool:
        return True

    async def release(self, conversation_id: str) -> None:
        return None

    async def close(self) -> None:
        return None


class Counting(Periodic):
    name = "count"

    def __init__(self, leases: Leases) -> None:
        super().__init__(leases)
        self.rounds = 0

    async def round(self) -> None:
        self.rounds += 1

    def pause(self) -> float:
        return 60.0


async def test_a_duty_runs_only_on_the_replica_that_leads_and_is_taken_over() -> None:
    leases = Leases()
    duty = Counting(leases)
    await duty.run_once()
    await duty.run_once()
    assert duty.rounds == 0 and duty.following, "another replica leads: this one only asks"
    leases.handed_over = True  # the leader died; its lock went with its connection
    await duty.run_once()
    assert duty.rounds == 1 and not duty.following
    assert leases.asked == ["count"] * 3
