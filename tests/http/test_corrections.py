"""Corrections and undo, through real activities: each audited with before and after, the PoC told."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from domain.records import Actor, Extension, OfficerState, Stamp
from services.notices import Audience, Message, Notice
from tests.bot.package_flow import Chat, inputs, text_of
from tests.support.factories import JB_AAD, OTHER_AAD, POC_AAD
from tests.support.fake_connector import FakeConnector
from tests.support.seed import SUBMITTED_AT, seed_agency

JB = Actor(aad_id=JB_AAD, name="Jo Bureau")


async def people(client: Any, connector: FakeConnector) -> tuple[Chat, Chat]:
    poc, jb = Chat(client, connector), Chat(client, connector, user_aad=JB_AAD, user_name="Jo Bureau")
    await poc.type("/help")
    await jb.type("/help")
    await seed_agency(poc.app)
    return poc, jb


def audited(chat: Chat, action: str) -> list[Any]:
    return [e for e in chat.app.db.audit.of_target("officer:9000:A1234") if e.action == action]


async def test_the_poc_corrects_a_dps_username_without_restarting_monitoring(
    bot_client: Any, connector: FakeConnector
) -> None:
    poc, _ = await people(await bot_client(), connector)
    before = poc.app.db.officers.get("9000", "A1234")
    form = await poc.type("/edit-officer a1234")
    assert inputs(form)["dps_username"]["value"] == "cofficer"
    refused = await poc.press("Save", {"dps_username": "."})
    assert "starting with a letter or digit" in text_of(refused)
    assert poc.app.db.officers.get("9000", "A1234").dps_username == "cofficer"  # type: ignore[union-attr]
    await poc.press("Save", {"dps_username": "casey.officer"})
    after = poc.app.db.officers.get("9000", "A1234")
    assert after is not None and before is not None
    assert after.dps_username == "casey.officer" and after.added == before.added  # monitoring goes on
    (entry,) = audited(poc, "officer.edit")
    assert entry.before == {"dps_username": "cofficer"} and entry.after == {"dps_username": "casey.officer"}
    other = Chat(poc.client, connector, user_aad=OTHER_AAD, user_name="Olive Other")
    assert "Not your agency's officer" in text_of(await other.type("/edit-officer A1234"))


async def test_staff_return_an_approved_officer_to_monitoring_with_a_reason(
    bot_client: Any, connector: FakeConnector
) -> None:
    poc, jb = await people(await bot_client(), connector)
    officer = poc.app.db.officers.get("9000", "A1234")
    assert officer is not None
    approved = officer.model_copy(
        update={
            "state": OfficerState.APPROVED,
            "approved": Stamp(actor=JB, at=SUBMITTED_AT),
            "approval_date": date(2026, 11, 2),
        }
    )
    await poc.app.db.commit([poc.app.db.officers.put(approved)])
    assert "Return to monitoring" not in text_of(await poc.type("/status A1234"))  # the PoC's copy has no such button
    card = await jb.type("/status A1234")
    form = await jb.press("Return to monitoring", card=card)
    assert inputs(form)["reason"]["isRequired"]
    still = await jb.press("Return to monitoring", {"reason": "\u200b"})
    assert "letters or digits" in text_of(still)
    assert poc.app.db.officers.get("9000", "A1234").state is OfficerState.APPROVED  # type: ignore[union-attr]
    done = await jb.press("Return to monitoring", {"reason": "Two rejections after approval"})
    assert "In monitoring" in text_of(done)
    back = poc.app.db.officers.get("9000", "A1234")
    assert back is not None and back.state is OfficerState.MONITORING and back.approval_date is None
    assert audited(poc, "officer.return_to_monitoring")[0].after["reason"] == "Two rejections after approval"
    await connector.wait_for(
        lambda sent: any(s.conversation_id == "a:personal-11111111" and "returned" in s.text for s in sent)
    )
    refused = await poc.invoke("officer.return_confirm", {"judiciary_code": "9000", "officer_number": "A1234"})
    assert "Only JB e-ticket staff" in text_of(refused)


async def test_staff_end_an_extension_early(bot_client: Any, connector: FakeConnector) -> None:
    poc, jb = await people(await bot_client(), connector)
    officer = poc.app.db.officers.get("9000", "A1234")
    assert officer is not None
    until = jb.app.today() + timedelta(days=10)
    extension = Extension(until=until, reason="Watch", granted=Stamp(actor=JB, at=SUBMITTED_AT))
    await poc.app.db.commit([poc.app.db.officers.put(officer.model_copy(update={"extension": extension}))])
    card = await jb.type("/status A1234")
    await jb.press("End extension", card=card)
    await jb.press("End extension", {"reason": "Enough e-tickets came in"})
    assert poc.app.db.officers.get("9000", "A1234").extension is None  # type: ignore[union-attr]
    assert audited(poc, "officer.end_extension")


async def test_staff_send_a_failed_notice_again(bot_client: Any, connector: FakeConnector) -> None:
    poc, jb = await people(await bot_client(), connector)
    connector.script = [(403, {})]  # the bot was removed from the chat: Teams refuses for good
    await poc.app.commit([], [Notice((Audience.person(POC_AAD),), Message("Hello", "again"), "Hello")])
    await connector.wait_for_attempts(1)
    for _ in range(200):  # the sender records the failure right after the attempt
        if poc.app.db.outbox.failed():
            break
        await asyncio.sleep(0.01)
    assert [n.summary for n in poc.app.db.outbox.failed()] == ["Hello"]
    status = await jb.type("/status")
    assert "Failed notices" in text_of(status)
    form = await jb.press("Send again", card=status)
    assert inputs(form)["reason"]["isRequired"]
    await jb.press("Send again", {"reason": "The PoC added the bot back"}, card=form)
    await connector.wait_for(
        lambda sent: any(s.conversation_id == "a:personal-11111111" and "Hello" in s.text for s in sent)
    )
    assert poc.app.db.outbox.failed() == []
