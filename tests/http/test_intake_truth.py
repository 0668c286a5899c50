"""The intake refuses what cannot be true, and an event_id cannot lose data (issue 13), through the whole app."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from app import CONTEXT
from intake.signature import sign
from tests.conftest import SECRET
from tests.support.seed import seed_agency


async def post_events(client: Any, body: Any) -> Any:
    raw = json.dumps(body).encode()
    return await client.post(
        "/api/ticket-events",
        data=raw,
        headers={"Content-Type": "application/json", "X-Signature-256": sign(SECRET, raw)},
    )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def event(event_id: str, kind: str = "submitted", **fields: Any) -> dict[str, Any]:
    """An event of ticket VT-0001 by A1234 of 9000: uploaded a minute ago, issued an hour before."""
    now = datetime.now(UTC)
    return {
        "event_id": event_id,
        "type": kind,
        "ticket_number": "VT-0001",
        "officer_number": "A1234",
        "judiciary_code": "9000",
        "occurred_at": iso(now - timedelta(minutes=1)),
        "issued_at": iso(now - timedelta(hours=1)),
    } | fields


def good_events(count: int) -> list[dict[str, Any]]:
    return [event(f"good-{n}", ticket_number=f"VT-{n:04d}") for n in range(count)]


async def test_an_issue_time_the_store_cannot_hold_is_a_400_naming_it_not_a_500_on_every_retry(
    bot_client: Any,
) -> None:
    client = await bot_client()
    await seed_agency(client.server.app[CONTEXT])
    poison = event("poison", ticket_number="VT-9999", issued_at="9999-12-31T23:00:00-05:00")
    body = {"events": [*good_events(499)[:250], poison, *good_events(499)[250:]]}
    for _ in range(2):  # a sender retries: the answer does not change, and it says what to fix
        response = await post_events(client, body)
        assert response.status == 400
        errors = (await response.json())["errors"]
        assert [(e["index"], e["field"]) for e in errors] == [(250, "issued_at")]
        assert "cannot be stored" in errors[0]["message"]
    db = client.server.app[CONTEXT].db
    assert not db.events.seen("good-0") and not db.events.seen("poison")
    fixed = await post_events(client, {"events": [e for e in body["events"] if e["event_id"] != "poison"]})
    assert fixed.status == 200
    assert db.events.seen("good-498")


async def test_an_instant_more_than_a_day_after_receipt_is_a_400_naming_the_field(bot_client: Any) -> None:
    client = await bot_client()
    tomorrow_and_more = datetime.now(UTC) + timedelta(days=1, minutes=5)
    body = {
        "events": [
            event("future-occurred", "accepted", occurred_at=iso(tomorrow_and_more)),
            event("future-issued", ticket_number="VT-0002", issued_at=iso(tomorrow_and_more)),
            event("fine", ticket_number="VT-0003", occurred_at=iso(datetime.now(UTC) + timedelta(hours=20))),
        ]
    }
    response = await post_events(client, body)
    assert response.status == 400
    errors = (await response.json())["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(0, "occurred_at"), (1, "issued_at")]
    assert all("more than a day after the request was received" in e["message"] for e in errors)
    assert not client.server.app[CONTEXT].db.events.seen("fine")


async def test_an_event_id_reused_with_another_payload_is_a_409_and_nothing_of_the_request_is_recorded(
    bot_client: Any,
) -> None:
    client = await bot_client()
    await seed_agency(client.server.app[CONTEXT])
    first = event("odyssey-1", "rejected", reason="Plate state missing")
    assert (await post_events(client, first)).status == 200
    other_agency = first | {"judiciary_code": "9001", "reason": "Statute not found"}
    response = await post_events(client, {"events": [event("new-one", ticket_number="VT-0002"), other_agency]})
    assert response.status == 409
    answer = await response.json()
    assert answer["error"] == "conflict" and answer["index"] == 1 and answer["event_id"] == "odyssey-1"
    db = client.server.app[CONTEXT].db
    assert not db.events.seen("new-one")
    stored = db.events.get("odyssey-1")
    assert stored is not None and stored.reason == "Plate state missing" and stored.judiciary_code == "9000"
    again = await post_events(client, first)  # the same payload, received again: a duplicate, as before
    assert again.status == 200
    assert (await again.json())["results"][0]["status"] == "duplicate"
