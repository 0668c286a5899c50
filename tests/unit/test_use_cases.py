"""The use cases against in-memory repositories: what each returns, what it changes, and what it asks to be told.

No engine, no Teams, no cards: the outcomes and notices are plain data, so these are plain calls.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.policy import Requester
from domain.records import Actor, EventType, IncidentKind, OfficerState, TicketEvent
from domain.views import ExtensionForm, IncidentView, OfficerView, PackageView
from services import approval, packages, status, tickets
from services.context import AppContext
from services.notices import Acknowledgment, ApprovalNotice, IncidentAlert, OfficerCard, PackageForJb
from services.outcomes import (
    AlreadyDone,
    Done,
    FormOpened,
    Happening,
    Invalid,
    NeedsConfirmation,
    NotFound,
    NotPossible,
    Refused,
)
from settings import Settings
from storage.errors import StorageUnavailable
from tests.support import seed
from tests.support.factories import JB_AAD, OTHER_AAD, POC_AAD
from tests.support.memory_db import MemoryDatabase, RecordingNotifier

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
STAFF = Requester(Actor(aad_id=JB_AAD, name="Jamie Staff"), is_staff=True)
POC = Requester(Actor(aad_id=POC_AAD, name="Pat Poc"), is_staff=False)
STRANGER = Requester(Actor(aad_id=OTHER_AAD, name="Someone"), is_staff=False)


@pytest.fixture
async def app() -> AppContext:
    db = MemoryDatabase()
    await db.seed(seed.package(), seed.officer())
    settings = Settings.from_env({"JB_STAFF_IDS": JB_AAD})
    return AppContext(settings=settings, db=db, notifier=RecordingNotifier(), clock=lambda: NOW)


def db_of(app: AppContext) -> MemoryDatabase:
    assert isinstance(app.db, MemoryDatabase)
    return app.db


def told(app: AppContext) -> RecordingNotifier:
    assert isinstance(app.notifier, RecordingNotifier)
    return app.notifier


def results_of(outcome: object) -> tuple[tickets.EventResult, ...]:
    """The per-event results of a request that was recorded."""
    assert isinstance(outcome, tickets.EventsRecorded)
    return outcome.results


def accepted(number: str, day: int, officer: str = "A1234") -> list[TicketEvent]:
    """A ticket issued on Nov ``day``, uploaded within the hour and accepted."""
    issued = datetime(2026, 11, day, 14, 0, tzinfo=UTC)
    return [
        TicketEvent(
            event_id=f"{number}-{kind.value}",
            type=kind,
            ticket_number=number,
            officer_number=officer,
            judiciary_code="9000",
            occurred_at=issued + timedelta(hours=hours),
            issued_at=issued,
        )
        for kind, hours in ((EventType.SUBMITTED, 1), (EventType.ACCEPTED, 2))
    ]


async def make_ready(app: AppContext) -> None:
    events = accepted("VT-1", 10) + accepted("VT-2", 11) + accepted("VT-3", 12)
    await tickets.record_events(app, events)


# ---- approve ---------------------------------------------------------------------------------------


async def test_staff_approve_a_ready_officer_and_the_poc_and_agency_are_told(app: AppContext) -> None:
    await make_ready(app)
    assert [type(n.content) for n in told(app).notices] == [OfficerCard]  # the readiness card to the JB
    outcome = await approval.approve(app, STAFF, "9000", "A1234", confirmed=False, shown="message-1")
    assert isinstance(outcome, Done) and isinstance(outcome.view, OfficerView)
    stored = db_of(app).officers.get("9000", "A1234")
    assert stored is not None and stored.state is OfficerState.APPROVED and stored.approval_date == date(2026, 11, 20)
    approval_notice = told(app).notices[-1]
    assert isinstance(approval_notice.content, ApprovalNotice)
    assert {a.kind for a in approval_notice.audiences} == {"person", "agency"}
    assert told(app).shown[-1] == "message-1"  # the pressed copy is updated in the turn, not again
    assert "officer.approve" in db_of(app).audit.actions()


async def test_a_poc_is_refused_approve_and_learns_nothing_of_the_officer(app: AppContext) -> None:
    await make_ready(app)
    before = len(told(app).queued)
    outcome = await approval.approve(app, POC, "9000", "A1234", confirmed=True)
    assert outcome == Refused("Only JB e-ticket staff may approve an officer.")
    assert db_of(app).officers.get("9000", "A1234").state is OfficerState.MONITORING  # type: ignore[union-attr]
    assert len(told(app).queued) == before
    assert "officer.approve.denied" in db_of(app).audit.actions()


async def test_approving_an_officer_not_ready_asks_to_confirm_first(app: AppContext) -> None:
    outcome = await approval.approve(app, STAFF, "9000", "A1234", confirmed=False)
    assert isinstance(outcome, NeedsConfirmation)
    assert "0 of 3 accepted" in " ".join(outcome.view.readiness.missing)
    assert db_of(app).officers.get("9000", "A1234").state is OfficerState.MONITORING  # type: ignore[union-attr]
    confirmed = await approval.approve(app, STAFF, "9000", "A1234", confirmed=True)
    assert isinstance(confirmed, Done)


async def test_the_status_line_words_the_settings_rule_plainly() -> None:
    """Issue 14: with READY_CLEAN_STREAK=4 the /status line counts to 4, in words a clerk knows."""
    db = MemoryDatabase()
    await db.seed(seed.package(), seed.officer())
    settings = Settings.from_env({"JB_STAFF_IDS": JB_AAD, "READY_CLEAN_STREAK": "4", "READY_MIN_ACCEPTED": "2"})
    app = AppContext(settings=settings, db=db, notifier=RecordingNotifier(), clock=lambda: NOW)
    await tickets.record_events(app, accepted("VT-1", 10) + accepted("VT-2", 11) + accepted("VT-3", 12))
    officer = db.officers.get("9000", "A1234")
    assert officer is not None
    line = status.progress_text(approval.assess(app, officer))
    assert line == "3 accepted (2 needed), 10 days (7 needed), 3 of 4 e-tickets accepted without a problem"


async def test_a_second_approve_says_who_approved_and_when(app: AppContext) -> None:
    await approval.approve(app, STAFF, "9000", "A1234", confirmed=True)
    other = Requester(Actor(aad_id=JB_AAD, name="Jo Bureau"), is_staff=True)
    outcome = await approval.approve(app, other, "9000", "A1234", confirmed=True)
    assert isinstance(outcome, AlreadyDone) and outcome.what is Happening.APPROVED
    assert outcome.by.actor.name == "Jamie Staff" and outcome.by.at == NOW


async def test_a_withdrawn_officer_cannot_be_approved(app: AppContext) -> None:
    await approval.withdraw(app, POC, "9000", "A1234")
    outcome = await approval.approve(app, STAFF, "9000", "A1234", confirmed=True)
    assert isinstance(outcome, NotPossible) and "withdrawn" in outcome.reason


async def test_card_data_naming_no_officer_is_not_found(app: AppContext) -> None:
    for code, number in (("9000", "Z9999"), (9000, "A1234"), ("9000", ["A1234"])):
        assert await approval.approve(app, STAFF, code, number, confirmed=True) == NotFound("officer")


# ---- extend and withdraw ----------------------------------------------------------------------------


async def test_extend_opens_a_form_and_refuses_a_past_date_beside_the_field(app: AppContext) -> None:
    form = await approval.extend_form(app, STAFF, "9000", "A1234")
    assert isinstance(form, FormOpened) and isinstance(form.view, ExtensionForm)
    assert form.view.today == date(2026, 11, 20)
    outcome = await approval.extend(app, STAFF, "9000", "A1234", {"until": "2026-11-01", "reason": "Watch"})
    assert isinstance(outcome, Invalid) and set(outcome.errors) == {"until"}
    assert db_of(app).officers.get("9000", "A1234").extension is None  # type: ignore[union-attr]
    done = await approval.extend(app, STAFF, "9000", "A1234", {"until": "2026-12-01", "reason": "Watch"})
    assert isinstance(done, Done)
    assert db_of(app).officers.get("9000", "A1234").extension.until == date(2026, 12, 1)  # type: ignore[union-attr]


async def test_withdraw_is_for_the_agencys_poc_or_staff_and_tells_the_jb(app: AppContext) -> None:
    assert await approval.withdraw(app, STRANGER, "9000", "A1234") == Refused(
        "Only the agency's Point-of-Contact or JB e-ticket staff may withdraw an officer."
    )
    outcome = await approval.withdraw(app, POC, "9000", "A1234")
    assert isinstance(outcome, Done)
    assert [n.audiences[0].kind for n in told(app).notices] == ["jb"]
    again = await approval.withdraw(app, STAFF, "9000", "A1234")
    assert isinstance(again, AlreadyDone) and again.what is Happening.WITHDRAWN


async def test_withdraw_request_offers_only_the_memberships_one_may_withdraw(app: AppContext) -> None:
    await db_of(app).seed(seed.package("0123", poc=OTHER_AAD), seed.officer("A1234", "0123"))
    outcome = approval.withdraw_request(app, POC, "A1234")
    assert isinstance(outcome, FormOpened) and [o.judiciary_code for o, _ in outcome.view] == ["9000"]
    assert isinstance(approval.withdraw_request(app, STAFF, "A1234"), FormOpened)
    assert len(approval.withdraw_request(app, STAFF, "A1234").view) == 2  # type: ignore[union-attr]
    assert approval.withdraw_request(app, POC, "B2345") == NotFound("officer", "B2345")


# ---- tickets -----------------------------------------------------------------------------------------


async def test_a_rejection_alerts_the_agency_the_poc_and_the_jb_and_a_duplicate_raises_nothing(
    app: AppContext,
) -> None:
    rejected = TicketEvent(
        event_id="e-1",
        type=EventType.REJECTED,
        ticket_number="VT-9",
        officer_number="A1234",
        judiciary_code="9000",
        occurred_at=NOW - timedelta(hours=1),
        issued_at=NOW - timedelta(hours=3),
        reason="Plate state missing",
    )
    first = results_of(await tickets.record_events(app, [rejected]))
    assert first[0].status == "recorded" and [i.kind for i in first[0].incidents] == [IncidentKind.REJECTED]
    alert = told(app).notices[0]
    assert isinstance(alert.content, IncidentAlert) and isinstance(alert.content.view, IncidentView)
    assert [a.kind for a in alert.audiences] == ["agency", "person", "jb"]
    again = results_of(await tickets.record_events(app, [rejected]))
    assert again[0].status == "duplicate" and again[0].incidents == ()
    assert len(told(app).notices) == 1


async def test_mark_resolved_is_for_the_poc_or_staff_and_updates_every_copy(app: AppContext) -> None:
    event = accepted("VT-5", 18)[0].model_copy(update={"occurred_at": NOW, "event_id": "late"})  # 51 h after issue
    result = results_of(await tickets.record_events(app, [event]))
    incident = result[0].incidents[0]
    assert incident.kind is IncidentKind.LATE_UPLOAD
    assert await tickets.resolve_incident(app, STRANGER, incident.id) == Refused(
        "Only the agency's Point-of-Contact or JB e-ticket staff can mark this resolved."
    )
    done = await tickets.resolve_incident(app, POC, incident.id, shown="alert-1")
    assert isinstance(done, Done)
    assert told(app).updates[-1].subject == f"incident:{incident.id}" and told(app).shown[-1] == "alert-1"
    again = await tickets.resolve_incident(app, STAFF, incident.id)
    assert isinstance(again, AlreadyDone) and again.what is Happening.RESOLVED and again.by.actor.name == "Pat Poc"
    assert await tickets.resolve_incident(app, STAFF, "no-such-incident") == NotFound("incident")


async def test_a_failed_write_keeps_nothing_and_queues_nothing(app: AppContext) -> None:
    db_of(app).fail_next_commit = True
    with pytest.raises(StorageUnavailable):
        await approval.approve(app, STAFF, "9000", "A1234", confirmed=True)
    assert db_of(app).officers.get("9000", "A1234").state is OfficerState.MONITORING  # type: ignore[union-attr]
    assert told(app).notices == [] and told(app).woken == 0


# ---- packages ----------------------------------------------------------------------------------------


async def test_acknowledge_is_for_staff_tells_the_poc_and_says_who_acknowledged_first(app: AppContext) -> None:
    assert await packages.acknowledge(app, POC, "9000") == Refused(
        "Only JB e-ticket staff may acknowledge an Information Package."
    )
    outcome = await packages.acknowledge(app, STAFF, "9000")
    assert isinstance(outcome, Done) and isinstance(outcome.view, PackageView)
    assert isinstance(told(app).notices[-1].content, Acknowledgment)
    assert isinstance(told(app).updates[-1].content, PackageForJb)
    again = await packages.acknowledge(app, STAFF, "9000")
    assert isinstance(again, AlreadyDone) and again.what is Happening.ACKNOWLEDGED
    assert await packages.acknowledge(app, STAFF, "0000") == NotFound("package")


async def test_submit_needs_both_preconditions_and_reports_every_officer_problem(app: AppContext) -> None:
    agency = seed.package("0123").agency.model_dump()
    missing = await packages.submit_package(app, POC, agency, [], valcour_installed=True, officers_trained=False)
    assert isinstance(missing, Invalid) and set(missing.errors) == {packages.PRECONDITIONS}
    officers = [
        {"officer_number": "A1", "first_name": "Casey", "last_name": "Officer", "dps_username": "c", "start_date": ""},
        {"officer_number": "B2345", "first_name": "", "last_name": "Deputy", "dps_username": "d", "start_date": ""},
    ]
    invalid = await packages.submit_package(app, POC, agency, officers, valcour_installed=True, officers_trained=True)
    assert isinstance(invalid, Invalid)
    assert {"officer:0:officer_number", "officer:1:first_name", "officer:1:start_date"} <= set(invalid.errors)
    assert db_of(app).packages.get("0123") is None and told(app).notices == []


async def test_a_submitted_package_goes_to_the_jb_with_its_officers(app: AppContext) -> None:
    agency = seed.package("0123").agency.model_dump()
    officer = {
        "officer_number": "c3456",
        "first_name": "Chris",
        "last_name": "Cadet",
        "dps_username": "ccadet",
        "start_date": "2026-12-01",
    }
    outcome = await packages.submit_package(app, POC, agency, [officer], valcour_installed=True, officers_trained=True)
    assert isinstance(outcome, Done) and [o.officer_number for o in outcome.view.officers] == ["C3456"]
    notice = told(app).notices[-1]
    assert isinstance(notice.content, PackageForJb) and notice.subject == "package:0123"
    assert db_of(app).officers.get("0123", "C3456") is not None


async def test_subscriptions_follow_the_policy(app: AppContext) -> None:
    assert await packages.subscribe(app, POC, "jb", "19:channel") == Refused(
        "Only JB e-ticket staff can mark the JB channel."
    )
    assert await packages.subscribe(app, STRANGER, "9000", "19:channel") == Refused(
        "Only the Point-of-Contact of this agency or JB e-ticket staff can route its alerts."
    )
    assert await packages.subscribe(app, POC, "4444", "19:channel") == NotFound("package", "4444")
    assert isinstance(await packages.subscribe(app, POC, "9000", "19:channel"), Done)
    assert db_of(app).subscriptions.conversation_for("9000") == "19:channel"


async def test_only_staff_hand_over_the_poc_role(app: AppContext) -> None:
    newcomer = Actor(aad_id=OTHER_AAD, name="Olive Other")
    assert isinstance(await packages.set_poc(app, POC, "9000", newcomer, None), Refused)
    asked = await packages.set_poc(app, STAFF, "9000", newcomer, None)  # no e-mail yet: the form, nothing changed
    assert isinstance(asked, FormOpened) and asked.form == "poc_email"
    wrong = await packages.set_poc(app, STAFF, "9000", newcomer, "olive@")
    assert isinstance(wrong, Invalid) and set(wrong.errors) == {"poc_email"}
    assert db_of(app).packages.get("9000").poc.aad_id == POC_AAD  # type: ignore[union-attr]
    assert "package.set_poc" not in db_of(app).audit.actions()
    outcome = await packages.set_poc(app, STAFF, "9000", newcomer, "olive@example.vt.gov")
    assert isinstance(outcome, Done)
    assert db_of(app).packages.get("9000").poc.aad_id == OTHER_AAD  # type: ignore[union-attr]
    assert {n.audiences[0].key for n in told(app).notices} == {OTHER_AAD, POC_AAD}


async def test_a_flood_of_refused_presses_is_counted_with_one_audit_entry_per_person_and_hour(
    app: AppContext,
) -> None:
    for _ in range(500):
        assert isinstance(await approval.approve(app, STRANGER, "9000", "A1234", confirmed=True), Refused)
    assert db_of(app).audit.actions().count("officer.approve.denied") == 1
    assert app.refusals.total == 500
    app.clock = lambda: NOW + timedelta(hours=1)
    await approval.approve(app, STRANGER, "9000", "A1234", confirmed=True)
    await approval.approve(app, POC, "9000", "A1234", confirmed=True)
    assert db_of(app).audit.actions().count("officer.approve.denied") == 3  # the next hour, and another person
