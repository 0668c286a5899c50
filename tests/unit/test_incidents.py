"""Unit tests of what ticket events raise (domain/incidents.py) and ticket states (domain/tickets.py)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.incidents import (
    INCIDENT_TEXT,
    Judgement,
    incident_dates,
    incident_text,
    judge,
    mark_resolved,
    rejudge,
)
from domain.records import (
    Actor,
    EventType,
    Incident,
    IncidentKind,
    IncidentStatus,
    Officer,
    OfficerState,
    Stamp,
    TicketEvent,
    Violation,
    ViolationCategory,
)
from domain.tickets import TicketState, TicketSummary, apply_event, derive_state, derive_states
from tests.support import seed

TZ = ZoneInfo("America/New_York")
ISSUED = datetime(2026, 11, 10, 14, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
JB = Actor(aad_id="jb-1", name="JB Staff")


def make_event(type_: EventType = EventType.SUBMITTED, **overrides: object) -> TicketEvent:
    """A ticket event of ticket T-1 by officer A1234 of Judiciary Code 9000, with overrides."""
    fields: dict[str, object] = {
        "event_id": f"ev-{type_.value}",
        "type": type_,
        "ticket_number": "T-1",
        "officer_number": "A1234",
        "judiciary_code": "9000",
        "occurred_at": ISSUED + timedelta(hours=1),
        "issued_at": ISSUED if type_ is EventType.SUBMITTED else None,
    }
    fields.update(overrides)
    return TicketEvent(**fields)  # type: ignore[arg-type]


def make_officer(state: OfficerState = OfficerState.MONITORING, **overrides: object) -> Officer:
    """A membership of A1234 in 9000's package."""
    return seed.officer("A1234", "9000", state=state, **overrides)


def ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"inc-{next(counter)}"


NO_PACKAGE = "no package"
"""``membership`` of an officer number in no package."""


def record(
    events: list[TicketEvent], membership: Officer | str | None = None, *, now: datetime = NOW
) -> tuple[TicketState, dict[str, Incident], list[Judgement]]:
    """Record events one by one as the use case does: each applied to the ticket's state and the ticket re-judged."""
    member = None if membership == NO_PACKAGE else (membership if isinstance(membership, Officer) else make_officer())
    new_id = ids()
    state: TicketState | None = None
    incidents: dict[str, Incident] = {}
    judgements: list[Judgement] = []
    for event in events:
        state = apply_event(state, event)
        verdicts = judge(state, lambda number: member if member and number == member.officer_number else None)
        recorded = {key: incidents[ref] for key, ref in state.incidents.items()}
        judgement = rejudge(state, verdicts, recorded, event_id=event.event_id, now=now, new_id=new_id)
        for incident in (*judgement.raised, *judgement.changed):
            incidents[incident.id] = incident
        state = judgement.state
        judgements.append(judgement)
    assert state is not None
    return state, incidents, judgements


def raise_for(
    event: TicketEvent, earlier: list[TicketEvent] | None = None, membership: Officer | str | None = None
) -> list[Incident]:
    """The incidents recording ``event`` raises, after the ``earlier`` events were recorded."""
    _, _, judgements = record([*(earlier or []), event], membership)
    return list(judgements[-1].raised)


def kinds(incidents: list[Incident]) -> list[IncidentKind]:
    return [incident.kind for incident in incidents]


def test_clean_submission_raises_nothing() -> None:
    assert raise_for(make_event()) == []


# rejected


def test_rejected_carries_the_reason() -> None:
    event = make_event(EventType.REJECTED, reason="  Statute code 23-1008 not found  ")
    [incident] = raise_for(event, [make_event()])
    assert incident.kind is IncidentKind.REJECTED
    assert incident.detail == "Statute code 23-1008 not found"
    assert incident.event_id == "ev-rejected"
    assert incident.issued_at == ISSUED  # from the earlier submitted event
    assert incident.raised_at == NOW
    assert incident.status is IncidentStatus.OPEN
    assert incident.id == "inc-1"


def test_rejected_without_reason_still_says_something() -> None:
    [incident] = raise_for(make_event(EventType.REJECTED), [make_event()])
    assert incident.detail


# late upload


def test_upload_exactly_48_hours_after_issue_is_on_time() -> None:
    assert raise_for(make_event(occurred_at=ISSUED + timedelta(hours=48))) == []


def test_upload_48_hours_and_1_minute_after_issue_is_late() -> None:
    [incident] = raise_for(make_event(occurred_at=ISSUED + timedelta(hours=48, minutes=1)))
    assert incident.kind is IncidentKind.LATE_UPLOAD
    assert "48 h 1 min" in incident.detail


def test_late_upload_measured_in_absolute_time_across_dst() -> None:
    issued = datetime(2026, 10, 31, 12, 0, tzinfo=TZ)  # EDT
    on_time = datetime(2026, 11, 2, 11, 0, tzinfo=TZ)  # EST: wall clock 47 h later, really 48 h
    assert raise_for(make_event(issued_at=issued, occurred_at=on_time)) == []
    late = datetime(2026, 11, 2, 11, 1, tzinfo=TZ)
    assert kinds(raise_for(make_event(issued_at=issued, occurred_at=late))) == [IncidentKind.LATE_UPLOAD]


def test_late_upload_uses_issue_time_of_an_earlier_event() -> None:
    earlier = [make_event(EventType.AMENDED, event_id="ev-a", issued_at=ISSUED, occurred_at=ISSUED)]
    event = make_event(issued_at=None, occurred_at=ISSUED + timedelta(hours=50))
    assert kinds(raise_for(event, earlier)) == [IncidentKind.LATE_UPLOAD]


def test_late_upload_only_on_first_submission() -> None:
    first = make_event(event_id="s1", occurred_at=ISSUED + timedelta(hours=1))
    rejected = make_event(EventType.REJECTED, event_id="r1", reason="bad", occurred_at=ISSUED + timedelta(hours=2))
    resubmitted = make_event(event_id="s2", occurred_at=ISSUED + timedelta(hours=72))
    assert raise_for(resubmitted, [first, rejected]) == []


def test_submission_with_unknown_issue_time_is_not_judged_late() -> None:
    assert raise_for(make_event(issued_at=None, occurred_at=ISSUED + timedelta(days=30))) == []


# payment before receipt


def test_payment_before_receipt() -> None:
    [incident] = raise_for(make_event(EventType.PAYMENT_RECEIVED, issued_at=None), [])
    assert incident.kind is IncidentKind.PAYMENT_BEFORE_RECEIPT
    assert incident.issued_at is None


def test_payment_after_receipt_is_fine() -> None:
    assert raise_for(make_event(EventType.PAYMENT_RECEIVED), [make_event()]) == []


def test_payment_after_accepted_counts_as_received() -> None:
    assert raise_for(make_event(EventType.PAYMENT_RECEIVED), [make_event(EventType.ACCEPTED)]) == []


def test_second_payment_before_receipt_not_raised_twice() -> None:
    first = make_event(EventType.PAYMENT_RECEIVED, event_id="p1")
    assert raise_for(make_event(EventType.PAYMENT_RECEIVED, event_id="p2"), [first]) == []


def test_payment_after_only_a_rejection_is_before_receipt() -> None:
    # An e-ticket that only ever came back rejected was never received: no submitted/accepted event.
    rejected = make_event(EventType.REJECTED, reason="x")
    assert kinds(raise_for(make_event(EventType.PAYMENT_RECEIVED), [rejected])) == [IncidentKind.PAYMENT_BEFORE_RECEIPT]


# jurisdiction (4 V.S.A. § 1102)


def test_municipal_parking_is_outside_jurisdiction() -> None:
    event = make_event(
        violation=Violation(category=ViolationCategory.MUNICIPAL_PARKING, statute="Burlington ord. 20-5")
    )
    [incident] = raise_for(event)
    assert incident.kind is IncidentKind.OUTSIDE_JURISDICTION
    assert "1102(c)" in incident.detail
    assert "Burlington ord. 20-5" in incident.detail


def test_not_jb_is_outside_jurisdiction() -> None:
    [incident] = raise_for(make_event(violation=Violation(category=ViolationCategory.NOT_JB)))
    assert incident.kind is IncidentKind.OUTSIDE_JURISDICTION
    assert "1102(b)" in incident.detail


@pytest.mark.parametrize(
    "category", [ViolationCategory.TRAFFIC, ViolationCategory.FISH_WILDLIFE, ViolationCategory.OTHER_JB, None]
)
def test_jb_matters_are_inside_jurisdiction(category: ViolationCategory | None) -> None:
    assert raise_for(make_event(violation=Violation(category=category, full_penalty=None))) == []


def test_amended_event_repeating_the_violation_does_not_raise_again() -> None:
    parking = Violation(category=ViolationCategory.MUNICIPAL_PARKING)
    earlier = [make_event(violation=parking), make_event(EventType.ACCEPTED, event_id="acc")]
    assert raise_for(make_event(EventType.AMENDED, event_id="am", violation=parking), earlier) == []
    # parking amended to not_jb: still the same problem on the same ticket, not raised again
    assert (
        raise_for(
            make_event(EventType.AMENDED, event_id="am", violation=Violation(category=ViolationCategory.NOT_JB)),
            earlier,
        )
        == []
    )


def test_amendment_reintroducing_the_problem_raises_again() -> None:
    earlier = [
        make_event(violation=Violation(category=ViolationCategory.MUNICIPAL_PARKING)),
        make_event(EventType.AMENDED, event_id="am1", violation=Violation(category=ViolationCategory.TRAFFIC)),
    ]
    event = make_event(EventType.AMENDED, event_id="am2", violation=Violation(category=ViolationCategory.NOT_JB))
    assert kinds(raise_for(event, earlier)) == [IncidentKind.OUTSIDE_JURISDICTION]


def test_event_without_violation_keeps_the_previous_one() -> None:
    earlier = [make_event(violation=Violation(category=ViolationCategory.MUNICIPAL_PARKING))]
    assert raise_for(make_event(EventType.ACCEPTED), earlier) == []


# municipal penalties (4 V.S.A. § 1102(d))


@pytest.mark.parametrize(
    ("full", "waiver", "missing"),
    [(None, 50.0, "full penalty"), (100.0, None, "waiver penalty"), (None, None, "full penalty or the waiver penalty")],
)
def test_civil_ordinance_missing_a_penalty(full: float | None, waiver: float | None, missing: str) -> None:
    event = make_event(
        violation=Violation(category=ViolationCategory.CIVIL_ORDINANCE, full_penalty=full, waiver_penalty=waiver)
    )
    [incident] = raise_for(event)
    assert incident.kind is IncidentKind.MISSING_MUNICIPAL_PENALTIES
    assert missing in incident.detail


def test_civil_ordinance_with_both_penalties_is_fine() -> None:
    event = make_event(
        violation=Violation(category=ViolationCategory.CIVIL_ORDINANCE, full_penalty=100.0, waiver_penalty=50.0)
    )
    assert raise_for(event) == []


def test_zero_penalty_counts_as_stated() -> None:
    event = make_event(
        violation=Violation(category=ViolationCategory.CIVIL_ORDINANCE, full_penalty=0.0, waiver_penalty=0.0)
    )
    assert raise_for(event) == []


def test_amended_with_the_same_missing_penalty_not_raised_twice() -> None:
    lacking = Violation(category=ViolationCategory.CIVIL_ORDINANCE, full_penalty=100.0)
    earlier = [make_event(violation=lacking)]
    assert raise_for(make_event(EventType.AMENDED, event_id="am", violation=lacking), earlier) == []


def test_amendment_supplying_the_penalty_raises_nothing() -> None:
    earlier = [make_event(violation=Violation(category=ViolationCategory.CIVIL_ORDINANCE, full_penalty=100.0))]
    fixed = Violation(category=ViolationCategory.CIVIL_ORDINANCE, full_penalty=100.0, waiver_penalty=50.0)
    assert raise_for(make_event(EventType.AMENDED, event_id="am", violation=fixed), earlier) == []


# unknown officer


def test_officer_in_no_package_is_unknown() -> None:
    [incident] = raise_for(make_event(), membership=NO_PACKAGE)
    assert incident.kind is IncidentKind.UNKNOWN_OFFICER
    assert "A1234" in incident.detail and "9000" in incident.detail


def test_withdrawn_officer_is_unknown() -> None:
    withdrawn = make_officer(
        OfficerState.WITHDRAWN, withdrawn=Stamp(actor=Actor(aad_id="poc-1"), at=ISSUED - timedelta(days=1))
    )
    assert kinds(raise_for(make_event(), membership=withdrawn)) == [IncidentKind.UNKNOWN_OFFICER]


def test_withdrawn_without_stamp_is_unknown() -> None:
    assert kinds(raise_for(make_event(), membership=make_officer(OfficerState.WITHDRAWN))) == [
        IncidentKind.UNKNOWN_OFFICER
    ]


def test_ticket_issued_before_withdrawal_is_not_unknown() -> None:
    withdrawn = make_officer(
        OfficerState.WITHDRAWN, withdrawn=Stamp(actor=Actor(aad_id="poc-1"), at=ISSUED + timedelta(minutes=30))
    )
    assert raise_for(make_event(), membership=withdrawn) == []


def test_approved_officer_is_known() -> None:
    assert raise_for(make_event(), membership=make_officer(OfficerState.APPROVED)) == []


def test_unknown_officer_raised_once_per_ticket() -> None:
    earlier = [make_event()]
    later = make_event(EventType.ACCEPTED, event_id="acc")
    assert raise_for(later, earlier, NO_PACKAGE) == []


def test_amendment_to_another_unknown_officer_raises() -> None:
    earlier = [make_event()]
    amended = make_event(EventType.AMENDED, event_id="am", officer_number="B9999")
    [incident] = raise_for(amended, earlier, NO_PACKAGE)
    assert incident.kind is IncidentKind.UNKNOWN_OFFICER
    assert incident.officer_number == "B9999"


def test_one_event_can_raise_several_incidents_with_distinct_ids() -> None:
    event = make_event(
        occurred_at=ISSUED + timedelta(hours=60), violation=Violation(category=ViolationCategory.MUNICIPAL_PARKING)
    )
    incidents = raise_for(event, membership=NO_PACKAGE)
    assert kinds(incidents) == [
        IncidentKind.LATE_UPLOAD,
        IncidentKind.OUTSIDE_JURISDICTION,
        IncidentKind.UNKNOWN_OFFICER,
    ]
    assert len({incident.id for incident in incidents}) == 3


# voided (4 V.S.A. § 1106(d))


def test_voided_event_raises_nothing() -> None:
    event = make_event(EventType.VOIDED, violation=Violation(category=ViolationCategory.MUNICIPAL_PARKING))
    assert raise_for(event, membership=NO_PACKAGE) == []


def test_voided_closes_open_incidents_and_leaves_resolved_ones() -> None:
    rejected = make_event(EventType.REJECTED, event_id="r1", reason="bad", occurred_at=ISSUED + timedelta(hours=2))
    again = make_event(EventType.REJECTED, event_id="r2", reason="worse", occurred_at=ISSUED + timedelta(hours=3))
    state, incidents, _ = record([make_event(), rejected, again])
    [first, second] = incidents.values()
    resolved = mark_resolved(first, Stamp(actor=JB, at=NOW))
    recorded = {key: resolved if ref == first.id else incidents[ref] for key, ref in state.incidents.items()}
    voided = apply_event(state, make_event(EventType.VOIDED, event_id="v", occurred_at=ISSUED + timedelta(days=5)))
    later = NOW + timedelta(hours=1)
    judgement = rejudge(
        voided, judge(voided, lambda _: make_officer()), recorded, event_id="v", now=later, new_id=ids()
    )
    assert judgement.raised == ()
    [closed] = judgement.changed
    assert closed.id == second.id and closed.status is IncidentStatus.VOIDED
    assert closed.closed is not None and closed.closed.at == later and closed.detail == second.detail
    assert judgement.state.flagged  # the resolved one still counts (the voided ticket itself counts for nobody)


def test_mark_resolved_once() -> None:
    [incident] = raise_for(make_event(EventType.REJECTED, reason="x"), [make_event()])
    resolved = mark_resolved(incident, Stamp(actor=JB, at=NOW))
    assert resolved.status is IncidentStatus.RESOLVED and resolved.closed is not None
    with pytest.raises(ValueError):
        mark_resolved(resolved, Stamp(actor=JB, at=NOW))


# texts and dates


def test_every_kind_has_plain_words() -> None:
    assert set(INCIDENT_TEXT) == set(IncidentKind)
    assert incident_text(IncidentKind.REJECTED) == "Odyssey rejected the e-ticket"
    assert incident_text(IncidentKind.LATE_UPLOAD) == "Uploaded more than 48 hours after it was issued (SOP 6.4)"


def test_incident_dates_use_the_court_calendar() -> None:
    issued = datetime(2026, 11, 11, 4, 30, tzinfo=UTC)  # 23:30 Eastern on Nov 10
    [incident] = raise_for(make_event(EventType.REJECTED, reason="x", issued_at=issued), [])
    window = incident_dates(incident, date(2026, 11, 24), TZ)
    assert window.issue_date == date(2026, 11, 10)
    assert window.deadline == date(2026, 12, 1)
    assert window.days_left == 7


def test_incident_dates_unknown_issue() -> None:
    [incident] = raise_for(make_event(EventType.PAYMENT_RECEIVED), [])
    window = incident_dates(incident, date(2026, 11, 24), TZ)
    assert not window.known and "unknown" in window.text


# ticket states (domain/tickets.py)


def test_ticket_state_rejected_then_accepted() -> None:
    events = [
        make_event(event_id="s1"),
        make_event(EventType.REJECTED, event_id="r1", reason="x", occurred_at=ISSUED + timedelta(hours=2)),
        make_event(event_id="s2", occurred_at=ISSUED + timedelta(hours=3)),
        make_event(EventType.ACCEPTED, event_id="a1", occurred_at=ISSUED + timedelta(hours=4)),
    ]
    state = derive_state(events)
    assert state.issued_at == ISSUED
    assert (state.accepted, state.rejected, state.voided, state.payment_seen) == (True, True, False, False)
    assert state.received and state.first_upload == ISSUED + timedelta(hours=1)
    assert state.key == "9000:T-1" and state.officer_key == "9000:A1234"


def test_ticket_state_unknown_issue_time_falls_back_to_first_event() -> None:
    events = [
        make_event(EventType.PAYMENT_RECEIVED, event_id="p", occurred_at=ISSUED + timedelta(hours=5)),
        make_event(EventType.ACCEPTED, event_id="a", issued_at=None, occurred_at=ISSUED + timedelta(hours=3)),
    ]
    state = derive_state(events)
    assert state.issued_at is None
    assert state.issue_time == ISSUED + timedelta(hours=3)


def test_the_latest_amendment_decides_the_issue_time_and_the_officer() -> None:
    corrected = ISSUED - timedelta(hours=2)
    events = [
        make_event(),
        make_event(
            EventType.AMENDED,
            event_id="am",
            issued_at=corrected,
            officer_number="B5678",
            occurred_at=ISSUED + timedelta(hours=5),
        ),
        # recorded last but it happened before the amendment, and echoes the first issue time
        make_event(EventType.ACCEPTED, event_id="acc", issued_at=ISSUED, occurred_at=ISSUED + timedelta(hours=3)),
    ]
    state = derive_state(events)
    assert state.issued_at == corrected
    assert state.officer_number == "B5678"
    assert state.officers_named() == ["A1234", "B5678"]


def test_derive_states_groups_by_ticket_case_insensitively() -> None:
    events = [
        make_event(ticket_number="t-1"),
        make_event(EventType.ACCEPTED, event_id="x", ticket_number="T-1"),
        make_event(event_id="y", ticket_number="T-2"),
    ]
    states = derive_states(events)
    assert list(states) == ["9000:T-1", "9000:T-2"]
    assert states["9000:T-1"].accepted and not states["9000:T-2"].accepted


def test_empty_ticket_is_an_error() -> None:
    with pytest.raises(ValueError):
        derive_state([])


def test_a_stored_state_reads_back_the_same() -> None:
    events = [
        make_event(violation=Violation(category=ViolationCategory.CIVIL_ORDINANCE, full_penalty=10.0)),
        make_event(EventType.REJECTED, event_id="r", reason="Plate | state", occurred_at=ISSUED + timedelta(hours=2)),
    ]
    state = derive_state(events)
    assert TicketState.model_validate(state.model_dump(mode="json", exclude_defaults=True)) == state


# the order events happened in, not the order they arrived in


def test_events_on_a_voided_ticket_raise_an_incident_each_but_amended() -> None:
    void = make_event(EventType.VOIDED, event_id="void", occurred_at=ISSUED + timedelta(hours=2))
    payment = make_event(EventType.PAYMENT_RECEIVED, event_id="pay", occurred_at=ISSUED + timedelta(hours=3))
    amended = make_event(EventType.AMENDED, event_id="am", occurred_at=ISSUED + timedelta(hours=4))
    rejected = make_event(EventType.REJECTED, event_id="rej", reason="x", occurred_at=ISSUED + timedelta(hours=5))
    _, incidents, judgements = record([make_event(), void, payment, amended, rejected])
    assert [kinds(list(j.raised)) for j in judgements] == [
        [],
        [],
        [IncidentKind.EVENT_ON_VOIDED],
        [],
        [IncidentKind.EVENT_ON_VOIDED],
    ]
    [on_payment, on_rejection] = incidents.values()
    assert on_payment.detail == "A payment was received after the e-ticket was voided"
    assert on_rejection.detail == "Odyssey rejected it after the e-ticket was voided (reason: x)"


def test_an_event_that_happened_before_the_void_is_not_on_a_voided_ticket() -> None:
    void = make_event(EventType.VOIDED, event_id="void", occurred_at=ISSUED + timedelta(hours=5))
    payment = make_event(EventType.PAYMENT_RECEIVED, event_id="pay", occurred_at=ISSUED + timedelta(hours=3))
    state, incidents, _ = record([make_event(), void, payment])
    assert incidents == {} and state.voided


def test_an_upload_before_the_issue_time_is_a_clock_or_data_error() -> None:
    [incident] = raise_for(make_event(issued_at=ISSUED + timedelta(days=30)))
    assert incident.kind is IncidentKind.UPLOAD_BEFORE_ISSUE
    assert "719 h before the issue time" in incident.detail


def test_a_late_event_that_happened_earlier_supersedes_the_verdict() -> None:
    payment = make_event(EventType.PAYMENT_RECEIVED, event_id="pay", occurred_at=ISSUED + timedelta(hours=3))
    state, incidents, judgements = record([payment, make_event()])
    [incident] = incidents.values()
    assert incident.kind is IncidentKind.PAYMENT_BEFORE_RECEIPT
    assert incident.status is IncidentStatus.SUPERSEDED and incident.closed is not None
    assert judgements[1].changed == (incident,) and not state.flagged


def test_a_superseded_verdict_that_holds_again_is_raised_anew() -> None:
    resubmitted = make_event(event_id="s2", occurred_at=ISSUED + timedelta(hours=72))
    first = make_event(event_id="s1", occurred_at=ISSUED + timedelta(hours=1))
    amended = make_event(EventType.AMENDED, event_id="am", issued_at=ISSUED - timedelta(days=3), occurred_at=NOW)
    state, incidents, judgements = record([resubmitted, first, amended])
    assert [kinds(list(j.raised)) for j in judgements] == [[IncidentKind.LATE_UPLOAD], [], [IncidentKind.LATE_UPLOAD]]
    assert [i.status for i in incidents.values()] == [IncidentStatus.SUPERSEDED, IncidentStatus.OPEN]
    assert state.flagged


def test_open_incidents_take_the_issue_time_once_it_is_known() -> None:
    payment = make_event(EventType.PAYMENT_RECEIVED, event_id="pay", occurred_at=ISSUED + timedelta(hours=1))
    upload = make_event(occurred_at=ISSUED + timedelta(hours=2))
    _, incidents, judgements = record([payment, upload])
    [incident] = incidents.values()
    assert incident.is_open and incident.issued_at == ISSUED
    assert [i.id for i in judgements[1].changed] == [incident.id]


def test_incidents_follow_the_ticket_to_its_amended_officer() -> None:
    rejected = make_event(EventType.REJECTED, event_id="r", reason="x", occurred_at=ISSUED + timedelta(hours=2))
    amended = make_event(
        EventType.AMENDED, event_id="am", officer_number="B5678", occurred_at=ISSUED + timedelta(hours=3)
    )
    state, incidents, _ = record([make_event(), rejected, amended])
    by_kind = {incident.kind: incident for incident in incidents.values()}
    assert by_kind[IncidentKind.REJECTED].officer_number == "B5678"
    assert by_kind[IncidentKind.UNKNOWN_OFFICER].officer_number == "B5678"  # B5678 is in no package
    assert state.officer_key == "9000:B5678"


def test_a_summary_read_from_the_stored_form_is_the_states_own() -> None:
    amended = make_event(
        EventType.AMENDED, event_id="am", issued_at=ISSUED - timedelta(hours=2), occurred_at=ISSUED + timedelta(hours=5)
    )
    echo = make_event(EventType.ACCEPTED, event_id="acc", issued_at=ISSUED, occurred_at=ISSUED + timedelta(hours=3))
    for events in (
        [make_event()],
        [make_event(), amended, echo],
        [make_event(EventType.PAYMENT_RECEIVED, issued_at=None)],
    ):
        state = derive_state(events).model_copy(update={"flagged": True})
        stored = state.model_dump(mode="json", exclude_defaults=True)
        assert TicketSummary.of_stored(state.key, state.officer_key, stored) == state.summary()
