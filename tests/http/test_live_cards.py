"""Live countdowns: alert and readiness cards carry a Universal Actions refresh, answered with the card as it
stands now; in a channel ``refresh.userIds`` lists the roster when it has at most 60 people."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from app import CONTEXT
from cards.base import teams_findings
from tests.http.test_ticket_alerts import AGENCY_CHANNEL, event, post_events, setup
from tests.support.clocks import Clock, court_time
from tests.support.factories import OTHER_AAD, make_invoke, make_message
from tests.support.fake_connector import FakeConnector

ROSTER = [{"id": f"29:member-{n}", "name": f"Member {n}", "aadObjectId": f"aad-{n}"} for n in range(3)]


async def alert_copies(client: Any, connector: FakeConnector) -> tuple[Any, dict[str, Any]]:
    """The app with its clock on Mon Nov 23, 2026, and the three copies of a rejection alert by conversation."""
    await setup(client, connector)
    context = client.server.app[CONTEXT]
    context.clock = Clock(court_time(date(2026, 11, 23), 10))
    response = await post_events(client, event("e2", "rejected", reason="Missing plate state"))
    incident_id = (await response.json())["results"][0]["incidents"][0]["id"]
    sent = await connector.wait_for(lambda sent: len(sent) >= 3)
    return context, {"incident_id": incident_id} | {s.conversation_id: s for s in sent}


def refresh_press(connector: FakeConnector, incident_id: str, message_id: str | None) -> dict[str, Any]:
    """Teams asking, as a member of the agency channel looks at the alert, for the card as it stands now."""
    press = make_invoke(
        "card.refresh",
        {"card": "incident", "incident_id": incident_id},
        connector.url,
        reply_to_id=message_id or "",
        kind="channel",
        user_name="Casey Member",
        user_aad="55555555-5555-4555-8555-555555555555",  # in the channel; no role of their own
    )
    press["value"]["trigger"] = "automatic"
    return press


async def test_an_alert_carries_a_refresh_and_in_a_channel_the_roster_as_user_ids(
    bot_client: Any, connector: FakeConnector
) -> None:
    connector.members = ROSTER
    client = await bot_client()
    _, copies = await alert_copies(client, connector)
    channel_card = copies[AGENCY_CHANNEL].cards[0]
    refresh = channel_card["refresh"]
    assert refresh["action"]["type"] == "Action.Execute" and refresh["action"]["verb"] == "card.refresh"
    assert refresh["action"]["data"] == {
        "verb": "card.refresh",
        "card": "incident",
        "incident_id": copies["incident_id"],
    }
    assert "userIds" not in refresh, "no roster read yet: Teams' default (automatic up to 60 people)"
    assert "userIds" not in copies["a:personal-11111111"].cards[0]["refresh"], "a 1:1 chat needs no list"
    assert teams_findings(channel_card) == []

    answer = await client.post(
        "/api/messages", json=refresh_press(connector, copies["incident_id"], copies[AGENCY_CHANNEL].activity_id)
    )
    assert (await answer.json())["value"]["refresh"]["userIds"] == ["29:member-0", "29:member-1", "29:member-2"]
    assert connector.roster_reads == [AGENCY_CHANNEL]

    # the next alert to the channel is sent with the roster read in that turn
    connector.sent.clear()
    await post_events(client, event("e3", "rejected", ticket_number="VT-0002", reason="Bad statute"))
    sent = await connector.wait_for(lambda sent: len(sent) >= 3)
    channel_copy = next(s for s in sent if s.conversation_id == AGENCY_CHANNEL)
    assert channel_copy.cards[0]["refresh"]["userIds"] == ["29:member-0", "29:member-1", "29:member-2"]
    assert connector.roster_reads == [AGENCY_CHANNEL], "read once, kept ten minutes"


async def test_more_than_sixty_members_leave_the_refresh_to_be_done_by_hand(
    bot_client: Any, connector: FakeConnector
) -> None:
    connector.members = [{"id": f"29:m{n}", "name": f"M {n}"} for n in range(61)]
    client = await bot_client()
    _, copies = await alert_copies(client, connector)
    press = refresh_press(connector, copies["incident_id"], copies[AGENCY_CHANNEL].activity_id)
    answer = await client.post("/api/messages", json=press)
    assert (await answer.json())["value"]["refresh"]["userIds"] == []


async def test_the_refresh_invoke_answers_with_the_card_as_it_stands_now(
    bot_client: Any, connector: FakeConnector
) -> None:
    connector.members = ROSTER
    client = await bot_client()
    context, copies = await alert_copies(client, connector)
    channel_copy = copies[AGENCY_CHANNEL]
    assert "answer due Fri Dec 11, 2026 (18 days left)" in channel_copy.text  # issued Fri Nov 20, seen Mon 23
    context.clock.set(date(2026, 11, 25), 9)  # two days on

    press = refresh_press(connector, copies["incident_id"], channel_copy.activity_id)
    puts_before = sum(1 for s in connector.sent if s.method == "PUT")
    answer = await client.post("/api/messages", json=press)
    assert answer.status == 200
    body = await answer.json()
    card = body["value"]
    text = json.dumps(card)
    assert "answer due Fri Dec 11, 2026 (16 days left)" in text and "Mark resolved" in text
    assert card["refresh"]["userIds"] == ["29:member-0", "29:member-1", "29:member-2"], "it keeps refreshing"
    assert teams_findings(card) == []
    assert sum(1 for s in connector.sent if s.method == "PUT") == puts_before, "a refresh edits nobody's message"


async def test_a_refresh_from_where_no_copy_was_sent_learns_nothing(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    _, copies = await alert_copies(client, connector)
    await client.post("/api/messages", json=make_message("/help", connector.url, user_aad=OTHER_AAD))
    forged = make_invoke(
        "card.refresh", {"card": "incident", "incident_id": copies["incident_id"]}, connector.url, user_aad=OTHER_AAD
    )
    answer = await client.post("/api/messages", json=forged)
    text = json.dumps((await answer.json())["value"])
    assert "Not allowed" in text
    for private in ("VT-0001", "Casey Officer", "Missing plate state", "Williston"):
        assert private not in text


async def test_a_readiness_card_refreshes_with_the_buttons_its_copy_has(
    bot_client: Any, connector: FakeConnector
) -> None:
    client = await bot_client()
    await setup(client, connector)
    await client.post("/api/messages", json=make_message("/status A1234", connector.url))
    (reply,) = await connector.wait_for(lambda sent: len(sent) >= 1)
    card = reply.cards[0]
    data = card["refresh"]["action"]["data"]
    assert data == {
        "verb": "card.refresh",
        "card": "readiness",
        "judiciary_code": "9000",
        "officer_number": "A1234",
        "actions": False,
    }
    answer = await client.post("/api/messages", json=make_invoke("card.refresh", data, connector.url))
    refreshed = (await answer.json())["value"]
    assert "Casey Officer (A1234)" in json.dumps(refreshed) and "Approve" not in json.dumps(refreshed)
    assert refreshed["refresh"]["action"]["data"] == data
