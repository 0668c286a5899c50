"""The repository contract (services/ports.py) through ``storage.repositories.Database``, on every store.

Each test writes through the repositories, then reads back twice: from the running store and after a
restart (the store opened again on the same data), which must answer the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from domain.readiness import figures_from_states, keep_for
from domain.records import (
    Actor,
    AuditEntry,
    EventType,
    Incident,
    IncidentKind,
    IncidentStatus,
    OfficerState,
    Stamp,
    TicketEvent,
)
from domain.tickets import derive_state
from settings import COURT_ZONE
from storage.repositories import ConversationRecord, Database, Notice
from tests.support import seed
from tests.support.factories import JB_AAD, OTHER_AAD, POC_AAD

Reopen = Callable[[], Awaitable[Database]]
AT = datetime(2026, 11, 10, 14, 0, tzinfo=UTC)
JB = Actor(aad_id=JB_AAD, name="Jamie Staff")


async def on_both(db: Database, reopen: Reopen, check: Callable[[Database], None]) -> None:
    """Run ``check`` on the running store, then on the store opened again."""
    check(db)
    check(await reopen())


def event(
    event_id: str, ticket: str, kind: EventType = EventType.SUBMITTED, *, officer: str = "A1234", hours: int = 0
) -> TicketEvent:
    return TicketEvent(
        event_id=event_id,
        type=kind,
        ticket_number=ticket,
        officer_number=officer,
        judiciary_code="9000",
        occurred_at=AT + timedelta(hours=hours),
        issued_at=AT,
    )


def incident(incident_id: str, ticket: str, *, officer: str = "A1234", code: str = "9000", hours: int = 0) -> Incident:
    return Incident(
        id=incident_id,
        kind=IncidentKind.REJECTED,
        judiciary_code=code,
        officer_number=officer,
        ticket_number=ticket,
        event_id=f"{incident_id}-event",
        raised_at=AT + timedelta(hours=hours),
        detail="plate state missing",
    )


def notice(notice_id: str, seq: int, **fields: object) -> Notice:
    return Notice.model_validate(
        {
            "id": notice_id,
            "seq": seq,
            "conversation_id": "19:jb@thread",
            "card": {"type": "AdaptiveCard"},
            "created_at": AT,
        }
        | fields
    )


async def test_packages_by_judiciary_code_in_submission_order(db: Database, reopen: Reopen) -> None:
    first, second = seed.package("9000"), seed.package("0123", poc=OTHER_AAD)
    await db.commit([db.packages.put(first), db.packages.put(second)])
    acknowledged = first.model_copy(update={"acknowledged": Stamp(actor=JB, at=AT)})
    await db.commit([db.packages.put(acknowledged)])
    await db.packages.settled("9000")

    def check(current: Database) -> None:
        assert current.packages.get("9000") == acknowledged
        assert current.packages.get("5555") is None
        assert [p.judiciary_code for p in current.packages.all()] == ["9000", "0123"]  # a replaced one keeps its place
        assert [p.judiciary_code for p in current.packages.for_poc(OTHER_AAD.upper())] == ["0123"]
        assert current.packages.for_poc(JB_AAD) == []

    await on_both(db, reopen, check)


async def test_officers_by_agency_number_and_state(db: Database, reopen: Reopen) -> None:
    a1, b2 = seed.officer("A1234"), seed.officer("B2345")
    elsewhere = seed.officer("A1234", judiciary_code="0123")
    await db.commit([db.officers.put(a1), db.officers.put(b2), db.officers.put(elsewhere)])
    approved = a1.model_copy(update={"state": OfficerState.APPROVED, "approved": Stamp(actor=JB, at=AT)})
    await db.commit([db.officers.put(approved)])
    await db.officers.settled("9000", "A1234")

    def check(current: Database) -> None:
        assert current.officers.get("9000", "A1234") == approved
        assert current.officers.get("9000", "Z9999") is None
        assert [o.officer_number for o in current.officers.of_agency("9000")] == ["A1234", "B2345"]
        assert [o.judiciary_code for o in current.officers.by_number("A1234")] == ["9000", "0123"]
        assert current.officers.in_state(OfficerState.APPROVED) == [approved]
        assert len(current.officers.in_state(OfficerState.MONITORING)) == 2
        assert len(current.officers.all()) == 3

    await on_both(db, reopen, check)


async def test_ticket_events_by_id_ticket_and_officer(db: Database, reopen: Reopen) -> None:
    submitted, accepted = event("e1", "T-1"), event("e2", "T-1", EventType.ACCEPTED, hours=1)
    other = event("e3", "T-2", officer="B2345")
    await db.commit([db.events.put(submitted), db.events.put(other)])
    await db.commit([db.events.put(accepted)])
    await db.events.settled("e1", "e2", "e3")

    def check(current: Database) -> None:
        assert current.events.seen("e1") and not current.events.seen("e9")
        assert current.events.get("e2") == accepted
        assert current.events.get("e9") is None
        assert current.events.of_ticket("9000:T-1") == [submitted, accepted]
        assert current.events.of_officer("9000:B2345") == [other]
        assert current.events.ticket_keys() == ["9000:T-1", "9000:T-2"]
        assert current.events.count() == 3

    await on_both(db, reopen, check)


async def test_incidents_by_officer_ticket_status_and_time(db: Database, reopen: Reopen) -> None:
    first, second = incident("i1", "T-1"), incident("i2", "T-2", hours=2)
    elsewhere = incident("i3", "T-9", officer="C4567", code="0123", hours=1)
    await db.commit([db.incidents.put(first), db.incidents.put(second), db.incidents.put(elsewhere)])
    resolved = first.model_copy(update={"status": IncidentStatus.RESOLVED, "closed": Stamp(actor=JB, at=AT)})
    await db.commit([db.incidents.put(resolved)])
    await db.incidents.settled("i1")

    def check(current: Database) -> None:
        assert current.incidents.get("i1") == resolved
        assert current.incidents.get("i9") is None
        assert [i.id for i in current.incidents.all()] == ["i1", "i2", "i3"]
        assert [i.id for i in current.incidents.of_officer("9000:A1234")] == ["i1", "i2"]
        assert current.incidents.of_ticket("9000:T-2") == [second]
        assert [i.id for i in current.incidents.open()] == ["i2", "i3"]
        assert [i.id for i in current.incidents.open("0123")] == ["i3"]
        assert [i.id for i in current.incidents.raised_since(AT + timedelta(hours=1))] == ["i3", "i2"]
        assert [i.id for i in current.incidents.raised_since(AT, "9000")] == ["i1", "i2"]
        assert current.incidents.open_of_officer("9000:A1234") == [second]
        assert current.incidents.count_of_officer("9000:A1234") == 2
        assert current.incidents.open_count_of_officer("9000:A1234") == 1
        assert current.incidents.open_count_of_officer("9000:B2345") == 0

    await on_both(db, reopen, check)


async def test_ticket_states_and_figures(db: Database, reopen: Reopen) -> None:
    state = derive_state([event("e1", "T-1"), event("e2", "T-1", EventType.ACCEPTED, hours=1)])
    officer = seed.officer("A1234").model_copy(update={"added": Stamp(actor=JB, at=AT - timedelta(days=1))})
    figures = figures_from_states(officer, [state], COURT_ZONE, keep=keep_for(3))
    assert not db.ticket_states.backfilled()
    await db.commit([db.ticket_states.put(state), db.figures.put(figures), db.ticket_states.mark_backfilled(AT)])

    def check(current: Database) -> None:
        assert current.ticket_states.get("9000:T-1") == state
        assert current.ticket_states.get("9000:T-9") is None
        assert current.ticket_states.has("9000:T-1") and not current.ticket_states.has("9000:T-9")
        assert current.ticket_states.of_officer("9000:A1234") == [state]
        assert current.ticket_states.summaries_of("9000:A1234") == [state.summary()]
        assert current.ticket_states.backfilled()
        assert current.figures.get("9000:A1234") == figures
        assert current.figures.get("9000:B2345") is None
        assert figures.accepted == 1

    await on_both(db, reopen, check)


async def test_subscriptions_route_a_target_to_its_newest_conversation(db: Database, reopen: Reopen) -> None:
    await db.commit([db.subscriptions.put("9000", "19:old@thread", POC_AAD, AT)])
    await db.commit(
        [
            db.subscriptions.put("9000", "19:new@thread", POC_AAD, AT),
            db.subscriptions.put(db.subscriptions.JB, "19:jb@thread", JB_AAD, AT),
        ]
    )

    def check(current: Database) -> None:
        assert current.subscriptions.conversation_for("9000") == "19:new@thread"
        assert current.subscriptions.conversation_for(current.subscriptions.JB) == "19:jb@thread"
        assert current.subscriptions.conversation_for("0123") is None

    await on_both(db, reopen, check)


async def test_conversations_and_the_welcome(db: Database, reopen: Reopen) -> None:
    def personal(conversation_id: str) -> ConversationRecord:
        return ConversationRecord(
            conversation_id=conversation_id,
            kind="personal",
            reference={"conversation": {"id": conversation_id}},
            aad_id=POC_AAD,
        )

    channel = ConversationRecord(
        conversation_id="19:c@thread", kind="channel", reference={}, team_id="19:team", name="e-Tickets"
    )
    await db.conversations.save(personal("a:old"))
    await db.conversations.save(channel)
    await db.conversations.save(personal("a:new"))
    await db.conversations.save(personal("a:new"))  # unchanged: nothing to write, and still fine
    await db.commit([db.conversations.mark_welcomed("a:new", AT)])

    def check(current: Database) -> None:
        assert current.conversations.get("19:c@thread") == channel
        assert current.conversations.get("a:none") is None
        found = current.conversations.personal_chat_of(POC_AAD.upper())
        assert found is not None and found.conversation_id == "a:new"
        assert current.conversations.personal_chat_of(JB_AAD) is None
        assert current.conversations.welcomed("a:new") and not current.conversations.welcomed("a:old")

    await on_both(db, reopen, check)


async def test_outbox_queues_by_status_subject_and_reader(db: Database, reopen: Reopen) -> None:
    seqs = [db.outbox.next_seq() for _ in range(4)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4
    pending = notice("n1", seqs[0], subject="incident:i1")
    copy = notice("n2", seqs[1], subject="incident:i1", conversation_id="19:agency@thread")
    waiting = notice("n3", seqs[2], status="waiting", conversation_id="", waiting_for=f"person:{POC_AAD}")
    failed = notice("n4", seqs[3], status="failed", error="403 from Teams")
    await db.commit([db.outbox.put(n) for n in (waiting, copy, failed, pending)])
    sent = copy.model_copy(update={"status": "sent", "activity_id": "act-1", "finished_at": AT})
    await db.commit([db.outbox.put(sent)])

    def check(current: Database) -> None:
        assert current.outbox.get("n2") == sent
        assert current.outbox.get("n9") is None
        assert current.outbox.pending() == [pending]
        assert current.outbox.failed() == [failed]
        assert [n.id for n in current.outbox.of_subject("incident:i1")] == ["n1", "n2"]
        assert current.outbox.waiting() == [waiting]
        assert current.outbox.waiting(f"person:{POC_AAD}") == [waiting]
        assert current.outbox.waiting("jb") == []

    await on_both(db, reopen, check)
    assert (await reopen_outbox_seq(reopen)) > seqs[-1]


async def reopen_outbox_seq(reopen: Reopen) -> int:
    """The next outbox number after another restart (it must follow every stored one)."""
    return (await reopen()).outbox.next_seq()


async def test_audit_entries_by_target_and_period(db: Database, reopen: Reopen) -> None:
    entries = [
        AuditEntry(id=f"a{n}", at=AT + timedelta(days=n), actor=JB, action="approve", target=target, after={"n": n})
        for n, target in enumerate(["officer:9000:A1234", "package:9000", "officer:9000:A1234"])
    ]
    await db.commit([db.audit.put(entry) for entry in reversed(entries)])

    def check(current: Database) -> None:
        assert current.audit.of_target("officer:9000:A1234") == [entries[2], entries[0]]  # the order they were stored
        assert current.audit.of_target("package:0123") == []
        assert current.audit.between(AT, AT + timedelta(days=2)) == entries[:2]  # oldest first, end excluded
        assert current.audit.count() == 3

    await on_both(db, reopen, check)


async def test_readiness_memory_and_the_clock_log(db: Database, reopen: Reopen) -> None:
    await db.commit([db.readiness.put("9000:A1234", True, AT), db.readiness.put("9000:B2345", True, AT)])
    later = AT + timedelta(days=1)
    await db.commit([db.readiness.put("9000:B2345", False, later), db.clocks.put("escalation:i1:7", "escalation", AT)])

    def check(current: Database) -> None:
        assert current.readiness.was_ready("9000:A1234")
        assert not current.readiness.was_ready("9000:B2345")
        assert not current.readiness.was_ready("9000:C4567")
        assert current.readiness.ready_keys() == ["9000:A1234"]
        assert current.readiness.since("9000:B2345") == later
        assert current.readiness.since("9000:C4567") is None
        assert current.clocks.done("escalation:i1:7")
        assert not current.clocks.done("escalation:i1:2")

    await on_both(db, reopen, check)


async def test_a_commit_is_all_or_nothing_and_the_store_is_writable(db: Database, reopen: Reopen) -> None:
    assert await db.check_writable() is None
    assert db.recovered is None
    await db.commit(
        [
            db.packages.put(seed.package("9000")),
            db.officers.put(seed.officer("A1234")),
            db.clocks.put("digest:2026-11-09", "digest", AT),
        ]
    )

    def check(current: Database) -> None:
        assert current.packages.get("9000") is not None
        assert current.officers.get("9000", "A1234") is not None
        assert current.clocks.done("digest:2026-11-09")

    await on_both(db, reopen, check)
