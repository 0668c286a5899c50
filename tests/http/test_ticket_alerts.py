"""Signed ticket events raise incident alerts in the agency channel, the PoC's chat and the JB's."""

from __future__ import annotations

import json
from typing import Any

from app import CONTEXT
from intake.signature import sign
from tests.bot.package_flow import walk
from tests.conftest import SECRET
from tests.support.factories import JB_AAD, OTHER_AAD, make_invoke, make_message
from tests.support.fake_connector import FakeConnector
from tests.support.seed import seed_agency

AGENCY_CHANNEL = "19:agency-channel@thread.tacv2"
JB_CHANNEL = "19:jb-channel@thread.tacv2"


async def post_events(client: Any, body: Any) -> Any:
    raw = json.dumps(body).encode()
    return await client.post(
        "/api/ticket-events",
        data=raw,
        headers={"Content-Type": "application/json", "X-Signature-256": sign(SECRET, raw)},
    )


def event(event_id: str, kind: str, **fields: Any) -> dict[str, Any]:
    base = {
        "event_id": event_id,
        "type": kind,
        "ticket_number": "VT-0001",
        "officer_number": "a1234",
        "judiciary_code": "9000",
        "occurred_at": "2026-11-20T15:00:00Z",
        "issued_at": "2026-11-20T09:00:00-05:00",
    }
    return base | fields


async def setup(client: Any, connector: FakeConnector) -> None:
    """The PoC and a JB staff member have chatted with the bot; the agency channel is subscribed."""
    await client.post("/api/messages", json=make_message("/help", connector.url))
    await client.post(
        "/api/messages", json=make_message("/help", connector.url, user_aad=JB_AAD, user_name="Jamie Staff")
    )
    await client.post("/api/messages", json=make_message("/help", connector.url, mention=True, kind="channel"))
    await connector.wait_for(lambda sent: len(sent) >= 3)
    await seed_agency(client.server.app[CONTEXT], channel=AGENCY_CHANNEL)
    connector.sent.clear()


async def test_a_rejected_e_ticket_alerts_channel_poc_and_jb(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await setup(client, connector)
    response = await post_events(
        client, {"events": [event("e1", "submitted"), event("e2", "rejected", reason="Missing plate state")]}
    )
    assert response.status == 200
    results = (await response.json())["results"]
    assert [r["status"] for r in results] == ["recorded", "recorded"]
    assert [i["kind"] for i in results[1]["incidents"]] == ["rejected"]
    sent = await connector.wait_for(lambda sent: len(sent) >= 3)
    assert sorted(s.conversation_id for s in sent) == sorted(
        [AGENCY_CHANNEL, "a:personal-11111111", "a:personal-22222222"]
    )
    card = sent[0].text
    for expected in (
        "E-ticket rejected by Odyssey",
        "VT-0001",
        "Casey Officer (A1234)",
        "Missing plate state",
        "Issued Fri Nov 20, 2026; answer due Fri Dec 11, 2026",
        "Mark resolved",
    ):
        assert expected in card


async def test_mark_resolved_updates_every_copy_and_says_who(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await setup(client, connector)
    response = await post_events(client, event("e2", "rejected", reason="Bad statute"))
    incident_id = (await response.json())["results"][0]["incidents"][0]["id"]
    sent = await connector.wait_for(lambda sent: len(sent) >= 3)
    in_channel = next(s for s in sent if s.conversation_id == AGENCY_CHANNEL)

    press = make_invoke(
        "incident.resolve",
        {"incident_id": incident_id},
        connector.url,
        reply_to_id=in_channel.activity_id,
        kind="channel",
    )
    answer = await client.post("/api/messages", json=press)
    assert answer.status == 200
    card = json.dumps((await answer.json())["value"])
    assert "Resolved by Pat Poc" in card and "Mark resolved" not in card
    copies = {AGENCY_CHANNEL, "a:personal-11111111", "a:personal-22222222"}

    def updated(sent: list[Any]) -> set[str]:
        return {s.conversation_id.split(";messageid=")[0] for s in sent if s.method == "PUT"}

    # a copy whose delivery was still being recorded when the press came may be updated twice; all three must be
    updates = await connector.wait_for(lambda sent: updated(sent) >= copies)
    assert updated(updates) == copies
    assert all("Resolved by Pat Poc" in s.text for s in updates if s.method == "PUT")
    # a resolved alert says so in its title and no longer counts down
    assert all("RESOLVED: E-ticket rejected by Odyssey" in s.text for s in updates if s.method == "PUT")
    assert not any("days left" in s.text for s in updates if s.method == "PUT")


async def test_someone_else_cannot_resolve_and_nothing_changes(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await setup(client, connector)
    response = await post_events(client, event("e2", "rejected", reason="Bad statute"))
    incident_id = (await response.json())["results"][0]["incidents"][0]["id"]
    await connector.wait_for(lambda sent: len(sent) >= 3)
    press = make_invoke(
        "incident.resolve", {"incident_id": incident_id}, connector.url, user_aad=OTHER_AAD, user_name="Someone"
    )
    answer = await client.post("/api/messages", json=press)
    card = json.dumps((await answer.json())["value"])
    assert "Only the agency's Point-of-Contact or JB e-ticket staff" in card
    # a refusal carries none of the record's data: no ticket, no officer, no button
    assert "Mark resolved" not in card and "VT-" not in card and "Williston" not in card
    assert client.server.app[CONTEXT].db.incidents.get(incident_id).is_open


async def test_a_duplicate_event_raises_nothing(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await setup(client, connector)
    await post_events(client, event("e2", "rejected", reason="Bad statute"))
    await connector.wait_for(lambda sent: len(sent) >= 3)
    again = await post_events(client, event("e2", "rejected", reason="Bad statute"))
    assert (await again.json())["results"] == [{"event_id": "e2", "status": "duplicate", "incidents": []}]
    assert len(client.server.app[CONTEXT].db.incidents.open()) == 1


async def test_a_voided_ticket_closes_its_alerts(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await setup(client, connector)
    await post_events(client, event("e2", "rejected", reason="Bad statute"))
    await connector.wait_for(lambda sent: len(sent) >= 3)
    await post_events(client, event("e3", "voided"))
    copies = {AGENCY_CHANNEL, "a:personal-11111111", "a:personal-22222222"}
    updates = await connector.wait_for(
        lambda sent: {s.conversation_id for s in sent if s.method == "PUT" and "ticket was voided" in s.text} >= copies
    )
    assert all("ticket was voided" in s.text for s in updates if s.method == "PUT")
    assert client.server.app[CONTEXT].db.incidents.open() == []


async def test_an_unknown_officer_alerts_the_poc_too_who_can_add_the_officer_from_it(
    bot_client: Any, connector: FakeConnector
) -> None:
    client = await bot_client()
    await setup(client, connector)
    await post_events(client, event("e9", "submitted", officer_number="Z9999"))
    sent = await connector.wait_for(lambda sent: len(sent) >= 3)
    assert sorted(s.conversation_id for s in sent) == sorted(
        [AGENCY_CHANNEL, "a:personal-11111111", "a:personal-22222222"]
    )  # one alert card per conversation for the one incident
    to_poc = next(s for s in sent if s.conversation_id == "a:personal-11111111")
    assert "E-ticket from an unknown officer" in to_poc.text and "Add this officer" in to_poc.text
    assert to_poc.text.count("Z9999") == 2  # the officer line and the problem, said once, not three times
    button = next(a for a in to_poc.cards[0]["actions"] if a["title"] == "Add this officer")
    connector.sent.clear()
    press = make_invoke(button["verb"], button["data"], connector.url)
    answer = await client.post("/api/messages", json=press)
    assert "E-ticket from an unknown officer" in json.dumps((await answer.json())["value"])
    wizard = await connector.wait_for(lambda sent: any("Add officers" in s.text for s in sent))
    form = next(s for s in wizard if "Add officers" in s.text).cards[0]
    number = next(node for node in walk(form) if node.get("id") == "officer_number")
    assert number.get("value") == "Z9999"
    refused = make_invoke(button["verb"], button["data"], connector.url, user_aad=OTHER_AAD, user_name="Someone")
    body = json.dumps((await (await client.post("/api/messages", json=refused)).json())["value"])
    assert "Only the agency's Point-of-Contact or JB e-ticket staff" in body and "Z9999" not in body


async def test_a_second_press_says_who_already_resolved_it(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await setup(client, connector)
    response = await post_events(client, event("e2", "rejected", reason="Bad statute"))
    incident_id = (await response.json())["results"][0]["incidents"][0]["id"]
    await connector.wait_for(lambda sent: len(sent) >= 3)
    first = make_invoke("incident.resolve", {"incident_id": incident_id}, connector.url)
    await client.post("/api/messages", json=first)
    late = make_invoke(
        "incident.resolve", {"incident_id": incident_id}, connector.url, user_aad=JB_AAD, user_name="Jamie Staff"
    )
    answer = await client.post("/api/messages", json=late)
    card = json.dumps((await answer.json())["value"])
    assert "Already resolved by Pat Poc" in card
    entries = client.server.app[CONTEXT].db.audit.of_target("officer:9000:A1234")
    assert [entry.action for entry in entries].count("incident.resolve") == 1
