"""Approval end to end over HTTP: signed accepted events make an officer ready, the JB channel gets the readiness
card once, Approve / Extend monitoring change every copy, the PoC gets the approval notice; /status, /audit, /withdraw."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from app import CONTEXT
from cards.base import teams_findings
from domain.records import Actor, OfficerState, Stamp
from intake.signature import sign
from services.approval import recheck
from services.context import AppContext
from settings import Settings
from storage.repositories import Notice
from tests.conftest import SECRET
from tests.support.factories import JB_AAD, OTHER_AAD, POC_AAD, make_invoke, make_message
from tests.support.fake_connector import FakeConnector, Sent
from tests.support.seed import mark_jb_channel, officer, seed_agency

AGENCY_CHANNEL = "19:agency-channel@thread.tacv2"
JB_CHANNEL = "19:jb-channel@thread.tacv2"
JB2_AAD = "44444444-4444-4444-8444-444444444444"
POC_CHAT = "a:personal-11111111"
# Sat Nov 28, 2026 12:00 Eastern
NOW = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)
IDS = {"judiciary_code": "9000", "officer_number": "A1234"}


async def post_events(client: Any, body: Any) -> Any:
    raw = json.dumps(body).encode()
    return await client.post(
        "/api/ticket-events",
        data=raw,
        headers={"Content-Type": "application/json", "X-Signature-256": sign(SECRET, raw)},
    )


def accepted(number: int, issued: datetime, officer_number: str = "a1234") -> dict[str, Any]:
    """An accepted event of ticket VT-000<number>, issued (and accepted an hour later) at ``issued``."""
    return {
        "event_id": f"acc-{officer_number}-{number}",
        "type": "accepted",
        "ticket_number": f"VT-{number:04d}",
        "officer_number": officer_number,
        "judiciary_code": "9000",
        "occurred_at": (issued + timedelta(hours=1)).isoformat(),
        "issued_at": issued.isoformat(),
    }


def context_of(client: Any) -> AppContext:
    return client.server.app[CONTEXT]


async def start(
    bot_client: Callable[..., Any], connector: FakeConnector, settings: Settings | None = None, *, now: datetime = NOW
) -> Any:
    """The PoC and JB staff have chatted with the bot; the agency channel and the JB channel are subscribed."""
    client = await bot_client(settings)
    context_of(client).clock = lambda: now
    await client.post("/api/messages", json=make_message("/help", connector.url))
    await client.post(
        "/api/messages", json=make_message("/help", connector.url, user_aad=JB_AAD, user_name="Jamie Staff")
    )
    await client.post("/api/messages", json=make_message("/help", connector.url, mention=True, kind="channel"))
    await client.post(
        "/api/messages",
        json=make_message(
            "/help",
            connector.url,
            mention=True,
            kind="channel",
            channel=JB_CHANNEL,
            user_aad=JB_AAD,
            user_name="Jamie Staff",
        ),
    )
    await connector.wait_for(lambda sent: len(sent) >= 4)
    await seed_agency(context_of(client), channel=AGENCY_CHANNEL)
    await mark_jb_channel(context_of(client), JB_CHANNEL)
    connector.sent.clear()
    return client


def readiness_cards(sent: list[Sent]) -> list[Sent]:
    return [
        s for s in sent if s.method == "POST" and s.conversation_id == JB_CHANNEL and "Ready for approval" in s.text
    ]


async def make_ready(client: Any, connector: FakeConnector) -> Sent:
    """Four accepted e-tickets over eight days (Nov 20–28): the readiness card reaches the JB channel."""
    first = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    body = {"events": [accepted(i + 1, first + timedelta(days=day)) for i, day in enumerate((0, 2, 5, 8))]}
    response = await post_events(client, body)
    assert response.status == 200
    sent = await connector.wait_for(lambda sent: len(readiness_cards(sent)) >= 1)
    await delivered(context_of(client))
    return readiness_cards(sent)[0]


async def delivered(context: AppContext, timeout: float = 10.0) -> None:
    """Wait until the outbox has recorded every notice as delivered (so a later update finds the message id)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while context.db.outbox.pending():
        assert loop.time() < deadline, "the outbox never settled"
        await asyncio.sleep(0.01)


async def press(
    client: Any,
    connector: FakeConnector,
    verb: str,
    data: dict[str, Any],
    *,
    user: str = JB_AAD,
    name: str = "Jamie Staff",
    reply_to: str = "card-message-1",
    kind: str = "channel",
    channel: str = JB_CHANNEL,
) -> dict[str, Any]:
    activity = make_invoke(
        verb, data, connector.url, reply_to_id=reply_to, kind=kind, channel=channel, user_aad=user, user_name=name
    )
    response = await client.post("/api/messages", json=activity)
    assert response.status == 200
    card = (await response.json())["value"]
    assert teams_findings(card) == []
    return card


async def say(
    client: Any, connector: FakeConnector, text: str, *, user: str = POC_AAD, name: str = "Pat Poc"
) -> list[Sent]:
    """Type a command in the person's 1:1 chat; the bot's replies to it (not notices arriving meanwhile)."""
    before = len(connector.sent)
    chat = f"a:personal-{user[:8]}"
    message = make_message(text, connector.url, user_aad=user, user_name=name)
    await client.post("/api/messages", json=message)

    def replies(sent: list[Sent]) -> list[Sent]:
        return [s for s in sent[before:] if s.conversation_id == chat and s.body.get("replyToId") == message["id"]]

    return replies(await connector.wait_for(lambda sent: bool(replies(sent))))


def audit_actions(context: AppContext) -> list[str]:
    return [entry.action for entry in context.db.audit.of_target("officer:9000:A1234")]


# ---- readiness card --------------------------------------------------------------------------------


async def test_the_readiness_card_is_sent_once_when_the_officer_becomes_ready(
    bot_client: Any, connector: FakeConnector
) -> None:
    client = await start(bot_client, connector)
    card = await make_ready(client, connector)
    assert teams_findings(card.cards[0]) == []
    for expected in (
        "Casey Officer (A1234)",
        "Williston Police Department (9000)",
        "Accepted e-tickets",
        "4",
        "Fri Nov 20, 2026",
        "Sat Nov 28, 2026",
        "none open",
        "Approve",
        "Extend monitoring",
    ):
        assert expected in card.text
    context = context_of(client)
    assert await recheck(context, None) == []
    context.clock = lambda: NOW + timedelta(hours=1)
    assert await recheck(context, None) == []
    await asyncio.sleep(0)
    assert len(readiness_cards(connector.sent)) == 1
    assert "officer.readiness" in audit_actions(context)


async def test_not_ready_before_the_seventh_day_then_ready_on_the_hourly_check(
    bot_client: Any, connector: FakeConnector
) -> None:
    client = await start(bot_client, connector, now=datetime(2026, 11, 26, 17, 0, tzinfo=UTC))
    first = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    await post_events(client, {"events": [accepted(i + 1, first + timedelta(days=i)) for i in range(3)]})
    context = context_of(client)
    assert await recheck(context, None) == []  # 6 of 7 days
    context.clock = lambda: datetime(2026, 11, 27, 5, 30, tzinfo=UTC)  # 00:30 Eastern on Nov 27: day 7
    assert await recheck(context, None) == ["9000:A1234"]
    await connector.wait_for(lambda sent: len(readiness_cards(sent)) == 1)


# ---- Approve --------------------------------------------------------------------------------------


async def test_jb_staff_approve_every_copy_updates_and_the_poc_is_told(
    bot_client: Any, connector: FakeConnector
) -> None:
    client = await start(bot_client, connector)
    card = await make_ready(client, connector)
    answer = await press(client, connector, "officer.approve", IDS, reply_to=card.activity_id or "")
    text = json.dumps(answer)
    assert "Approved by Jamie Staff on Nov 28, 2026 12:00 PM EST" in text
    assert "Approval date: Sat Nov 28, 2026" in text and "Action.Execute" not in text
    sent = await connector.wait_for(
        lambda sent: any(s.method == "PUT" for s in sent) and any(s.conversation_id == POC_CHAT for s in sent)
    )
    updated = [s for s in sent if s.method == "PUT"]
    assert [s.activity_id for s in updated] == [card.activity_id]
    assert "Approved by Jamie Staff" in updated[0].text
    notice = next(s for s in sent if s.conversation_id == POC_CHAT)
    assert "Casey Officer is approved to issue e-tickets" in notice.text
    assert "fully authorized to submit Vermont Civil Violation Complaints electronically" in notice.text
    assert "rejected or aberrant" in notice.text
    await connector.wait_for(lambda sent: any(s.conversation_id == AGENCY_CHANNEL for s in sent))
    stored = context_of(client).db.officers.get("9000", "A1234")
    assert stored.state is OfficerState.APPROVED and stored.approval_date.isoformat() == "2026-11-28"
    assert stored.approved.actor == Actor(aad_id=JB_AAD, name="Jamie Staff")
    entry = next(
        e for e in context_of(client).db.audit.of_target("officer:9000:A1234") if e.action == "officer.approve"
    )
    assert entry.actor.aad_id == JB_AAD and entry.before["state"] == "monitoring" and entry.after["state"] == "approved"


async def test_a_poc_pressing_approve_is_refused_and_nothing_changes(bot_client: Any, connector: FakeConnector) -> None:
    client = await start(bot_client, connector)
    card = await make_ready(client, connector)
    answer = await press(
        client, connector, "officer.approve", IDS, user=POC_AAD, name="Pat Poc", reply_to=card.activity_id or ""
    )
    text = json.dumps(answer)
    assert "Only JB e-ticket staff may approve an officer" in text
    # a refusal carries none of the record's data (DESIGN: card data is untrusted)
    assert "Casey" not in text and "A1234" not in text and "Williston" not in text and "Approve" not in text
    context = context_of(client)
    assert context.db.officers.get("9000", "A1234").state is OfficerState.MONITORING
    assert "officer.approve" not in audit_actions(context) and "officer.approve.denied" in audit_actions(context)
    assert not any(s.method == "PUT" for s in connector.sent)


async def test_a_forged_invoke_from_someone_else_changes_nothing(bot_client: Any, connector: FakeConnector) -> None:
    client = await start(bot_client, connector)
    await make_ready(client, connector)
    for verb, data in (
        ("officer.approve_confirm", IDS),
        ("officer.extend_submit", IDS | {"until": "2026-12-31", "reason": "x"}),
    ):
        answer = await press(
            client, connector, verb, data, user=OTHER_AAD, name="Someone", kind="personal", reply_to="forged-message"
        )
        assert "Only JB e-ticket staff may" in json.dumps(answer)
    stored = context_of(client).db.officers.get("9000", "A1234")
    assert stored.state is OfficerState.MONITORING and stored.extension is None
    assert not {"officer.approve", "officer.extend"} & set(audit_actions(context_of(client)))
    assert not any(s.method == "PUT" for s in connector.sent)


async def test_a_second_press_says_who_already_approved(bot_client: Any, connector: FakeConnector) -> None:
    client = await start(bot_client, connector)
    card = await make_ready(client, connector)
    await press(client, connector, "officer.approve", IDS, reply_to=card.activity_id or "")
    again = json.dumps(await press(client, connector, "officer.approve", IDS, reply_to=card.activity_id or ""))
    assert "Already approved by Jamie Staff on Nov 28, 2026 12:00 PM EST" in again
    assert audit_actions(context_of(client)).count("officer.approve") == 1


async def test_two_staff_pressing_at_once_approve_once(
    bot_client: Any, connector: FakeConnector, settings_for: Callable[..., Settings]
) -> None:
    client = await start(bot_client, connector, settings_for(JB_STAFF_IDS=f"{JB_AAD},{JB2_AAD}"))
    card = await make_ready(client, connector)
    answers = await asyncio.gather(
        press(client, connector, "officer.approve", IDS, reply_to=card.activity_id or ""),
        press(
            client, connector, "officer.approve", IDS, user=JB2_AAD, name="Robin Staff", reply_to=card.activity_id or ""
        ),
    )
    texts = [json.dumps(answer) for answer in answers]
    assert sum("Already approved by" in text for text in texts) == 1
    assert all("Approved by" in text for text in texts)
    context = context_of(client)
    assert audit_actions(context).count("officer.approve") == 1
    await connector.wait_for(lambda sent: any(s.conversation_id == POC_CHAT for s in sent))
    await context.db.store.flush()
    assert len([n for n in context.db.outbox.of_subject("approval:9000:A1234") if n.conversation_id == POC_CHAT]) == 1


async def test_approving_an_officer_who_is_not_ready_asks_to_confirm(bot_client: Any, connector: FakeConnector) -> None:
    client = await start(bot_client, connector)
    await post_events(client, accepted(1, datetime(2026, 11, 25, 14, 0, tzinfo=UTC)))
    confirm = json.dumps(await press(client, connector, "officer.approve", IDS))
    assert (
        "Approve although not ready?" in confirm
        and "1 of 3 accepted" in confirm
        and "officer.approve_confirm" in confirm
    )
    assert context_of(client).db.officers.get("9000", "A1234").state is OfficerState.MONITORING
    cancelled = json.dumps(await press(client, connector, "card.cancel", IDS | {"cancel": "officer"}))
    assert "Not yet met" in cancelled
    done = json.dumps(await press(client, connector, "officer.approve_confirm", IDS))
    assert "Approved by Jamie Staff" in done
    assert context_of(client).db.officers.get("9000", "A1234").state is OfficerState.APPROVED


# ---- Extend monitoring ------------------------------------------------------------------------------


async def test_extend_then_ready_again_after_the_date(bot_client: Any, connector: FakeConnector) -> None:
    client = await start(bot_client, connector)
    card = await make_ready(client, connector)
    form = await press(client, connector, "officer.extend", IDS, reply_to=card.activity_id or "")
    assert [e["id"] for e in form["body"] if e["type"].startswith("Input.")] == ["until", "reason"]
    wrong = json.dumps(
        await press(client, connector, "officer.extend_submit", IDS | {"until": "2026-11-01", "reason": "Checks"})
    )
    assert "or later" in wrong and "Checks" in wrong
    context = context_of(client)
    assert context.db.officers.get("9000", "A1234").extension is None
    done = json.dumps(
        await press(
            client,
            connector,
            "officer.extend_submit",
            IDS | {"until": "2026-12-01", "reason": "Two e-tickets needed corrections"},
            reply_to=card.activity_id or "",
        )
    )
    assert "Monitoring extended by Jamie Staff" in done and "Tue Dec 1, 2026" in done
    stored = context.db.officers.get("9000", "A1234")
    assert stored.extension is not None and stored.extension.until.isoformat() == "2026-12-01"
    assert "officer.extend" in audit_actions(context)
    updates = await connector.wait_for(lambda sent: any(s.method == "PUT" for s in sent))
    assert "Monitoring extended" in next(s for s in updates if s.method == "PUT").text
    context.clock = lambda: datetime(2026, 12, 2, 4, 30, tzinfo=UTC)  # 23:30 Eastern on Dec 1: the last day
    assert await recheck(context, None) == []
    context.clock = lambda: datetime(2026, 12, 2, 5, 30, tzinfo=UTC)  # 00:30 Eastern on Dec 2: the day after
    assert await recheck(context, None) == ["9000:A1234"]
    sent = await connector.wait_for(lambda sent: len(readiness_cards(sent)) == 2)
    assert "(ended)" in readiness_cards(sent)[1].text


async def test_a_poc_cannot_open_extend(bot_client: Any, connector: FakeConnector) -> None:
    client = await start(bot_client, connector)
    await make_ready(client, connector)
    answer = json.dumps(await press(client, connector, "officer.extend", IDS, user=POC_AAD, name="Pat Poc"))
    assert "Only JB e-ticket staff may extend monitoring" in answer and "Input.Date" not in answer


# ---- /status, /audit --------------------------------------------------------------------------------


async def test_status_for_the_poc_shows_progress(bot_client: Any, connector: FakeConnector) -> None:
    client = await start(bot_client, connector)
    first = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    await post_events(client, {"events": [accepted(1, first), accepted(2, first + timedelta(days=1))]})
    replies = await say(client, connector, "/status")
    text = replies[0].text
    assert "Your officers' e-ticket status" in text and "Casey Officer (A1234)" in text
    assert "In monitoring: 2 of 3 accepted, 4 of 7 days, 2 of 3 e-tickets accepted without a problem" in text
    assert "clean" not in text and "in a row" not in text  # issue 14: words a clerk knows
    assert teams_findings(replies[0].cards[0]) == []
    other = await say(client, connector, "/status 9001")
    assert "your own agencies only" in other[0].text
    bad = await say(client, connector, "/status hello")
    assert "neither a Judiciary Code" in bad[0].text
    one = await say(client, connector, "/status a1234")
    assert "In monitoring: not ready for approval" in one[0].text and "Approve" not in one[0].text


async def test_status_for_jb_shows_ready_first_open_incidents_and_failed_notices(
    bot_client: Any, connector: FakeConnector
) -> None:
    client = await start(bot_client, connector)
    context = context_of(client)
    await context.db.commit([context.db.officers.put(officer("B2345"))])
    await make_ready(client, connector)
    await post_events(
        client,
        {
            "event_id": "rej",
            "type": "rejected",
            "ticket_number": "VT-0099",
            "officer_number": "B2345",
            "judiciary_code": "9000",
            "occurred_at": "2026-11-27T15:00:00Z",
            "reason": "Bad plate",
        },
    )
    failed = Notice(
        id="failed-1",
        seq=context.db.outbox.next_seq(),
        conversation_id=AGENCY_CHANNEL,
        card={},
        created_at=NOW,
        summary="E-ticket VT-0042: rejected",
        status="failed",
        error="403 MessageWritesBlocked",
        finished_at=NOW,
    )
    await context.db.commit([context.db.outbox.put(failed)])
    replies = await say(client, connector, "/status", user=JB_AAD, name="Jamie Staff")
    text = replies[0].text
    assert text.index("Ready for approval") < text.index("In monitoring")
    assert "Casey Officer (A1234)" in text and "B2345" in text
    assert "E-ticket VT-0099" in text
    assert "Failed notices" in text and "Williston PD / e-Tickets" in text and "403 MessageWritesBlocked" in text
    assert "Nov 28, 2026 12:00 PM EST" in text


async def test_status_with_200_officers_pages_under_the_teams_limit(bot_client: Any, connector: FakeConnector) -> None:
    client = await start(bot_client, connector)
    context = context_of(client)
    long = "Christopher-Alexander " * 4
    ops = [
        context.db.officers.put(
            officer(f"C{i:04d}").model_copy(update={"first_name": long.strip(), "last_name": long.strip()})
        )
        for i in range(200)
    ]
    await context.db.commit(ops)
    replies = await say(client, connector, "/status", user=JB_AAD, name="Jamie Staff")
    card = replies[0].cards[0]
    assert teams_findings(card) == [] and len(json.dumps(card).encode()) < 28 * 1024
    assert "Page 1 of 9" in replies[0].text
    page = card["actions"][-1]
    assert page["title"] == "Next page"
    second = await press(
        client,
        connector,
        "list.page",
        {k: v for k, v in page["data"].items() if k != "verb"},
        kind="personal",
        reply_to=replies[0].activity_id or "",
    )
    assert "Page 2 of 9" in json.dumps(second) and len(json.dumps(second).encode()) < 28 * 1024


async def test_audit_shows_who_what_when_before_and_after(bot_client: Any, connector: FakeConnector) -> None:
    client = await start(bot_client, connector)
    card = await make_ready(client, connector)
    await press(client, connector, "officer.approve", IDS, reply_to=card.activity_id or "")
    replies = await say(client, connector, "/audit a1234", user=JB_AAD, name="Jamie Staff")
    text = replies[0].text
    assert "Audit history of A1234" in text
    assert f"By Jamie Staff ({JB_AAD})" in text
    assert "Approved" in text and "state: monitoring → approved" in text and "Nov 28, 2026 12:00 PM EST" in text
    assert teams_findings(replies[0].cards[0]) == []
    refused = await say(client, connector, "/audit A1234")
    assert "Only JB e-ticket staff" in refused[0].text
    bad = await say(client, connector, "/audit 1234", user=JB_AAD, name="Jamie Staff")
    assert "not an officer number" in bad[0].text


# ---- /withdraw ----------------------------------------------------------------------------------------


async def test_withdraw_with_confirm_then_tickets_raise_unknown_officer(
    bot_client: Any, connector: FakeConnector
) -> None:
    client = await start(bot_client, connector)
    replies = await say(client, connector, "/withdraw a1234")
    confirm = replies[0].cards[0]
    assert teams_findings(confirm) == []
    assert [a["title"] for a in confirm["actions"]] == ["Withdraw", "Cancel"]
    refused = json.dumps(
        await press(client, connector, "officer.withdraw_confirm", IDS, user=OTHER_AAD, name="Someone", kind="personal")
    )
    assert "Only the agency's Point-of-Contact or JB e-ticket staff may withdraw" in refused
    done = json.dumps(
        await press(
            client,
            connector,
            "officer.withdraw_confirm",
            IDS,
            user=POC_AAD,
            name="Pat Poc",
            kind="personal",
            reply_to=replies[0].activity_id or "",
        )
    )
    assert "Withdrawn by Pat Poc" in done
    context = context_of(client)
    assert context.db.officers.get("9000", "A1234").state is OfficerState.WITHDRAWN
    assert "officer.withdraw" in audit_actions(context)
    # a ticket issued after the withdrawal (one issued before it is still theirs)
    response = await post_events(client, accepted(1, NOW + timedelta(minutes=30)))
    kinds = [i["kind"] for i in (await response.json())["results"][0]["incidents"]]
    assert kinds == ["unknown_officer"]
    again = await say(client, connector, "/withdraw A1234")
    assert "withdrawn already" in again[0].text


async def test_withdraw_asks_which_agency_and_explains_bad_arguments(bot_client: Any, connector: FakeConnector) -> None:
    client = await start(bot_client, connector)
    await seed_agency(context_of(client), judiciary_code="9001")
    replies = await say(client, connector, "/withdraw A1234")
    assert "from which agency" in replies[0].text
    assert [a["data"]["judiciary_code"] for a in replies[0].cards[0]["actions"][:2]] == ["9000", "9001"]
    narrowed = await say(client, connector, "/withdraw A1234 9001")
    assert "Withdraw this officer?" in narrowed[0].text
    assert "not an officer number" in (await say(client, connector, "/withdraw 12345"))[0].text
    assert "Type /withdraw ‹officer number›" in (await say(client, connector, "/withdraw"))[0].text
    assert (
        "not in a package you are the Point-of-Contact of"
        in (await say(client, connector, "/withdraw A1234", user=OTHER_AAD, name="Someone"))[0].text
    )


async def test_approved_stamp_survives_a_restart(
    bot_client: Any, connector: FakeConnector, settings_for: Callable[..., Settings]
) -> None:
    client = await start(bot_client, connector)
    card = await make_ready(client, connector)
    await press(client, connector, "officer.approve", IDS, reply_to=card.activity_id or "")
    await client.close()
    again = await bot_client(settings_for())
    stored = context_of(again).db.officers.get("9000", "A1234")
    assert stored.state is OfficerState.APPROVED and stored.approved == Stamp(
        actor=Actor(aad_id=JB_AAD, name="Jamie Staff"), at=NOW
    )
