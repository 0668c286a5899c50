"""A notice with nowhere to go yet waits for its reader, and is delivered when a conversation appears."""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity

from bot.conversations import record_of
from tests.bot.package_flow import Chat, officer, text_of
from tests.support.factories import JB_AAD, OTHER_AAD, make_bot_added, make_message
from tests.support.fake_connector import FakeConnector

JB_CHANNEL = "19:jb-channel@thread.tacv2"


def packages_in(connector: FakeConnector, conversation_id: str) -> list[Any]:
    return [
        s
        for s in connector.sent
        if s.conversation_id == conversation_id and "New Information Package" in s.text and s.method == "POST"
    ]


async def test_a_package_sent_before_any_jb_conversation_reaches_the_jb_channel_once_it_subscribes(
    bot_client: Any, connector: FakeConnector
) -> None:
    client = await bot_client()
    poc = Chat(client, connector)
    confirmation = await poc.submit_package()
    assert "have not connected to this bot in Teams yet" in text_of(confirmation)
    assert "Sent to the Judicial Bureau" not in text_of(confirmation)
    waiting = poc.app.db.outbox.waiting("jb")
    assert [n.summary for n in waiting] == ["New Information Package 9000"]
    jb = Chat(client, connector, user_aad=JB_AAD, user_name="Jo Bureau")
    await jb.type("/subscribe jb", mention=True, kind="channel", channel=JB_CHANNEL)
    await connector.wait_for(lambda sent: bool(packages_in(connector, JB_CHANNEL)))
    card = packages_in(connector, JB_CHANNEL)[0]
    assert "Acknowledge" in card.text and "Williston Police Department" in card.text
    assert poc.app.db.outbox.waiting() == []
    assert len(packages_in(connector, JB_CHANNEL)) == 1


async def test_a_package_that_reached_one_jb_chat_first_is_posted_to_the_jb_channel_when_it_subscribes(
    bot_client: Any, connector: FakeConnector
) -> None:
    """The Agents Playground (and a Teams install in 1:1) brings the waiting package to a JB staff member's chat;
    the JB channel marked later still gets it with Acknowledge, once, and Acknowledge there updates both copies."""
    client = await bot_client()
    poc = Chat(client, connector)
    await poc.submit_package()
    installed = await client.post("/api/messages", json=make_bot_added(connector.url, user_aad=JB_AAD))
    assert installed.status in (200, 201)
    personal = poc.app.db.conversations.personal_chat_of(JB_AAD)
    assert personal is not None
    await connector.wait_for(lambda sent: bool(packages_in(connector, personal.conversation_id)))

    jb = Chat(client, connector, user_aad=JB_AAD, user_name="Jo Bureau")
    answer = await jb.type("/subscribe jb", mention=True, kind="channel", channel=JB_CHANNEL)
    assert "I post the notice still waiting for the JB here now." in text_of(answer)
    await connector.wait_for(lambda sent: bool(packages_in(connector, JB_CHANNEL)))
    card = packages_in(connector, JB_CHANNEL)[0]
    assert "Acknowledge" in card.text and "Williston Police Department" in card.text
    again = await jb.type("/subscribe jb", mention=True, kind="channel", channel=JB_CHANNEL)
    assert "still waiting" not in text_of(again)
    assert len(packages_in(connector, JB_CHANNEL)) == 1, "a channel marked again gets no second copy"

    copy = next(e for e in poc.app.db.outbox.of_subject("package:9000") if e.conversation_id == JB_CHANNEL)
    assert copy.activity_id is not None
    done = await jb.press(
        "Acknowledge", card=card.cards[0], kind="channel", channel=JB_CHANNEL, reply_to_id=copy.activity_id
    )
    assert "Acknowledged by Jo Bureau" in text_of(done)
    await connector.wait_for(
        lambda sent: any(
            s.method == "PUT"
            and s.conversation_id == personal.conversation_id
            and "Acknowledged by Jo Bureau" in s.text
            for s in sent
        )
    )


async def test_a_jb_staff_members_first_message_brings_what_waited_for_the_jb(
    bot_client: Any, connector: FakeConnector
) -> None:
    client = await bot_client()
    await Chat(client, connector).submit_package()
    jb = Chat(client, connector, user_aad=JB_AAD, user_name="Jo Bureau")
    await jb.type("/help")
    await connector.wait_for(lambda sent: bool(packages_in(connector, "a:personal-22222222")))
    assert jb.app.db.outbox.waiting() == []


async def test_what_waits_survives_a_restart_and_is_released_at_start(
    bot_client: Any, connector: FakeConnector, settings_for: Any
) -> None:
    settings = settings_for()
    client = await bot_client(settings)
    poc = Chat(client, connector)
    await poc.submit_package()
    # the JB's 1:1 chat becomes known without a turn that could release it (stored directly, as after a
    # crash between saving a reference and releasing what waited)
    activity = Activity().deserialize(make_message("/help", connector.url, user_aad=JB_AAD, user_name="Jo Bureau"))
    await poc.app.db.conversations.save(record_of(activity))
    await client.close()
    restarted = await bot_client(settings)
    await connector.wait_for(lambda sent: bool(packages_in(connector, "a:personal-22222222")))
    assert Chat(restarted, connector).app.db.outbox.waiting() == []


async def test_jb_status_lists_packages_awaiting_acknowledgment_with_acknowledge(
    bot_client: Any, connector: FakeConnector
) -> None:
    client = await bot_client()
    await Chat(client, connector).submit_package()
    jb = Chat(client, connector, user_aad=JB_AAD, user_name="Jo Bureau")
    status = await jb.type("/status")
    assert "Awaiting acknowledgment" in text_of(status) and "1 awaiting acknowledgment" in text_of(status)
    done = await jb.press("Acknowledge")
    assert "Acknowledged by Jo Bureau" in text_of(done)
    assert jb.app.db.packages.get("9000").acknowledged is not None  # type: ignore[union-attr]
    again = await jb.type("/status")
    assert "Awaiting acknowledgment" not in text_of(again)


async def test_a_notice_to_a_person_without_a_chat_waits_for_their_first_message(
    bot_client: Any, connector: FakeConnector
) -> None:
    client = await bot_client()
    connector.members = [{"id": f"29:{OTHER_AAD}", "name": "Olive Other", "aadObjectId": OTHER_AAD}]
    await Chat(client, connector).submit_package()
    jb = Chat(client, connector, user_aad=JB_AAD, user_name="Jo Bureau")
    mention = {"type": "mention", "text": "<at>Olive Other</at>", "mentioned": {"id": f"29:{OTHER_AAD}"}}
    await jb.type("/set-poc 9000 <at>Olive Other</at>", entities=[mention])  # Teams gave no e-mail: JB types it
    changed = await jb.press("Submit", {"poc_email": "olive@williston.example"})
    assert "no 1:1 chat with them yet" in text_of(changed)
    assert [n.summary for n in jb.app.db.outbox.waiting(f"person:{OTHER_AAD}")] == ["You are now the Point-of-Contact"]
    await Chat(client, connector, user_aad=OTHER_AAD, user_name="Olive Other").type("/help")
    await connector.wait_for(
        lambda sent: any(
            s.conversation_id == "a:personal-33333333" and "now the Point-of-Contact" in s.text for s in sent
        )
    )


async def test_officers_added_later_are_acknowledged_by_the_jb_and_the_poc_is_told(
    bot_client: Any, connector: FakeConnector
) -> None:
    """SOP 6.3 for officers added to a package the JB already acknowledged."""
    client = await bot_client()
    jb = Chat(client, connector, user_aad=JB_AAD, user_name="Jo Bureau")
    await jb.type("/help")
    poc = Chat(client, connector)
    await poc.submit_package()
    status = await jb.type("/status")
    await jb.press("Acknowledge", card=status)
    await poc.type("/add-officer")
    await poc.press("Next: review", officer("C3456", first="Lee", username="lee"))
    await poc.press("Submit", {"officers_trained": "true"})

    def added_cards(sent: list[Any]) -> list[Any]:
        return [s for s in sent if s.conversation_id == "a:personal-22222222" and "Officers added" in s.text]

    sent = await connector.wait_for(lambda sent: bool(added_cards(sent)))
    card = added_cards(sent)[0]
    assert "Acknowledge" in card.text
    listed = await jb.type("/status")
    assert "Officers added to Williston Police Department" in text_of(listed) and "C3456" in text_of(listed)
    done = await jb.press("Acknowledge", card=card.cards[0], reply_to_id=card.activity_id)
    assert "Acknowledged by Jo Bureau" in text_of(done) and not done.get("actions")
    assert poc.app.db.officers.get("9000", "C3456").acknowledged is not None  # type: ignore[union-attr]
    await connector.wait_for(
        lambda sent: any(
            s.conversation_id == "a:personal-11111111" and "Officers acknowledged: Lee Officer (C3456)" in s.text
            for s in sent
        )
    )
    again = await jb.press("Acknowledge", card=card.cards[0])
    assert "Already acknowledged by Jo Bureau" in text_of(again)
    assert "Officers added to" not in text_of(await jb.type("/status"))
