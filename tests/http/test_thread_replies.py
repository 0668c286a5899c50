"""A notice ``thread_of`` a delivered card is, in a channel, a reply in that card's thread; elsewhere a new message."""

from __future__ import annotations

from typing import Any

from app import CONTEXT
from services.notices import Audience, CopiesUpdate, Message, Notice
from tests.support.factories import POC_AAD, make_message
from tests.support.fake_connector import FakeConnector
from tests.support.seed import mark_jb_channel
from tests.support.waiting import settled

JB_CHANNEL = "19:jb-channel@thread.tacv2"


async def test_a_notice_in_the_thread_of_a_channel_card_replies_under_it(
    bot_client: Any, connector: FakeConnector
) -> None:
    client = await bot_client()
    await client.post(
        "/api/messages", json=make_message("/help", connector.url, mention=True, kind="channel", channel=JB_CHANNEL)
    )
    await connector.wait_for(lambda sent: len(sent) >= 1)
    context = client.server.app[CONTEXT]
    await mark_jb_channel(context, JB_CHANNEL)
    connector.sent.clear()

    await context.commit([], [Notice((Audience.jb(),), Message("Alert", "first"), "Alert", subject="incident:x")])
    (root,) = await connector.wait_for(lambda sent: len(sent) >= 1)
    assert root.conversation_id == JB_CHANNEL
    await settled(lambda: context.db.outbox.of_subject("incident:x")[0].status == "sent")

    again = Notice(
        (Audience.jb(),), Message("Raised again", "second"), "Again", subject="incident:x", thread_of="incident:x"
    )
    await context.commit([], [again])
    sent = await connector.wait_for(lambda sent: len(sent) >= 2)
    assert sent[1].conversation_id == f"{JB_CHANNEL};messageid={root.activity_id}"
    assert "Raised again" in sent[1].text

    # an update of the subject reaches the root and the reply, the reply addressed in its thread
    await settled(lambda: all(e.status == "sent" for e in context.db.outbox.of_subject("incident:x")))
    await context.commit([], [], [CopiesUpdate("incident:x", Message("Resolved", "done"))])
    updates = await connector.wait_for(lambda sent: sum(1 for s in sent if s.method == "PUT") >= 2)
    puts = {(s.conversation_id, s.activity_id) for s in updates if s.method == "PUT"}
    assert puts == {
        (JB_CHANNEL, root.activity_id),
        (f"{JB_CHANNEL};messageid={root.activity_id}", sent[1].activity_id),
    }


async def test_in_a_personal_chat_a_threaded_notice_is_a_new_message(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await client.post("/api/messages", json=make_message("/help", connector.url))
    await connector.wait_for(lambda sent: len(sent) >= 1)
    connector.sent.clear()
    context = client.server.app[CONTEXT]
    person = (Audience.person(POC_AAD),)
    await context.commit([], [Notice(person, Message("Alert", "first"), "Alert", subject="incident:y")])
    await connector.wait_for(lambda sent: len(sent) >= 1)
    await settled(lambda: context.db.outbox.of_subject("incident:y")[0].status == "sent")
    await context.commit(
        [], [Notice(person, Message("Again", "x"), "Again", subject="incident:y", thread_of="incident:y")]
    )
    sent = await connector.wait_for(lambda sent: len(sent) >= 2)
    assert sent[1].conversation_id == "a:personal-11111111"
