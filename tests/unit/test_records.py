"""The records are their stored form: every model reads the documents the hand-written ``to_doc``
wrote before the records became pydantic models, and writes them back byte for byte.

The expected documents below were produced by that earlier code (``to_doc``) from the same records,
before it was deleted; they are what the data files on disk hold.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, ValidationError

from domain.records import (
    SYSTEM,
    Actor,
    Agency,
    AuditEntry,
    EventType,
    Extension,
    Incident,
    IncidentKind,
    IncidentStatus,
    Officer,
    OfficerState,
    Package,
    Stamp,
    TicketEvent,
    Violation,
    ViolationCategory,
)
from storage.repositories import ConversationRecord, Notice

VT = ZoneInfo("America/New_York")
AT = datetime(2026, 11, 21, 10, 0, tzinfo=VT)  # stored as 15:00 UTC
AT_MICROS = datetime(2026, 11, 21, 15, 0, 0, 123456, tzinfo=UTC)
AT_INDIA = datetime(2026, 11, 22, 1, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))  # 20:00 UTC
POC = Actor(aad_id="11111111-1111-4111-8111-111111111111", name="Pat Poc")
JB = Actor(aad_id="22222222-2222-4222-8222-222222222222", name="Jamie Staff")
AGENCY = Agency(
    judiciary_code="0412",
    agency_name="Williston Police Department",
    letterhead_address="7928 Williston Rd\nWilliston, VT 05495",
    letterhead_phone="(802) 878-6611",
    poc_name="Pat Poc",
    poc_email="pat.poc@williston.example",
)

POC_DOC = {"aad_id": "11111111-1111-4111-8111-111111111111", "name": "Pat Poc"}
JB_DOC = {"aad_id": "22222222-2222-4222-8222-222222222222", "name": "Jamie Staff"}
AGENCY_DOC = {
    "judiciary_code": "0412",
    "agency_name": "Williston Police Department",
    "letterhead_address": "7928 Williston Rd\nWilliston, VT 05495",
    "letterhead_phone": "(802) 878-6611",
    "poc_name": "Pat Poc",
    "poc_email": "pat.poc@williston.example",
}

CASES: dict[str, tuple[BaseModel, dict[str, Any]]] = {
    "actor": (Actor(aad_id="poc-2"), {"aad_id": "poc-2", "name": ""}),
    "stamp": (Stamp(actor=JB, at=AT), {"actor": JB_DOC, "at": "2026-11-21T15:00:00+00:00"}),
    "agency": (AGENCY, AGENCY_DOC),
    "package": (
        Package(agency=AGENCY, poc=POC, submitted=Stamp(actor=POC, at=AT)),
        {
            "judiciary_code": "0412",
            "agency": AGENCY_DOC,
            "poc": POC_DOC,
            "submitted": {"actor": POC_DOC, "at": "2026-11-21T15:00:00+00:00"},
            "valcour_installed": True,
            "officers_trained": True,
            "acknowledged": None,
        },
    ),
    "package acknowledged": (
        Package(
            agency=AGENCY,
            poc=POC,
            submitted=Stamp(actor=POC, at=AT),
            officers_trained=False,
            acknowledged=Stamp(actor=JB, at=AT_MICROS),
        ),
        {
            "judiciary_code": "0412",
            "agency": AGENCY_DOC,
            "poc": POC_DOC,
            "submitted": {"actor": POC_DOC, "at": "2026-11-21T15:00:00+00:00"},
            "valcour_installed": True,
            "officers_trained": False,
            "acknowledged": {"actor": JB_DOC, "at": "2026-11-21T15:00:00.123456+00:00"},
        },
    ),
    "extension": (
        Extension(until=date(2026, 12, 7), reason="Two corrections needed", granted=Stamp(actor=JB, at=AT)),
        {
            "until": "2026-12-07",
            "reason": "Two corrections needed",
            "granted": {"actor": JB_DOC, "at": "2026-11-21T15:00:00+00:00"},
        },
    ),
    "officer in monitoring": (
        Officer(
            judiciary_code="0412",
            officer_number="A1234",
            first_name="Casey",
            last_name="Officer",
            dps_username="cofficer",
            start_date=date(2026, 12, 1),
            added=Stamp(actor=POC, at=AT),
        ),
        {
            "judiciary_code": "0412",
            "officer_number": "A1234",
            "first_name": "Casey",
            "last_name": "Officer",
            "dps_username": "cofficer",
            "start_date": "2026-12-01",
            "added": {"actor": POC_DOC, "at": "2026-11-21T15:00:00+00:00"},
            "state": "monitoring",
            "approved": None,
            "approval_date": None,
            "withdrawn": None,
            "extension": None,
            "acknowledged": None,
        },
    ),
    "officer approved, with an extension": (
        Officer(
            judiciary_code="0412",
            officer_number="B2345",
            first_name="Ann",
            last_name="Lee",
            dps_username="alee",
            start_date=date(2026, 12, 1),
            added=Stamp(actor=POC, at=AT),
            state=OfficerState.APPROVED,
            approved=Stamp(actor=JB, at=AT_INDIA),
            approval_date=date(2026, 12, 9),
            extension=Extension(until=date(2026, 12, 7), reason="r", granted=Stamp(actor=JB, at=AT)),
        ),
        {
            "judiciary_code": "0412",
            "officer_number": "B2345",
            "first_name": "Ann",
            "last_name": "Lee",
            "dps_username": "alee",
            "start_date": "2026-12-01",
            "added": {"actor": POC_DOC, "at": "2026-11-21T15:00:00+00:00"},
            "state": "approved",
            "approved": {"actor": JB_DOC, "at": "2026-11-21T20:00:00+00:00"},
            "approval_date": "2026-12-09",
            "withdrawn": None,
            "extension": {
                "until": "2026-12-07",
                "reason": "r",
                "granted": {"actor": JB_DOC, "at": "2026-11-21T15:00:00+00:00"},
            },
            "acknowledged": None,
        },
    ),
    "officer withdrawn": (
        Officer(
            judiciary_code="9000",
            officer_number="C0001",
            first_name="Bo",
            last_name="Ng",
            dps_username="bng",
            start_date=date(2026, 11, 21),
            added=Stamp(actor=POC, at=AT),
            state=OfficerState.WITHDRAWN,
            withdrawn=Stamp(actor=POC, at=AT_MICROS),
        ),
        {
            "judiciary_code": "9000",
            "officer_number": "C0001",
            "first_name": "Bo",
            "last_name": "Ng",
            "dps_username": "bng",
            "start_date": "2026-11-21",
            "added": {"actor": POC_DOC, "at": "2026-11-21T15:00:00+00:00"},
            "state": "withdrawn",
            "approved": None,
            "approval_date": None,
            "withdrawn": {"actor": POC_DOC, "at": "2026-11-21T15:00:00.123456+00:00"},
            "extension": None,
            "acknowledged": None,
        },
    ),
    "violation": (
        Violation(category=ViolationCategory.CIVIL_ORDINANCE, statute="24 V.S.A. § 1974a", full_penalty=100.0),
        {"category": "civil_ordinance", "statute": "24 V.S.A. § 1974a", "full_penalty": 100.0, "waiver_penalty": None},
    ),
    "event with everything": (
        TicketEvent(
            event_id="valcour-1",
            type=EventType.SUBMITTED,
            ticket_number="VT-24-000123",
            officer_number="A1234",
            judiciary_code="0412",
            occurred_at=AT_INDIA,
            issued_at=AT,
            violation=Violation(
                category=ViolationCategory.TRAFFIC, statute="23 V.S.A. § 1007", full_penalty=162.0, waiver_penalty=106.5
            ),
            received_at=AT_MICROS,
        ),
        {
            "event_id": "valcour-1",
            "type": "submitted",
            "ticket_number": "VT-24-000123",
            "officer_number": "A1234",
            "judiciary_code": "0412",
            "occurred_at": "2026-11-21T20:00:00+00:00",
            "issued_at": "2026-11-21T15:00:00+00:00",
            "reason": None,
            "violation": {
                "category": "traffic",
                "statute": "23 V.S.A. § 1007",
                "full_penalty": 162.0,
                "waiver_penalty": 106.5,
            },
            "received_at": "2026-11-21T15:00:00.123456+00:00",
        },
    ),
    "event, minimal": (
        TicketEvent(
            event_id="odyssey-77",
            type=EventType.REJECTED,
            ticket_number="vt-24-1",
            officer_number="A1234",
            judiciary_code="0412",
            occurred_at=AT,
            reason="Statute not found",
        ),
        {
            "event_id": "odyssey-77",
            "type": "rejected",
            "ticket_number": "vt-24-1",
            "officer_number": "A1234",
            "judiciary_code": "0412",
            "occurred_at": "2026-11-21T15:00:00+00:00",
            "issued_at": None,
            "reason": "Statute not found",
            "violation": None,
            "received_at": None,
        },
    ),
    "incident open": (
        Incident(
            id="inc-1",
            kind=IncidentKind.LATE_UPLOAD,
            judiciary_code="0412",
            officer_number="A1234",
            ticket_number="VT-24-000123",
            event_id="valcour-1",
            raised_at=AT_MICROS,
            issued_at=AT,
            detail="49 hours",
        ),
        {
            "id": "inc-1",
            "kind": "late_upload",
            "judiciary_code": "0412",
            "officer_number": "A1234",
            "ticket_number": "VT-24-000123",
            "event_id": "valcour-1",
            "raised_at": "2026-11-21T15:00:00.123456+00:00",
            "issued_at": "2026-11-21T15:00:00+00:00",
            "detail": "49 hours",
            "status": "open",
            "closed": None,
        },
    ),
    "incident resolved": (
        Incident(
            id="inc-2",
            kind=IncidentKind.REJECTED,
            judiciary_code="0412",
            officer_number="A1234",
            ticket_number="VT-24-000123",
            event_id="odyssey-77",
            raised_at=AT,
            status=IncidentStatus.RESOLVED,
            closed=Stamp(actor=JB, at=AT_INDIA),
        ),
        {
            "id": "inc-2",
            "kind": "rejected",
            "judiciary_code": "0412",
            "officer_number": "A1234",
            "ticket_number": "VT-24-000123",
            "event_id": "odyssey-77",
            "raised_at": "2026-11-21T15:00:00+00:00",
            "issued_at": None,
            "detail": "",
            "status": "resolved",
            "closed": {"actor": JB_DOC, "at": "2026-11-21T20:00:00+00:00"},
        },
    ),
    "audit entry": (
        AuditEntry(
            id="audit-1",
            at=AT,
            actor=JB,
            action="officer.approve",
            target="officer:0412:A1234",
            before={"state": "monitoring"},
            after={
                "state": "approved",
                "approved": {"actor": {"aad_id": "x", "name": ""}, "at": "2026-11-21T15:00:00+00:00"},
            },
        ),
        {
            "id": "audit-1",
            "at": "2026-11-21T15:00:00+00:00",
            "actor": JB_DOC,
            "action": "officer.approve",
            "target": "officer:0412:A1234",
            "before": {"state": "monitoring"},
            "after": {
                "state": "approved",
                "approved": {"actor": {"aad_id": "x", "name": ""}, "at": "2026-11-21T15:00:00+00:00"},
            },
        },
    ),
    "audit entry by the bot": (
        AuditEntry(id="audit-2", at=AT_MICROS, actor=SYSTEM, action="package.submit", target="package:0412"),
        {
            "id": "audit-2",
            "at": "2026-11-21T15:00:00.123456+00:00",
            "actor": {"aad_id": "system", "name": "JB e-Ticket Bot"},
            "action": "package.submit",
            "target": "package:0412",
            "before": None,
            "after": None,
        },
    ),
    "notice pending": (
        Notice(
            id="n-1",
            seq=7,
            conversation_id="19:abc@thread.tacv2",
            card={"type": "AdaptiveCard", "body": []},
            created_at=AT,
            subject="incident:inc-1",
        ),
        {
            "id": "n-1",
            "seq": 7,
            "conversation_id": "19:abc@thread.tacv2",
            "card": {"type": "AdaptiveCard", "body": []},
            "created_at": "2026-11-21T15:00:00+00:00",
            "action": "send",
            "summary": "",
            "subject": "incident:inc-1",
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": None,
            "activity_id": None,
            "error": None,
            "finished_at": None,
            "waiting_for": None,
            "reply_to": None,
        },
    ),
    "notice failed": (
        Notice(
            id="n-2",
            seq=8,
            conversation_id="a:1",
            card={},
            created_at=AT_MICROS,
            action="update",
            summary="Alert",
            status="failed",
            attempts=3,
            next_attempt_at=AT_INDIA,
            activity_id="1:2",
            error="forbidden",
            finished_at=AT,
        ),
        {
            "id": "n-2",
            "seq": 8,
            "conversation_id": "a:1",
            "card": {},
            "created_at": "2026-11-21T15:00:00.123456+00:00",
            "action": "update",
            "summary": "Alert",
            "subject": None,
            "status": "failed",
            "attempts": 3,
            "next_attempt_at": "2026-11-21T20:00:00+00:00",
            "activity_id": "1:2",
            "error": "forbidden",
            "finished_at": "2026-11-21T15:00:00+00:00",
            "waiting_for": None,
            "reply_to": None,
        },
    ),
    "conversation": (
        ConversationRecord(
            conversation_id="a:1",
            kind="personal",
            reference={"conversation": {"id": "a:1"}},
            aad_id="poc-1",
            tenant_id="t-1",
        ),
        {
            "conversation_id": "a:1",
            "kind": "personal",
            "reference": {"conversation": {"id": "a:1"}},
            "aad_id": "poc-1",
            "tenant_id": "t-1",
            "team_id": None,
            "name": None,
        },
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_record_writes_the_stored_document_byte_for_byte(name: str) -> None:
    record, stored = CASES[name]
    written = record.model_dump(mode="json")
    assert written == stored
    assert json.dumps(written) == json.dumps(stored), "same keys in the same order, as the engine writes them"


@pytest.mark.parametrize("name", list(CASES))
def test_a_stored_document_reads_back_as_the_same_record(name: str) -> None:
    record, stored = CASES[name]
    read = type(record).model_validate(json.loads(json.dumps(stored)))
    assert read == record
    assert read.model_dump(mode="json") == stored


def test_every_record_type_is_covered() -> None:
    covered = {type(record) for record, _ in CASES.values()}
    assert covered == {
        Actor,
        Stamp,
        Agency,
        Package,
        Extension,
        Officer,
        Violation,
        TicketEvent,
        Incident,
        AuditEntry,
        Notice,
        ConversationRecord,
    }


STAMP_DOC = {"actor": {"aad_id": "poc-1"}, "at": "2026-11-21T15:00:00+00:00"}

SPARSE: list[tuple[type[BaseModel], dict[str, Any], dict[str, Any]]] = [
    (Actor, {"aad_id": "poc-1"}, {"aad_id": "poc-1", "name": ""}),
    (Violation, {}, {"category": None, "statute": None, "full_penalty": None, "waiver_penalty": None}),
    (
        Package,
        {
            "judiciary_code": "0412",
            "agency": AGENCY_DOC,
            "poc": {"aad_id": "poc-1"},
            "submitted": STAMP_DOC,
            "valcour_installed": True,
            "officers_trained": True,
        },
        {
            "judiciary_code": "0412",
            "agency": AGENCY_DOC,
            "poc": {"aad_id": "poc-1", "name": ""},
            "submitted": {"actor": {"aad_id": "poc-1", "name": ""}, "at": "2026-11-21T15:00:00+00:00"},
            "valcour_installed": True,
            "officers_trained": True,
            "acknowledged": None,
        },
    ),
    (
        Officer,
        {
            "judiciary_code": "0412",
            "officer_number": "A1234",
            "first_name": "C",
            "last_name": "O",
            "dps_username": "c",
            "start_date": "2026-12-01",
            "added": STAMP_DOC,
            "state": "monitoring",
        },
        {
            "judiciary_code": "0412",
            "officer_number": "A1234",
            "first_name": "C",
            "last_name": "O",
            "dps_username": "c",
            "start_date": "2026-12-01",
            "added": {"actor": {"aad_id": "poc-1", "name": ""}, "at": "2026-11-21T15:00:00+00:00"},
            "state": "monitoring",
            "approved": None,
            "approval_date": None,
            "withdrawn": None,
            "extension": None,
            "acknowledged": None,
        },
    ),
    (
        TicketEvent,
        {
            "event_id": "e",
            "type": "accepted",
            "ticket_number": "T-1",
            "officer_number": "A1234",
            "judiciary_code": "0412",
            "occurred_at": "2026-11-21T15:00:00+00:00",
            "ticket_key": "0412:T-1",
            "officer_key": "0412:A1234",
        },
        {
            "event_id": "e",
            "type": "accepted",
            "ticket_number": "T-1",
            "officer_number": "A1234",
            "judiciary_code": "0412",
            "occurred_at": "2026-11-21T15:00:00+00:00",
            "issued_at": None,
            "reason": None,
            "violation": None,
            "received_at": None,
        },
    ),
    (
        Incident,
        {
            "id": "i",
            "kind": "rejected",
            "judiciary_code": "0412",
            "officer_number": "A1234",
            "ticket_number": "T-1",
            "event_id": "e",
            "raised_at": "2026-11-21T15:00:00+00:00",
            "status": "open",
            "officer_key": "0412:A1234",
            "ticket_key": "0412:T-1",
        },
        {
            "id": "i",
            "kind": "rejected",
            "judiciary_code": "0412",
            "officer_number": "A1234",
            "ticket_number": "T-1",
            "event_id": "e",
            "raised_at": "2026-11-21T15:00:00+00:00",
            "issued_at": None,
            "detail": "",
            "status": "open",
            "closed": None,
        },
    ),
    (
        AuditEntry,
        {"id": "a", "at": "2026-11-21T15:00:00+00:00", "actor": {"aad_id": "poc-1"}, "action": "x", "target": "t"},
        {
            "id": "a",
            "at": "2026-11-21T15:00:00+00:00",
            "actor": {"aad_id": "poc-1", "name": ""},
            "action": "x",
            "target": "t",
            "before": None,
            "after": None,
        },
    ),
    (
        Notice,
        {
            "id": "n",
            "seq": 1,
            "conversation_id": "c",
            "card": {},
            "created_at": "2026-11-21T15:00:00+00:00",
            "action": "send",
            "status": "pending",
        },
        {
            "id": "n",
            "seq": 1,
            "conversation_id": "c",
            "card": {},
            "created_at": "2026-11-21T15:00:00+00:00",
            "action": "send",
            "summary": "",
            "subject": None,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": None,
            "activity_id": None,
            "error": None,
            "finished_at": None,
            "waiting_for": None,
            "reply_to": None,
        },
    ),
    (
        ConversationRecord,
        {"conversation_id": "c", "kind": "personal", "reference": {}},
        {
            "conversation_id": "c",
            "kind": "personal",
            "reference": {},
            "aad_id": None,
            "tenant_id": None,
            "team_id": None,
            "name": None,
        },
    ),
]


@pytest.mark.parametrize(("model", "stored", "complete"), SPARSE, ids=[model.__name__ for model, _, _ in SPARSE])
def test_documents_without_optional_keys_read_as_the_old_code_read_them(
    model: type[BaseModel], stored: dict[str, Any], complete: dict[str, Any]
) -> None:
    """Absent optional keys take their defaults; index keys stored beside a record are ignored."""
    assert model.model_validate(stored).model_dump(mode="json") == complete


def test_stored_instants_read_as_aware_datetimes() -> None:
    event = TicketEvent.model_validate(CASES["event with everything"][1])
    assert event.occurred_at == AT_INDIA and event.occurred_at.utcoffset() == timedelta(0)
    assert event.received_at == AT_MICROS
    assert event.issued_at is not None and event.issued_at.tzinfo is not None


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValidationError):
        Stamp(actor=JB, at=datetime(2026, 11, 21, 10, 0))
    with pytest.raises(ValidationError):
        Stamp.model_validate({"actor": JB_DOC, "at": "2026-11-21T10:00:00"})


def test_records_are_frozen_and_change_by_copy() -> None:
    record, _ = CASES["officer in monitoring"]
    assert isinstance(record, Officer)
    with pytest.raises(ValidationError):
        record.state = OfficerState.APPROVED  # type: ignore[misc]
    approved = record.model_copy(update={"state": OfficerState.APPROVED, "approval_date": date(2026, 12, 9)})
    assert (approved.state, record.state) == (OfficerState.APPROVED, OfficerState.MONITORING)
    assert approved.model_dump(mode="json")["approval_date"] == "2026-12-09"


def test_keys_and_properties() -> None:
    officer, _ = CASES["officer in monitoring"]
    event, _ = CASES["event, minimal"]
    incident, _ = CASES["incident resolved"]
    package, _ = CASES["package"]
    assert isinstance(officer, Officer) and isinstance(event, TicketEvent) and isinstance(incident, Incident)
    assert isinstance(package, Package)
    assert (officer.key, officer.full_name) == ("0412:A1234", "Casey Officer")
    assert (event.ticket_key, event.officer_key) == ("0412:VT-24-1", "0412:A1234")
    assert (incident.ticket_key, incident.is_open) == ("0412:VT-24-000123", False)
    assert package.judiciary_code == "0412"
