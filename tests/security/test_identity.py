"""Verified identities only (issue 12, finding 7).

- An activity from a channel other than Teams (``msteams``; the Bot Framework Emulator's ``emulator`` in
  local mode only) is refused with 403 and runs no turn.
- A Teams message or card press without ``from.aadObjectId`` is refused: ``from.id`` never stands in.
- Local mode binds 127.0.0.1 unless ``HOST`` says otherwise, and then warns loudly.
- An unauthenticated request never re-points a stored conversation reference to another ``serviceUrl``
  (a forged message in local mode cannot redirect the JB channel's alerts); an authenticated one may.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

import app as app_module
from app import CONTEXT
from services.notices import Audience, Message, Notice
from settings import Settings
from tests.security.test_bot_auth import APP_ID, MetadataServer, post, silent_activity, token
from tests.support.factories import JB_AAD, make_activity, make_invoke, make_message
from tests.support.fake_connector import FakeConnector
from tests.support.seed import mark_jb_channel

JB_CHANNEL = "19:jb-channel@thread.tacv2"
POC_CHAT = "a:personal-11111111"


@pytest.mark.parametrize("channel", ["webchat", "directline", "slack", "test", "MSTEAMS", "emulator "])
async def test_an_activity_from_another_channel_is_refused_and_runs_no_turn(
    bot_client: Callable[..., Any], connector: FakeConnector, caplog: pytest.LogCaptureFixture, channel: str
) -> None:
    client = await bot_client()
    for activity in (
        make_message("/help", connector.url, channelId=channel),
        make_invoke("package.acknowledge", {"judiciary_code": "9000"}, connector.url, channelId=channel),
    ):
        response = await client.post("/api/messages", json=activity)
        assert response.status == 403, (channel, response.status)
    assert client.server.app[CONTEXT].db.conversations.get(POC_CHAT) is None, "no turn ran"
    assert connector.sent == []
    refusals = [r.getMessage() for r in caplog.records if "channel" in r.getMessage() and "refused" in r.getMessage()]
    assert refusals, "the refusal is logged"
    assert all("Pat Poc" not in line for line in refusals), "ids only, no names"


async def test_the_emulator_is_accepted_in_local_mode_only(
    bot_client: Callable[..., Any], connector: FakeConnector, settings_for: Callable[..., Settings]
) -> None:
    client = await bot_client()
    response = await client.post("/api/messages", json=make_message("/help", connector.url, channelId="emulator"))
    assert response.status in (200, 201)
    await connector.wait_for(lambda sent: len(sent) == 1)

    metadata = MetadataServer()
    try:
        secured = await bot_client(
            settings_for(
                MicrosoftAppId=APP_ID,
                MicrosoftAppPassword="not-a-real-password",
                TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=metadata.url,
                DATA_DIR=str(client.server.app[CONTEXT].settings.data_dir) + "-secured",
            )
        )
        activity = silent_activity(connector.url) | {"channelId": "emulator"}
        response = await post(secured, activity, f"Bearer {token(activity['serviceUrl'])}")
        assert response.status == 403
    finally:
        metadata.close()


@pytest.mark.parametrize("kind", ["personal", "channel"])
async def test_a_teams_message_or_press_without_an_aad_object_id_is_refused(
    bot_client: Callable[..., Any], connector: FakeConnector, kind: str
) -> None:
    client = await bot_client()
    sender = {"id": f"29:{JB_AAD}", "name": "Jamie Staff"}  # from.id of a JB staff member, no aadObjectId
    activities = [
        (make_message("/subscribe jb", connector.url, mention=True, kind=kind), sender),
        (make_invoke("package.acknowledge", {"judiciary_code": "9000"}, connector.url, kind=kind), sender),
        (make_message("/help", connector.url, kind=kind), sender | {"aadObjectId": "  "}),
    ]
    for activity, sent_from in activities:
        activity["from"] = sent_from  # a factory override would merge into the default sender
        response = await client.post("/api/messages", json=activity)
        assert response.status == 403, (activity["type"], response.status, await response.text())
    db = client.server.app[CONTEXT].db
    assert db.conversations.get(POC_CHAT) is None and db.conversations.get("19:agency-channel@thread.tacv2") is None
    assert db.subscriptions.conversation_for(db.subscriptions.JB) is None
    assert db.audit.count() == 0 and connector.sent == []


async def test_a_bot_install_without_an_aad_object_id_is_still_welcomed(
    bot_client: Callable[..., Any], connector: FakeConnector
) -> None:
    client = await bot_client()
    added = make_activity("conversationUpdate", connector.url, kind="channel")
    added["from"] = {"id": "29:someone"}
    added["membersAdded"] = [{"id": "28:jb-eticket-bot"}]
    response = await client.post("/api/messages", json=added)
    assert response.status in (200, 201)
    await connector.wait_for(lambda sent: len(sent) == 1)


def _main_binds(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, **env: str) -> str:
    for name in ("MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppType", "MicrosoftAppTenantId", "HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    bound: dict[str, Any] = {}
    monkeypatch.setattr(app_module.web, "run_app", lambda application, **kwargs: bound.update(kwargs))
    app_module.main([])
    return str(bound["host"])


def test_local_mode_binds_loopback_unless_host_says_otherwise(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    assert _main_binds(monkeypatch, tmp_path) == "127.0.0.1"
    assert not [r for r in caplog.records if "HOST" in r.getMessage()]

    caplog.clear()
    assert _main_binds(monkeypatch, tmp_path, HOST="0.0.0.0") == "0.0.0.0"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "HOST" in r.getMessage()]
    assert warnings and "0.0.0.0" in warnings[0] and "NOT authenticated" in warnings[0], warnings

    caplog.clear()
    with_app_id = {"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "not-a-real-password"}
    assert _main_binds(monkeypatch, tmp_path, **with_app_id) == "0.0.0.0", "an authenticating bot serves the network"
    assert _main_binds(monkeypatch, tmp_path, HOST="10.1.2.3", **with_app_id) == "10.1.2.3"
    assert not [r for r in caplog.records if "HOST" in r.getMessage()], "no warning when requests are authenticated"


def test_host_must_be_an_address_or_a_host_name() -> None:
    assert Settings.from_env({"HOST": "::1"}).host == "::1"
    assert Settings.from_env({"HOST": "bot.internal"}).host == "bot.internal"
    for bad in ("http://0.0.0.0", "a b", "0.0.0.0:3978"):
        with pytest.raises(ValueError, match="HOST"):
            Settings.from_env({"HOST": bad})


async def test_a_forged_message_in_local_mode_does_not_re_point_the_jb_channel(
    bot_client: Callable[..., Any], connector: FakeConnector
) -> None:
    forger = await FakeConnector().start()
    try:
        client = await bot_client()
        context = client.server.app[CONTEXT]
        jb_channel = dict(kind="channel", channel=JB_CHANNEL, user_aad=JB_AAD, user_name="Jamie Staff")
        await client.post("/api/messages", json=make_message("/help", connector.url, mention=True, **jb_channel))
        await connector.wait_for(lambda sent: len(sent) == 1)
        await mark_jb_channel(context, JB_CHANNEL)
        # a forged message in the same conversation, from a serviceUrl of the forger's
        await client.post("/api/messages", json=make_message("/help", forger.url, mention=True, **jb_channel))
        await forger.wait_for(lambda sent: len(sent) == 1)  # the forger gets the in-turn reply, nothing more
        record = context.db.conversations.get(JB_CHANNEL)
        assert record is not None and record.reference["serviceUrl"] == connector.url

        await context.commit([], [Notice((Audience.jb(),), Message("JB alert", "body"), summary="JB alert")])
        await connector.wait_for(lambda sent: any("JB alert" in item.text for item in sent))
        assert not any("JB alert" in item.text for item in forger.sent)
    finally:
        await forger.close()


async def test_an_authenticated_request_may_move_a_conversation_to_a_new_service_url(
    bot_client: Callable[..., Any], connector: FakeConnector, settings_for: Callable[..., Settings]
) -> None:
    metadata = MetadataServer()
    try:
        client = await bot_client(
            settings_for(
                MicrosoftAppId=APP_ID,
                MicrosoftAppPassword="not-a-real-password",
                TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=metadata.url,
            )
        )
        first = silent_activity(connector.url)
        assert (await post(client, first, f"Bearer {token(first['serviceUrl'])}")).status in (200, 201)
        moved = silent_activity("http://127.0.0.1:1/moved/")
        assert (await post(client, moved, f"Bearer {token(moved['serviceUrl'])}")).status in (200, 201)
        record = client.server.app[CONTEXT].db.conversations.get("19:group@thread.v2")
        assert record is not None and record.reference["serviceUrl"] == "http://127.0.0.1:1/moved/"
    finally:
        metadata.close()
