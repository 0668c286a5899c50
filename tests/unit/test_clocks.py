"""The SOP's clocks, driven by the app's clock: each threshold crossed gives one notice, once, in business hours.

Every case seeds records that make one clock fall due on a chosen court business day, then moves the
app's clock: before the threshold nothing; at it one notice; after it nothing more. Due the day before
Thanksgiving (Wed Nov 25, 2026) and first looked at that night, it waits through 22:00, Thanksgiving
and the small hours of Friday for Friday 8:00; due on a Friday, it waits through the weekend.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cards.base import teams_findings
from domain.clocks import ClockKind
from presentation.presenter import Presenter
from services import clocks
from services.context import AppContext
from services.notices import Digest, IncidentAlert, Notice, Reminder
from settings import Settings
from tests.support import clocks as seeds
from tests.support.clocks import CASES, FRIDAY, MONDAY, SATURDAY, THANKSGIVING, WEDNESDAY, Clock, court_time
from tests.support.factories import JB_AAD
from tests.support.memory_db import MemoryDatabase, RecordingNotifier


def make_app(clock: Clock) -> AppContext:
    settings = Settings.from_env({"JB_STAFF_IDS": JB_AAD})
    return AppContext(settings=settings, db=MemoryDatabase(), notifier=RecordingNotifier(), clock=clock)


def notices(app: AppContext) -> list[Notice]:
    """The notices queued, the weekly digest left out (it has tests of its own)."""
    assert isinstance(app.notifier, RecordingNotifier)
    return [notice for notice in app.notifier.notices if not isinstance(notice.content, Digest)]


async def sent_at(app: AppContext, clock: Clock, day: date, hour: int, minute: int = 0) -> list[str]:
    """The occurrences a tick at that court time sent (the weekly digest left out)."""
    clock.set(day, hour, minute)
    return [key for key in (await clocks.tick(app)).sent if not key.startswith("digest:")]


@pytest.mark.parametrize("case", list(CASES))
async def test_a_threshold_crossed_gives_one_notice_once(case: str) -> None:
    seeder, kind, hour = CASES[case]
    clock = Clock(court_time(WEDNESDAY, 7))
    app = make_app(clock)
    await seeder(app, clock, WEDNESDAY)
    before = len(notices(app))
    if hour > 8:
        assert await sent_at(app, clock, WEDNESDAY, hour - 1, 59) == []
    else:
        assert await sent_at(app, clock, WEDNESDAY, 7, 59) == [], "before business hours nothing goes out"
    sent = await sent_at(app, clock, WEDNESDAY, hour)
    assert [key.split(":")[0] for key in sent] == [kind]
    assert len(notices(app)) == before + 1
    for later in ((WEDNESDAY, 16, 59), (FRIDAY, 9, 0)):
        assert await sent_at(app, clock, *later) == [], f"sent twice ({later})"
    assert len(notices(app)) == before + 1


@pytest.mark.parametrize("case", list(CASES))
async def test_nothing_goes_out_at_night_or_on_thanksgiving(case: str) -> None:
    seeder, kind, _ = CASES[case]
    clock = Clock(court_time(WEDNESDAY, 7))
    app = make_app(clock)
    await seeder(app, clock, WEDNESDAY)
    before = len(notices(app))
    for closed in ((WEDNESDAY, 22), (THANKSGIVING, 10), (THANKSGIVING, 16), (FRIDAY, 7, 59)):
        assert await sent_at(app, clock, *closed) == [], f"sent at {closed}"
    assert len(notices(app)) == before
    sent = await sent_at(app, clock, FRIDAY, 8)
    if kind == "extension_ending":
        assert sent == [], "the extension ended on Thanksgiving: nothing left to remind of"
    else:
        assert {key.split(":")[0] for key in sent} == {kind}, "it waits for the next business morning"
        assert len(notices(app)) == before + 1


@pytest.mark.parametrize("case", list(CASES))
async def test_nothing_goes_out_on_a_saturday(case: str) -> None:
    seeder, kind, _ = CASES[case]
    clock = Clock(court_time(FRIDAY, 7))
    app = make_app(clock)
    await seeder(app, clock, FRIDAY)
    before = len(notices(app))
    for closed in ((FRIDAY, 22), (SATURDAY, 10), (SATURDAY + timedelta(days=1), 12), (MONDAY, 7, 30)):
        assert await sent_at(app, clock, *closed) == [], f"sent at {closed}"
    assert len(notices(app)) == before
    sent = await sent_at(app, clock, MONDAY, 8)
    if kind == "extension_ending":
        assert sent == [], "the extension ended on Saturday: nothing left to remind of"
    else:  # by Monday a 2-days-left step has also passed its deadline: one notice, both steps remembered
        assert {key.split(":")[0] for key in sent} == {kind}
        assert len(notices(app)) == before + 1


@pytest.mark.parametrize("case", list(CASES))
async def test_each_notice_is_drawn_as_a_valid_teams_card(case: str) -> None:
    seeder, _, hour = CASES[case]
    clock = Clock(court_time(WEDNESDAY, 7))
    app = make_app(clock)
    await seeder(app, clock, WEDNESDAY)
    before = len(notices(app))
    await sent_at(app, clock, WEDNESDAY, hour)
    (notice,) = notices(app)[before:]
    card = Presenter(app.settings.timezone).content(notice.content)
    assert teams_findings(card) == []


async def test_a_package_reminder_goes_to_the_jb_over_the_package_card_and_acknowledge_ends_it() -> None:
    clock = Clock(court_time(WEDNESDAY, 7))
    app = make_app(clock)
    await seeds.unacknowledged_package(app, clock, WEDNESDAY)
    await sent_at(app, clock, WEDNESDAY, 10)
    (notice,) = notices(app)
    assert [a.kind for a in notice.audiences] == ["jb"] and notice.subject == "package:9000"
    assert isinstance(notice.content, Reminder) and notice.content.clock is ClockKind.PACKAGE_UNACKNOWLEDGED
    text = str(Presenter(app.settings.timezone).content(notice.content))
    assert "nobody has acknowledged this Information Package" in text and "after 2 business days" in text
    assert "Acknowledge" in text


async def test_officers_added_after_the_acknowledgment_are_reminded_with_their_own_acknowledge() -> None:
    from domain.policy import Requester
    from services import packages
    from services.outcomes import AlreadyDone, Done
    from tests.support.clocks import STAFF

    clock = Clock(court_time(WEDNESDAY, 7))
    app = make_app(clock)
    await seeds.unacknowledged_officers(app, clock, WEDNESDAY)
    await sent_at(app, clock, WEDNESDAY, 11)
    (notice,) = notices(app)
    assert isinstance(notice.content, Reminder) and notice.subject == "officers-added:9000:B2345"
    assert [o.officer_number for o in notice.content.about.view.added] == ["B2345"]  # type: ignore[union-attr]
    card = str(Presenter(app.settings.timezone).content(notice.content))
    assert "not acknowledged after 2 business days" in card and "Acknowledge" in card
    staff = Requester(STAFF, is_staff=True)
    assert isinstance(await packages.acknowledge_officers(app, staff, "9000", "B2345"), Done)
    assert isinstance(await packages.acknowledge_officers(app, staff, "9000", "B2345"), AlreadyDone)
    assert await sent_at(app, clock, FRIDAY, 11) == []


async def test_the_poc_is_reminded_of_an_officer_with_no_e_ticket() -> None:
    clock = Clock(court_time(WEDNESDAY, 7))
    app = make_app(clock)
    await seeds.no_eticket(app, clock, WEDNESDAY)
    await sent_at(app, clock, WEDNESDAY, 8)
    (notice,) = notices(app)
    assert [(a.kind, a.key) for a in notice.audiences] == [("person", seeds.POC.aad_id)]
    card = str(Presenter(app.settings.timezone).content(notice.content))
    assert "expected to begin e-ticketing on Wed Nov 11, 2026, 14 days ago" in card
    assert "Approve" not in card, "the PoC's copy carries no JB buttons"


async def test_an_escalation_is_the_alert_with_its_buttons_in_the_alerts_thread_to_the_jb_and_the_poc() -> None:
    clock = Clock(court_time(WEDNESDAY, 7))
    app = make_app(clock)
    await seeds.deadline_step(2)(app, clock, WEDNESDAY)
    await sent_at(app, clock, WEDNESDAY, 8)
    (notice,) = notices(app)
    assert isinstance(notice.content, IncidentAlert)
    assert notice.subject == notice.thread_of == "incident:inc-VT-9"
    assert [a.kind for a in notice.audiences] == ["jb", "person"]
    assert notice.summary == "Answer deadline in 2 days: e-ticket VT-9"
    card = Presenter(app.settings.timezone).content(notice.content)
    text = str(card)
    assert "Mark resolved" in text and "answer deadline is near (2 days left)" in text
    assert teams_findings(card) == []


async def test_several_steps_due_at_once_send_the_latest_and_remember_them_all() -> None:
    clock = Clock(court_time(WEDNESDAY, 7))
    app = make_app(clock)
    await seeds.deadline_step(7)(app, clock, WEDNESDAY)  # raised on its issue day: all three steps are its own
    # the bot was stopped for ten days: on its return the 7- and 2-day steps and the deadline have all gone by
    sent = await sent_at(app, clock, WEDNESDAY + timedelta(days=9), 9)  # Fri Dec 4: 2 days past the deadline
    assert sorted(sent) == [
        "answer_deadline:inc-VT-9:2",
        "answer_deadline:inc-VT-9:7",
        "answer_deadline:inc-VT-9:passed",
    ]
    (notice,) = notices(app)
    assert notice.summary == "Answer deadline passed: e-ticket VT-9"


async def test_a_resolved_incident_is_not_escalated() -> None:
    from domain.incidents import mark_resolved
    from domain.records import Stamp

    clock = Clock(court_time(WEDNESDAY, 7))
    app = make_app(clock)
    await seeds.deadline_step(2)(app, clock, WEDNESDAY)
    incident = app.db.incidents.get("inc-VT-9")
    assert incident is not None
    await app.db.commit([app.db.incidents.put(mark_resolved(incident, Stamp(actor=seeds.POC, at=clock.now)))])
    assert await sent_at(app, clock, WEDNESDAY, 9) == []


async def test_once_a_court_day_every_copy_of_each_open_alert_is_brought_up_to_date() -> None:
    clock = Clock(court_time(WEDNESDAY, 0, 5))
    app = make_app(clock)
    await seeds.deadline_step(7)(app, clock, WEDNESDAY)
    first = await clocks.tick(app)
    assert first.refreshed == 1 and first.sent == [], "a card edit at night wakes nobody, a reminder would"
    assert isinstance(app.notifier, RecordingNotifier)
    (update,) = app.notifier.updates
    assert update.subject == "incident:inc-VT-9" and isinstance(update.content, IncidentAlert)
    assert update.content.view.window.days_left == 7
    assert await sent_at(app, clock, WEDNESDAY, 23) == []
    assert len(app.notifier.updates) == 1, "once a day"
    clock.set(THANKSGIVING, 0, 1)
    assert (await clocks.tick(app)).refreshed == 1
    assert app.notifier.updates[-1].content.view.window.days_left == 6  # type: ignore[union-attr]


async def test_the_thresholds_are_settings() -> None:
    clock = Clock(court_time(WEDNESDAY, 7))
    settings = Settings.from_env({"JB_STAFF_IDS": JB_AAD, "REMIND_UNACKNOWLEDGED_DAYS": "3"})
    app = AppContext(settings=settings, db=MemoryDatabase(), notifier=RecordingNotifier(), clock=clock)
    await seeds.unacknowledged_package(app, clock, WEDNESDAY)  # submitted 2 business days before
    assert await sent_at(app, clock, WEDNESDAY, 10) == []
    assert await sent_at(app, clock, FRIDAY, 10) == ["package_unacknowledged:9000"]
