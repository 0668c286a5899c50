"""Unit tests of readiness for approval (domain/readiness.py; DESIGN "Ready for approval", SOP 3 and 6.6)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.readiness import (
    ConditionKey,
    Readiness,
    assess_readiness,
    counted_for,
    figures_from_states,
    readiness_from_figures,
    ready_from_figures,
    update_figures,
)
from domain.records import (
    Actor,
    EventType,
    Extension,
    Incident,
    IncidentKind,
    IncidentStatus,
    Officer,
    OfficerState,
    Stamp,
    TicketEvent,
)
from domain.tickets import Step, TicketState, state_of_steps
from tests.support import seed

TZ = ZoneInfo("America/New_York")
JB = Actor(aad_id="jb-1", name="JB Staff")
# 23:30 Eastern on Tue Nov 10, 2026 is 04:30 UTC on Nov 11.
FIRST_ISSUE = datetime(2026, 11, 11, 4, 30, tzinfo=UTC)
_ids = itertools.count(1)


def make_officer(state: OfficerState = OfficerState.MONITORING, **overrides: object) -> Officer:
    """A membership of A1234 in 9000's package."""
    return seed.officer("A1234", "9000", state=state, **overrides)


def ticket(
    number: str,
    issued_at: datetime | None,
    *types: EventType,
    officer_number: str = "A1234",
    judiciary_code: str = "9000",
) -> list[TicketEvent]:
    """The events of one ticket: submitted (carrying issued_at), then the given types an hour apart."""
    base = issued_at or FIRST_ISSUE
    events = []
    for step, type_ in enumerate((EventType.SUBMITTED, *types)):
        events.append(
            TicketEvent(
                event_id=f"ev-{next(_ids)}",
                type=type_,
                ticket_number=number,
                officer_number=officer_number,
                judiciary_code=judiciary_code,
                occurred_at=base + timedelta(hours=1 + step),
                issued_at=issued_at if type_ is EventType.SUBMITTED else None,
                reason="bad" if type_ is EventType.REJECTED else None,
            )
        )
    return events


def incident(
    number: str,
    status: IncidentStatus = IncidentStatus.OPEN,
    kind: IncidentKind = IncidentKind.REJECTED,
    officer_number: str = "A1234",
) -> Incident:
    """An incident on ticket ``number`` of A1234."""
    closed = None if status is IncidentStatus.OPEN else Stamp(actor=JB, at=FIRST_ISSUE + timedelta(days=1))
    return Incident(
        id=f"inc-{next(_ids)}",
        kind=kind,
        judiciary_code="9000",
        officer_number=officer_number,
        ticket_number=number,
        event_id="ev",
        raised_at=FIRST_ISSUE,
        status=status,
        closed=closed,
    )


def accepted_tickets(count: int, start: datetime = FIRST_ISSUE) -> list[TicketEvent]:
    """``count`` accepted tickets T-1.., issued a day apart from ``start``."""
    events: list[TicketEvent] = []
    for index in range(count):
        events += ticket(f"T-{index + 1}", start + timedelta(days=index), EventType.ACCEPTED)
    return events


def assess(
    officer: Officer | None = None,
    events: list[TicketEvent] | None = None,
    incidents: list[Incident] | None = None,
    today: date = date(2026, 11, 17),
) -> Readiness:
    return assess_readiness(
        officer or make_officer(), events if events is not None else accepted_tickets(3), incidents or [], today, TZ
    )


def met(readiness: Readiness, key: ConditionKey) -> bool:
    return readiness.condition(key).met


def test_ready_with_three_accepted_seven_days_clean() -> None:
    readiness = assess()
    assert readiness.ready
    assert readiness.missing == ()
    assert readiness.summary == "ready for approval"
    assert readiness.accepted_count == 3
    assert readiness.first_accepted_issued == date(2026, 11, 10)
    assert readiness.latest_issued == date(2026, 11, 12)
    assert readiness.open_incidents == 0
    assert [condition.key for condition in readiness.conditions] == list(ConditionKey)


def test_two_accepted_not_ready() -> None:
    readiness = assess(events=accepted_tickets(2))
    assert not readiness.ready
    assert not met(readiness, ConditionKey.ACCEPTED)
    assert readiness.condition(ConditionKey.ACCEPTED).text == "2 of 3 accepted"
    assert readiness.missing == ("2 of 3 accepted", "2 of 3 e-tickets accepted without a problem")


def test_submitted_but_not_accepted_does_not_count() -> None:
    events = accepted_tickets(2) + ticket("T-3", FIRST_ISSUE + timedelta(days=2))
    assert assess(events=events).accepted_count == 2


def test_more_than_needed_says_so() -> None:
    readiness = assess(events=accepted_tickets(5))
    assert readiness.condition(ConditionKey.ACCEPTED).text == "5 accepted (3 needed)"


def test_day_6_vs_day_7_on_the_court_calendar() -> None:
    # First accepted issued 23:30 Eastern Nov 10 (04:30 UTC Nov 11): court date Nov 10.
    day6 = assess(today=date(2026, 11, 16))
    assert not day6.ready
    assert day6.condition(ConditionKey.DAYS).text == "6 of 7 days"
    assert day6.missing == ("6 of 7 days",)
    day7 = assess(today=date(2026, 11, 17))
    assert day7.ready
    assert day7.condition(ConditionKey.DAYS).text == "7 of 7 days"


def test_days_counted_from_first_accepted_by_issue_time_not_arrival() -> None:
    # T-9 arrives last but was issued first: it is the first accepted one.
    early = ticket("T-9", FIRST_ISSUE - timedelta(days=3), EventType.ACCEPTED)
    early = [event.model_copy(update={"occurred_at": event.occurred_at + timedelta(days=5)}) for event in early]
    readiness = assess(events=accepted_tickets(3) + early, today=date(2026, 11, 14))
    assert readiness.first_accepted_issued == date(2026, 11, 7)
    assert met(readiness, ConditionKey.DAYS)


def test_summary_lists_what_is_missing() -> None:
    readiness = assess(events=accepted_tickets(2), today=date(2026, 11, 14))
    assert readiness.summary == "2 of 3 accepted, 4 of 7 days, 2 of 3 e-tickets accepted without a problem"


def test_no_tickets_at_all() -> None:
    readiness = assess(events=[])
    assert not readiness.ready
    assert readiness.first_accepted_issued is None and readiness.latest_issued is None
    assert readiness.condition(ConditionKey.DAYS).text == "0 of 7 days (no accepted e-ticket yet)"
    assert readiness.condition(ConditionKey.CLEAN_STREAK).text == "0 of 3 e-tickets accepted without a problem"


def test_incident_among_last_three_not_ready_even_when_resolved() -> None:
    readiness = assess(incidents=[incident("T-2", IncidentStatus.RESOLVED)])
    assert not readiness.ready
    assert readiness.condition(ConditionKey.CLEAN_STREAK).text == "1 of the last 3 accepted e-tickets had a problem"
    assert met(readiness, ConditionKey.OPEN_INCIDENTS)


def test_rejected_then_accepted_keeps_its_incident() -> None:
    events = accepted_tickets(2) + ticket(
        "T-3", FIRST_ISSUE + timedelta(days=2), EventType.REJECTED, EventType.SUBMITTED, EventType.ACCEPTED
    )
    readiness = assess(events=events, incidents=[incident("T-3", IncidentStatus.RESOLVED)])
    assert readiness.accepted_count == 3
    assert not met(readiness, ConditionKey.CLEAN_STREAK)


def test_incident_before_the_last_three_is_forgotten_once_resolved() -> None:
    events = accepted_tickets(4)
    readiness = assess(events=events, incidents=[incident("T-1", IncidentStatus.RESOLVED)])
    assert readiness.ready
    assert readiness.condition(ConditionKey.CLEAN_STREAK).text == "last 3 accepted e-tickets had no problem"


def test_unresolved_incident_blocks_even_outside_the_streak() -> None:
    readiness = assess(events=accepted_tickets(4), incidents=[incident("T-1")])
    assert not readiness.ready
    assert met(readiness, ConditionKey.CLEAN_STREAK)
    assert readiness.open_incidents == 1
    assert readiness.missing == ("1 open incident",)
    two = assess(
        events=accepted_tickets(4), incidents=[incident("T-1"), incident("T-1", kind=IncidentKind.LATE_UPLOAD)]
    )
    assert two.condition(ConditionKey.OPEN_INCIDENTS).text == "2 open incidents"


def test_other_officers_incidents_do_not_count() -> None:
    events = accepted_tickets(3) + ticket("T-9", FIRST_ISSUE, EventType.ACCEPTED, officer_number="B9999")
    readiness = assess(events=events, incidents=[incident("T-9", officer_number="B9999")])
    assert readiness.ready


def test_a_ticket_odyssey_has_not_accepted_is_not_in_the_streak() -> None:
    events = accepted_tickets(3) + ticket("T-4", FIRST_ISSUE + timedelta(days=3))
    readiness = assess(events=events, incidents=[incident("T-4", IncidentStatus.RESOLVED)])
    assert met(readiness, ConditionKey.CLEAN_STREAK)


def test_clean_tickets_not_yet_accepted_do_not_hide_flagged_accepted_ones() -> None:
    events = accepted_tickets(3) + [
        event for n in (4, 5, 6) for event in ticket(f"T-{n}", FIRST_ISSUE + timedelta(days=n))
    ]
    late = [incident(f"T-{n}", IncidentStatus.RESOLVED, IncidentKind.LATE_UPLOAD) for n in (1, 2, 3)]
    readiness = assess(events=events, incidents=late, today=date(2026, 11, 30))
    assert not readiness.ready
    assert readiness.condition(ConditionKey.CLEAN_STREAK).text == "3 of the last 3 accepted e-tickets had a problem"
    assert readiness.latest_issued == date(2026, 11, 16)


def test_only_e_tickets_issued_since_monitoring_began_count() -> None:
    readded = make_officer(added=Stamp(actor=JB, at=FIRST_ISSUE + timedelta(days=1, hours=12)))
    readiness = assess(officer=readded, today=date(2026, 11, 30))
    assert readiness.accepted_count == 1  # T-1 and T-2 were issued before the re-add
    assert readiness.first_accepted_issued == date(2026, 11, 12)


def test_an_e_ticket_issued_before_the_expected_start_date_counts_and_is_flagged() -> None:
    officer = make_officer(start_date=date(2026, 11, 12))
    readiness = assess(officer=officer)
    assert readiness.ready and readiness.accepted_count == 3
    assert readiness.issued_before_start == 2  # issued Nov 10 and Nov 11, court dates


def test_a_ticket_amended_to_another_officer_counts_for_that_officer_only() -> None:
    amended = ticket("T-3", FIRST_ISSUE + timedelta(days=2), EventType.ACCEPTED, EventType.AMENDED)
    amended[-1] = amended[-1].model_copy(update={"officer_number": "B9999"})
    events = accepted_tickets(2) + amended
    assert assess(events=events).accepted_count == 2
    assert assess(officer=seed.officer("B9999", "9000"), events=events).accepted_count == 1


def test_extension_on_its_last_day_then_the_day_after() -> None:
    extension = Extension(
        until=date(2026, 12, 1), reason="watch one more week", granted=Stamp(actor=JB, at=FIRST_ISSUE)
    )
    officer = make_officer(extension=extension)
    last_day = assess(officer=officer, today=date(2026, 12, 1))
    assert not last_day.ready
    assert last_day.missing == ("monitoring extended through Tue Dec 1, 2026",)
    day_after = assess(officer=officer, today=date(2026, 12, 2))
    assert day_after.ready
    assert day_after.condition(ConditionKey.EXTENSION).text == "extension ended Tue Dec 1, 2026"


def test_voided_accepted_ticket_does_not_count() -> None:
    events = accepted_tickets(2) + ticket("T-3", FIRST_ISSUE + timedelta(days=2), EventType.ACCEPTED, EventType.VOIDED)
    readiness = assess(events=events)
    assert readiness.accepted_count == 2
    assert not readiness.ready


def test_voided_first_ticket_does_not_start_the_week() -> None:
    voided = ticket("T-0", FIRST_ISSUE - timedelta(days=5), EventType.ACCEPTED, EventType.VOIDED)
    readiness = assess(events=voided + accepted_tickets(3), today=date(2026, 11, 14))
    assert readiness.first_accepted_issued == date(2026, 11, 10)
    assert not met(readiness, ConditionKey.DAYS)


def test_voided_ticket_with_incident_does_not_break_the_streak() -> None:
    voided = ticket("T-9", FIRST_ISSUE + timedelta(days=5), EventType.REJECTED, EventType.VOIDED)
    readiness = assess(events=accepted_tickets(3) + voided, incidents=[incident("T-9", IncidentStatus.VOIDED)])
    assert readiness.ready
    assert readiness.latest_issued == date(2026, 11, 12)


def test_approved_officer_is_not_ready() -> None:
    officer = make_officer(OfficerState.APPROVED, approval_date=date(2026, 11, 18))
    readiness = assess(officer=officer)
    assert not readiness.ready
    assert readiness.missing == ("already approved on Wed Nov 18, 2026",)


def test_withdrawn_officer_is_not_ready() -> None:
    readiness = assess(officer=make_officer(OfficerState.WITHDRAWN))
    assert not readiness.ready
    assert readiness.summary == "withdrawn from the Information Package"


def test_tickets_of_other_agencies_and_officers_ignored() -> None:
    events = (
        accepted_tickets(2)
        + ticket("T-3", FIRST_ISSUE, EventType.ACCEPTED, judiciary_code="0123")
        + ticket("T-4", FIRST_ISSUE, EventType.ACCEPTED, officer_number="B9999")
    )
    assert assess(events=events).accepted_count == 2


def test_lower_case_officer_number_on_events_matches() -> None:
    events = [event.model_copy(update={"officer_number": "a1234"}) for event in accepted_tickets(3)]
    assert assess(events=events).ready


def test_unknown_issue_time_falls_back_to_first_event() -> None:
    events = accepted_tickets(2)
    no_issue = ticket("T-3", None, EventType.ACCEPTED)
    no_issue = [
        event.model_copy(update={"occurred_at": FIRST_ISSUE + timedelta(days=3, hours=i)})
        for i, event in enumerate(no_issue)
    ]
    readiness = assess(events=events + no_issue, today=date(2026, 11, 20))
    assert readiness.accepted_count == 3
    assert readiness.latest_issued == date(2026, 11, 13)  # 04:30 UTC Nov 14 is Nov 13 in Vermont


def test_thresholds_are_parameters() -> None:
    readiness = assess_readiness(
        make_officer(), accepted_tickets(5), [], date(2026, 11, 30), TZ, min_accepted=5, min_days=14, clean_streak=5
    )
    assert readiness.condition(ConditionKey.ACCEPTED).text == "5 of 5 accepted"
    assert readiness.condition(ConditionKey.DAYS).text == "20 days (14 needed)"
    assert readiness.condition(ConditionKey.CLEAN_STREAK).text == "last 5 accepted e-tickets had no problem"
    assert readiness.ready


def test_condition_texts_when_all_hold() -> None:
    texts = [condition.text for condition in assess().conditions]
    assert texts == [
        "in monitoring",
        "3 of 3 accepted",
        "7 of 7 days",
        "last 3 accepted e-tickets had no problem",
        "no open incidents",
        "no extension",
    ]


JARGON = ("clean", "in a row", "streak")


@given(
    accepted=st.integers(0, 6),
    flagged=st.sets(st.integers(1, 6)),
    streak=st.integers(1, 5),
)
@settings(max_examples=60, deadline=None)
def test_the_last_e_tickets_condition_is_in_plain_words_with_the_rule_s_number(
    accepted: int, flagged: set[int], streak: int
) -> None:
    """Issue 14: a clerk reads "had no problem" or "accepted without a problem", never "clean in a row"."""
    incidents = [incident(f"T-{n}", IncidentStatus.RESOLVED) for n in flagged if n <= accepted]
    readiness = assess_readiness(
        make_officer(), accepted_tickets(accepted), incidents, date(2026, 11, 30), TZ, clean_streak=streak
    )
    text = readiness.condition(ConditionKey.CLEAN_STREAK).text
    assert not any(word in text.lower() for word in JARGON), text
    assert "problem" in text and len(text) <= 50, text
    if not incidents:
        assert str(streak) in text or (streak == 1 and text == "last accepted e-ticket had no problem"), text


def test_the_last_e_tickets_texts_a_clerk_reads() -> None:
    def text(accepted: int, flagged: tuple[int, ...] = (), streak: int = 3) -> str:
        incidents = [incident(f"T-{n}", IncidentStatus.RESOLVED) for n in flagged]
        readiness = assess_readiness(
            make_officer(), accepted_tickets(accepted), incidents, date(2026, 11, 30), TZ, clean_streak=streak
        )
        return readiness.condition(ConditionKey.CLEAN_STREAK).text

    assert text(4) == "last 3 accepted e-tickets had no problem"
    assert text(2) == "2 of 3 e-tickets accepted without a problem"
    assert text(4, streak=5) == "4 of 5 e-tickets accepted without a problem"
    assert text(1, streak=1) == "last accepted e-ticket had no problem"
    assert text(0, streak=1) == "0 of 1 e-ticket accepted without a problem"
    assert text(3, (2, 3)) == "2 of the last 3 accepted e-tickets had a problem"
    assert text(1, (1,)) == "the last accepted e-ticket had a problem"


# ---- the kept figures are the figures from scratch, whatever changes came ---------------------------


@st.composite
def ticket_changes(draw: st.DrawFn) -> list[TicketState]:
    """A run of ticket states, each the new state of one of 12 tickets: issue time, officer, accepted, voided, flagged."""
    changes = []
    for _ in range(draw(st.integers(1, 60))):
        number = draw(st.integers(0, 11))
        issued = FIRST_ISSUE + timedelta(hours=draw(st.integers(-24 * 12, 24 * 12)))
        kinds = [EventType.SUBMITTED]
        kinds += [EventType.ACCEPTED] if draw(st.booleans()) else []
        kinds += [EventType.VOIDED] if draw(st.integers(0, 5)) == 0 else []
        kinds += [EventType.AMENDED] if draw(st.integers(0, 3)) == 0 else []
        steps = [
            Step(
                occurred_at=issued + timedelta(hours=1 + n),
                seq=n,
                type=kind,
                event_id=f"T-{number}-{n}",
                officer_number="B9999" if kind is EventType.AMENDED else "A1234",
                issued_at=issued if kind is EventType.SUBMITTED else None,
            )
            for n, kind in enumerate(kinds)
        ]
        changes.append(state_of_steps("9000", f"T-{number}", steps, flagged=draw(st.booleans())))
    return changes


@settings(max_examples=150, deadline=None)
@given(changes=ticket_changes(), streak=st.integers(1, 3), margin=st.integers(0, 2))
def test_figures_kept_change_by_change_are_the_figures_from_scratch(
    changes: list[TicketState], streak: int, margin: int
) -> None:
    keep = streak + margin
    officer = make_officer(added=Stamp(actor=JB, at=FIRST_ISSUE - timedelta(days=5)), start_date=date(2026, 11, 12))
    states: dict[str, TicketState] = {}
    figures = figures_from_states(officer, [], TZ, keep=keep)
    for state in changes:
        before = states.get(state.key)
        states[state.key] = state
        updated = update_figures(
            figures, counted_for(officer, before, TZ), counted_for(officer, state, TZ), clean_streak=streak
        )
        figures = updated if updated is not None else figures_from_states(officer, states.values(), TZ, keep=keep)
    scratch = figures_from_states(officer, states.values(), TZ, keep=keep)
    assert (figures.counted, figures.accepted, figures.before_start) == (
        scratch.counted,
        scratch.accepted,
        scratch.before_start,
    )
    assert figures.recent[:streak] == scratch.recent[:streak]
    assert figures.earliest[:1] == scratch.earliest[:1]
    assert figures.latest[:1] == scratch.latest[:1]
    today = date(2026, 11, 30)
    readiness = readiness_from_figures(officer, figures, 0, today, TZ, clean_streak=streak)
    assert readiness == readiness_from_figures(officer, scratch, 0, today, TZ, clean_streak=streak)
    assert ready_from_figures(officer, figures, 0, today, TZ, clean_streak=streak) is readiness.ready
