"""POST /api/messages with real activity JSON; replies go to a local fake connector."""

from __future__ import annotations

import json
from typing import Any

from tests.support.factories import JB_AAD, make_activity, make_bot_added, make_message
from tests.support.fake_connector import FakeConnector


async def test_help_in_a_personal_chat_answers_with_the_command_card(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    staff = make_message("/help", connector.url, user_aad=JB_AAD, user_name="Jamie Staff")  # JB staff see every one
    response = await client.post("/api/messages", json=staff)
    assert response.status in (200, 201)
    sent = await connector.wait_for(lambda sent: len(sent) >= 1)
    assert sent[0].cards, "help must be a card"
    for usage in (
        "/new-package",
        "/add-officer",
        "/withdraw",
        "/package",
        "/status",
        "/subscribe",
        "/set-poc",
        "/audit",
        "/help",
    ):
        assert usage in sent[0].text


async def test_help_in_a_channel_with_a_mention_answers_in_that_channel(
    bot_client: Any, connector: FakeConnector
) -> None:
    client = await bot_client()
    activity = make_message("HELP", connector.url, mention=True, kind="channel")
    await client.post("/api/messages", json=activity)
    sent = await connector.wait_for(lambda sent: len(sent) >= 1)
    assert sent[0].conversation_id.startswith("19:agency-channel@thread.tacv2")
    assert "/new-package" in sent[0].text


async def test_unknown_text_gets_help_never_silence(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await client.post("/api/messages", json=make_message("good morning", connector.url))
    sent = await connector.wait_for(lambda sent: len(sent) >= 1)
    assert 'I don\'t know "good"' in sent[0].text
    assert "/help" in sent[0].text


async def test_installing_the_bot_sends_a_welcome_card(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await client.post("/api/messages", json=make_bot_added(connector.url))
    sent = await connector.wait_for(lambda sent: len(sent) >= 1)
    assert "Welcome to the JB e-Ticket Bot" in sent[0].text


async def test_healthz_reports_storage(bot_client: Any) -> None:
    client = await bot_client()
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "store": "embedded", "storage": "ok"}


async def test_bad_bodies_get_clear_statuses_not_500(bot_client: Any) -> None:
    client = await bot_client()
    not_json = await client.post("/api/messages", data=b"{oops", headers={"Content-Type": "application/json"})
    assert not_json.status == 400
    wrong_type = await client.post("/api/messages", data=b"hello", headers={"Content-Type": "text/plain"})
    assert wrong_type.status == 415
    no_type = await client.post("/api/messages", json={"text": "no type"})
    assert no_type.status == 400


async def test_other_tenants_are_refused_when_allowed_tenants_is_set(
    bot_client: Any, connector: FakeConnector, settings_for: Any
) -> None:
    client = await bot_client(settings_for(ALLOWED_TENANTS="tenant-vermont"))
    outsider = make_message(
        "/help",
        connector.url,
        channelData={"tenant": {"id": "tenant-elsewhere"}},
        conversation={"tenantId": "tenant-elsewhere"},
    )
    await client.post("/api/messages", json=outsider)
    await client.post("/api/messages", json=make_message("/help", connector.url))
    sent = await connector.wait_for(lambda sent: len(sent) >= 1)
    assert len(sent) == 1 and sent[0].conversation_id == "a:personal-11111111"


async def test_conversation_references_survive_a_restart(
    bot_client: Any, connector: FakeConnector, settings_for: Any
) -> None:
    settings = settings_for()
    first = await bot_client(settings)
    await first.post("/api/messages", json=make_message("/help", connector.url))
    await first.post("/api/messages", json=make_message("/help", connector.url, mention=True, kind="channel"))
    await first.post(
        "/api/messages", json=make_activity("installationUpdate", connector.url, kind="groupChat", action="add")
    )
    await first.close()

    from storage.repositories import Database

    db = await Database.open(settings.data_dir)
    try:
        personal = db.conversations.personal_chat_of("11111111-1111-4111-8111-111111111111")
        assert personal is not None and personal.kind == "personal"
        channel = db.conversations.get("19:agency-channel@thread.tacv2")
        assert channel is not None and channel.kind == "channel" and channel.name == "Williston PD / e-Tickets"
        assert db.conversations.get("19:group@thread.v2") is not None
    finally:
        await db.close()


async def test_an_unchanged_conversation_reference_does_not_touch_the_disk(
    bot_client: Any, connector: FakeConnector, settings_for: Any
) -> None:
    settings = settings_for()
    client = await bot_client(settings)
    await client.post("/api/messages", json=make_message("/help", connector.url))
    await connector.wait_for(lambda sent: len(sent) >= 1)
    before = {path.name: (path.stat().st_size, path.stat().st_mtime_ns) for path in settings.data_dir.iterdir()}
    await client.post("/api/messages", json=make_message("/help", connector.url))
    await connector.wait_for(lambda sent: len(sent) >= 2)
    after = {path.name: (path.stat().st_size, path.stat().st_mtime_ns) for path in settings.data_dir.iterdir()}
    assert after == before


async def test_the_welcome_card_comes_once_per_conversation(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await client.post("/api/messages", json=make_bot_added(connector.url))
    await client.post("/api/messages", json=make_bot_added(connector.url))
    await client.post("/api/messages", json=make_message("/help", connector.url))
    sent = await connector.wait_for(lambda sent: len(sent) >= 2)
    assert ["Welcome to the JB e-Ticket Bot" in item.text for item in sent] == [True, False]


async def test_a_press_whose_verb_is_not_text_gets_the_out_of_use_card(
    bot_client: Any, connector: FakeConnector
) -> None:
    from tests.support.factories import make_invoke

    client = await bot_client()
    for junk in (["officer.approve"], {"v": 1}, 7, None):
        press = make_invoke("x", {}, connector.url)
        press["value"]["action"]["verb"] = junk
        answer = await client.post("/api/messages", json=press)
        assert answer.status == 200
        assert "This button is no longer in use" in json.dumps(await answer.json())
