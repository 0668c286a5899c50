"""The weekly digest: what it counts, the card with its charts (valid for Teams, with fallbacks), when it is
sent (Monday at 8:00 court time, to the JB and each subscribed agency channel) and who may ask for it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cards.base import teams_findings
from cards.digest import digest_card, without_charts
from domain.policy import Requester
from domain.records import Actor, IncidentKind, OfficerState, Stamp
from services import clocks, digest, tickets
from services.context import AppContext
from services.notices import Digest
from services.outcomes import NotFound, Refused, Shown
from services.status import NO_AGENCIES
from settings import Settings
from tests.support import seed
from tests.support.chart_schema import chart_schema_findings
from tests.support.clocks import STAFF, Clock, accepted_events, court_time, incident
from tests.support.factories import JB_AAD, OTHER_AAD, POC_AAD
from tests.support.memory_db import MemoryDatabase, RecordingNotifier

MONDAY = date(2026, 11, 23)


async def programme(clock: Clock) -> AppContext:
    """Two agencies: 9000 with an officer in monitoring, one ready, one approved last week, one withdrawn,
    two open incidents and a resolved one; 9100 with one officer. 9000's channel is subscribed."""
    settings = Settings.from_env({"JB_STAFF_IDS": JB_AAD})
    app = AppContext(settings=settings, db=MemoryDatabase(), notifier=RecordingNotifier(), clock=clock)
    acknowledged = Stamp(actor=STAFF, at=seed.SUBMITTED_AT)
    approved = Stamp(actor=STAFF, at=court_time(date(2026, 11, 18), 11))
    officers = [
        seed.officer("A1234"),
        seed.officer("B2345", first_name="Dana", last_name="Deputy"),
        seed.officer("C3456", state=OfficerState.APPROVED, approved=approved, approval_date=date(2026, 11, 18)),
        seed.officer("D4567", state=OfficerState.WITHDRAWN, withdrawn=approved),
        seed.officer("E5678", judiciary_code="9100"),
    ]
    packages = [
        seed.package().model_copy(update={"acknowledged": acknowledged}),
        seed.package("9100", poc=OTHER_AAD).model_copy(update={"acknowledged": acknowledged}),
    ]
    db = app.db
    await db.commit([*(db.packages.put(p) for p in packages), *(db.officers.put(o) for o in officers)])
    await tickets.record_events(app, accepted_events("B2345", MONDAY - timedelta(days=12), 3))
    resolved = incident(MONDAY - timedelta(days=20), MONDAY - timedelta(days=20), "VT-OLD").model_copy(
        update={"status": "resolved", "closed": approved}
    )
    late = incident(MONDAY - timedelta(days=3), MONDAY - timedelta(days=2), "VT-LATE").model_copy(
        update={"kind": IncidentKind.LATE_UPLOAD}
    )
    near = incident(MONDAY - timedelta(days=18), MONDAY - timedelta(days=8), "VT-NEAR")
    unknown = incident(MONDAY, MONDAY, "VT-UNDATED").model_copy(update={"issued_at": None})
    await db.commit([db.incidents.put(i) for i in (resolved, late, near, unknown)])
    await db.commit([db.subscriptions.put("9000", "19:agency@thread.tacv2", POC_AAD, clock.now)])
    return app


async def test_the_digest_counts_officers_incidents_and_weeks() -> None:
    app = await programme(Clock(court_time(MONDAY, 8)))
    view = digest.digest_view(app)
    assert dict(view.by_state) == {"In monitoring": 2, "Ready for approval": 1, "Approved": 1, "Withdrawn": 1}
    assert [line.officer.officer_number for line in view.monitoring.lines] == ["A1234", "E5678"]
    assert "0 of 3 accepted" in view.monitoring.lines[0].detail
    assert [line.officer.officer_number for line in view.ready.lines] == ["B2345"]
    assert view.approved_since == date(2026, 11, 16)
    assert [line.officer.officer_number for line in view.approved.lines] == ["C3456"]
    kinds = {group.kind: group for group in view.incidents}
    assert kinds[IncidentKind.REJECTED].count == 2 and kinds[IncidentKind.LATE_UPLOAD].count == 1
    (nearest,) = kinds[IncidentKind.REJECTED].nearest  # the undated one has no deadline to show
    assert (nearest.ticket_number, nearest.deadline, nearest.days_left) == ("VT-NEAR", date(2026, 11, 26), 3)
    assert [(w.week, w.count) for w in view.per_week] == [
        (date(2026, 10, 19), 0),
        (date(2026, 10, 26), 0),
        (date(2026, 11, 2), 1),  # the resolved one, raised Nov 3
        (date(2026, 11, 9), 1),  # raised Sunday Nov 15: the week of Monday Nov 9
        (date(2026, 11, 16), 1),
        (date(2026, 11, 23), 1),
    ]


async def test_an_agencys_digest_holds_only_its_own_officers() -> None:
    app = await programme(Clock(court_time(MONDAY, 8)))
    package = app.db.packages.get("9100")
    assert package is not None
    view = digest.digest_view(app, package)
    assert dict(view.by_state) == {"In monitoring": 1, "Ready for approval": 0, "Approved": 0, "Withdrawn": 0}
    assert view.incidents == () and view.scope == "Williston Police Department (9100)"


async def test_the_digest_card_validates_for_teams_with_its_charts_and_without_them() -> None:
    app = await programme(Clock(court_time(MONDAY, 8)))
    card = digest_card(digest.digest_view(app))
    assert chart_schema_findings(card) == [], "the official schema 1.5 with Teams' chart elements"
    assert teams_findings(without_charts(card)) == [], (
        "what a client without charts draws: adaptive-cards-py's Teams target"
    )
    charts = [item for item in card["body"] if item["type"].startswith("Chart.")]
    assert [chart["type"] for chart in charts] == ["Chart.Donut", "Chart.VerticalBar"]
    donut, bars = charts
    assert [(d["legend"], d["value"]) for d in donut["data"]] == [
        ("In monitoring", 2),
        ("Ready for approval", 1),
        ("Approved", 1),
        ("Withdrawn", 1),
    ]
    assert donut["fallback"]["type"] == "FactSet"
    assert [f["value"] for f in donut["fallback"]["facts"]] == ["2", "1", "1", "1"]
    assert [d["y"] for d in bars["data"]] == [0, 0, 1, 1, 1, 1]
    assert [f["title"] for f in bars["fallback"]["facts"]][-1] == "Week of Nov 23"


def test_the_chart_schema_refuses_a_chart_without_fallback_or_with_an_unknown_colour() -> None:
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "Chart.Donut", "data": [{"legend": "x", "value": 1, "color": "plaid"}]}],
    }
    assert chart_schema_findings(card) != []


async def test_a_full_digest_stays_within_teams_size_limit() -> None:
    app = await programme(Clock(court_time(MONDAY, 8)))
    extra = [seed.officer(f"Z{n:04d}", first_name="Avery", last_name=f"Officer {n}") for n in range(60)]
    await app.db.commit([app.db.officers.put(o) for o in extra])
    card = digest_card(digest.digest_view(app))
    assert teams_findings(without_charts(card)) == []
    assert "and 50 more: type /status to see them all." in str(card)


async def test_the_weekly_digest_goes_out_monday_at_eight_to_the_jb_and_each_subscribed_agency_channel() -> None:
    clock = Clock(court_time(MONDAY, 7, 59))
    app = await programme(clock)
    assert [k for k in (await clocks.tick(app)).sent if k.startswith("digest")] == []
    clock.set(MONDAY, 8)
    sent = [k for k in (await clocks.tick(app)).sent if k.startswith("digest")]
    assert sent == ["digest:2026-11-23:jb", "digest:2026-11-23:9000"]  # 9100 has no channel
    assert isinstance(app.notifier, RecordingNotifier)
    digests = [n for n in app.notifier.notices if isinstance(n.content, Digest)]
    assert [(a.kind, a.key) for n in digests for a in n.audiences] == [("jb", ""), ("agency", "9000")]
    assert [n.content.view.judiciary_code for n in digests] == [None, "9000"]  # type: ignore[union-attr]
    clock.set(MONDAY, 15)
    assert [k for k in (await clocks.tick(app)).sent if k.startswith("digest")] == []


@pytest.mark.parametrize(
    ("first_look", "then", "sent_then"),
    [
        ((MONDAY, 22), (date(2026, 11, 24), 8), True),  # 22:00 Monday: it waits for Tuesday morning
        ((date(2026, 11, 26), 10), (date(2026, 11, 27), 8), True),  # Thanksgiving: it waits for Friday
        ((date(2026, 11, 28), 10), (date(2026, 11, 30), 8), False),  # a Saturday: that week's is gone; Monday's is new
        ((date(2027, 1, 18), 9), (date(2027, 1, 19), 8), True),  # Martin Luther King Jr. Day: Tuesday
    ],
)
async def test_the_digest_waits_through_nights_weekends_and_holidays(
    first_look: tuple[date, int], then: tuple[date, int], sent_then: bool
) -> None:
    clock = Clock(court_time(*first_look))
    app = await programme(clock)
    assert [k for k in (await clocks.tick(app)).sent if k.startswith("digest")] == []
    clock.set(*then)
    sent = [k for k in (await clocks.tick(app)).sent if k.startswith("digest:")]
    week = then[0] - timedelta(days=then[0].weekday())
    assert sent == [f"digest:{week.isoformat()}:jb", f"digest:{week.isoformat()}:9000"]
    assert (week == first_look[0] - timedelta(days=first_look[0].weekday())) is sent_then


async def test_who_may_see_a_digest() -> None:
    app = await programme(Clock(court_time(MONDAY, 9)))
    staff = Requester(STAFF, is_staff=True)
    poc = Requester(Actor(aad_id=POC_AAD, name="Pat Poc"), is_staff=False)
    other = Requester(Actor(aad_id=OTHER_AAD, name="Robin Other"), is_staff=False)
    stranger = Requester(Actor(aad_id="99999999-9999-4999-8999-999999999999", name="Sam"), is_staff=False)
    reader = Requester(
        Actor(aad_id="88888888-8888-4888-8888-888888888888", name="Court Ops"), False, in_jb_channel=True
    )
    for everyone in (staff, reader):
        shown = digest.show_digest(app, everyone, None)
        assert isinstance(shown, Shown) and shown.view.judiciary_code is None  # type: ignore[attr-defined]
    own = digest.show_digest(app, poc, None)
    assert isinstance(own, Shown) and own.view.judiciary_code == "9000"  # type: ignore[attr-defined]
    assert isinstance(digest.show_digest(app, poc, "9000"), Shown)
    assert isinstance(digest.show_digest(app, other, "9000"), Refused)
    assert digest.show_digest(app, stranger, None) == NotFound(NO_AGENCIES)
    assert isinstance(digest.show_digest(app, stranger, "9000"), Refused)
    assert digest.show_digest(app, staff, "9999") == NotFound("package", "9999")
