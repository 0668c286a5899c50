"""Closed tickets of long ago leave memory for the archive and come back when a late event needs them (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app import CONTEXT
from bot.archive_scheduler import ArchiveScheduler
from domain.policy import Requester
from domain.records import Actor, OfficerState, Stamp
from services import approval
from services.archive import archive_due
from services.context import AppContext
from services.corrections import edit_officer
from services.outcomes import Done
from tests.http.test_intake_truth import iso, post_events
from tests.support.factories import JB_AAD, POC_AAD
from tests.support.seed import officer, seed_agency

LONG_AGO = datetime.now(UTC) - timedelta(days=500)


def old_event(
    event_id: str, kind: str, ticket: str = "VT-OLD", officer_number: str = "A1234", **fields: Any
) -> dict[str, Any]:
    """An event of a ticket issued 500 days ago."""
    hours = {"submitted": 1, "accepted": 3}.get(kind, 5)
    return {
        "event_id": event_id,
        "type": kind,
        "ticket_number": ticket,
        "officer_number": officer_number,
        "judiciary_code": "9000",
        "occurred_at": iso(LONG_AGO + timedelta(hours=hours)),
        "issued_at": iso(LONG_AGO),
    } | fields


async def approved_agency(app: AppContext) -> None:
    await seed_agency(app, officers=("A1234", "B2345"))
    approved = officer("A1234", state=OfficerState.APPROVED)
    await app.db.commit([app.db.officers.put(approved)])


async def recorded(client: Any, *events: dict[str, Any]) -> list[str]:
    response = await post_events(client, {"events": list(events)})
    assert response.status == 200, await response.text()
    return [result["status"] for result in (await response.json())["results"]]


async def with_archived_ticket(bot_client: Any) -> tuple[Any, AppContext]:
    """The bot, with VT-OLD (issued 500 days ago, submitted and accepted) moved into the archive."""
    client = await bot_client()
    app = client.server.app[CONTEXT]
    await approved_agency(app)
    await recorded(client, old_event("old-s", "submitted"), old_event("old-a", "accepted"))
    assert await archive_due(app) == 1
    return client, app


async def test_a_closed_ticket_of_long_ago_moves_to_the_archive_and_stays_out_of_memory_across_a_restart(
    bot_client: Any, settings_for: Any
) -> None:
    settings = settings_for()
    client = await bot_client(settings)
    app = client.server.app[CONTEXT]
    await approved_agency(app)
    await recorded(client, old_event("old-s", "submitted"), old_event("old-a", "accepted"))
    await recorded(
        client,
        old_event(
            "new-s",
            "submitted",
            ticket="VT-NEW",
            occurred_at=iso(datetime.now(UTC) - timedelta(hours=1)),
            issued_at=iso(datetime.now(UTC) - timedelta(hours=2)),
        ),
    )
    await ArchiveScheduler(app).run_once()  # what the bot runs a minute after start, then every six hours
    assert not app.db.ticket_states.has("9000:VT-OLD") and not app.db.events.seen("old-s")
    assert app.db.ticket_states.has("9000:VT-NEW")
    assert await app.db.archive.years() == {LONG_AGO.year: 1}
    assert await archive_due(app) == 0  # nothing else is due

    await client.close()
    client = await bot_client(settings)
    app = client.server.app[CONTEXT]
    assert not app.db.ticket_states.has("9000:VT-OLD")
    back = await app.db.archive.read(["9000:VT-OLD"])
    assert [event.event_id for event in back["9000:VT-OLD"].events] == ["old-s", "old-a"]
    assert back["9000:VT-OLD"].state.accepted


async def test_a_replayed_archived_event_is_a_duplicate_and_one_with_another_payload_is_refused(
    bot_client: Any,
) -> None:
    client, app = await with_archived_ticket(bot_client)

    assert await recorded(client, old_event("old-a", "accepted")) == ["duplicate"]
    assert not app.db.ticket_states.has("9000:VT-OLD")  # a duplicate changes nothing, not even where it is kept

    changed = await post_events(client, {"events": [old_event("old-a", "accepted", officer_number="B2345")]})
    assert changed.status == 409
    assert not app.db.ticket_states.has("9000:VT-OLD")


async def test_a_late_event_for_an_archived_ticket_brings_it_back_and_is_judged_over_its_history(
    bot_client: Any,
) -> None:
    client, app = await with_archived_ticket(bot_client)

    late = old_event("old-r", "rejected", occurred_at=iso(datetime.now(UTC) - timedelta(minutes=5)), reason="bad")
    assert await recorded(client, late) == ["recorded"]
    state = app.db.ticket_states.get("9000:VT-OLD")
    assert state is not None and state.rejected and state.accepted  # the archived steps are still there
    assert {"old-s", "old-a", "old-r"} <= {event.event_id for event in app.db.events.of_ticket("9000:VT-OLD")}
    open_incidents = app.db.incidents.open()
    assert [incident.ticket_number for incident in open_incidents] == ["VT-OLD"]
    assert await archive_due(app) == 0  # its incident is open: it stays in memory


async def test_tickets_of_an_officer_in_monitoring_and_those_with_an_open_incident_stay(bot_client: Any) -> None:
    client = await bot_client()
    app = client.server.app[CONTEXT]
    await approved_agency(app)  # B2345 is in monitoring
    await recorded(
        client,
        old_event("mon-s", "submitted", ticket="VT-MON", officer_number="B2345"),
        old_event("mon-a", "accepted", ticket="VT-MON", officer_number="B2345"),
        old_event("rej-s", "submitted", ticket="VT-REJ"),
        old_event("rej-r", "rejected", ticket="VT-REJ", reason="bad"),
    )
    assert await archive_due(app) == 0
    assert app.db.ticket_states.has("9000:VT-MON") and app.db.ticket_states.has("9000:VT-REJ")


async def test_figures_built_again_after_tickets_were_archived_still_count_them(
    bot_client: Any, settings_for: Any
) -> None:
    client = await bot_client(settings_for())
    app = client.server.app[CONTEXT]
    await seed_agency(app)
    since = LONG_AGO - timedelta(days=30)
    veteran = officer(
        "A1234",
        state=OfficerState.APPROVED,
        start_date=since.date(),
        added=Stamp(actor=Actor(aad_id=POC_AAD, name="Pat Poc"), at=since),
    )
    await app.db.commit([app.db.officers.put(veteran)])
    for n in range(3):
        await recorded(
            client,
            old_event(f"o{n}-s", "submitted", ticket=f"VT-O{n}"),
            old_event(f"o{n}-a", "accepted", ticket=f"VT-O{n}"),
        )
    now = datetime.now(UTC)
    recent = {"occurred_at": iso(now - timedelta(hours=1)), "issued_at": iso(now - timedelta(hours=2))}
    await recorded(client, old_event("n-s", "submitted", ticket="VT-N", **recent))
    await recorded(client, old_event("n-a", "accepted", ticket="VT-N", **recent))
    assert await archive_due(app) == 3
    assert approval.assess(app, veteran).accepted_count == 4  # the figures kept counting them

    staff = Requester(Actor(aad_id=JB_AAD, name="Jamie Staff"), is_staff=True)
    new_start = app.today()  # a correction sets today or later: every e-ticket now counts as issued before it
    outcome = await edit_officer(app, staff, "9000", "A1234", {"start_date": new_start.isoformat()})
    assert isinstance(outcome, Done) and outcome.view.readiness.accepted_count == 4
    assert outcome.view.readiness.issued_before_start == 3  # the archived three; the recent one was issued today
    moved = app.db.officers.get("9000", "A1234")
    assert moved is not None and moved.start_date == new_start
    assert approval.assess(app, moved).accepted_count == 4

    await client.close()  # another clean streak: every officer's figures are built again at start
    client = await bot_client(settings_for(READY_CLEAN_STREAK="4"))
    app = client.server.app[CONTEXT]
    assert approval.stored_figures(app, moved) is not None
    assert approval.assess(app, moved).accepted_count == 4
