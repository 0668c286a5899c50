"""Activity factories: real Teams-shaped activity JSON with only what a test changes spelled out."""

from __future__ import annotations

import itertools
from typing import Any

BOT_ID = "28:jb-eticket-bot"
TENANT = "tenant-vermont"
POC_AAD = "11111111-1111-4111-8111-111111111111"
JB_AAD = "22222222-2222-4222-8222-222222222222"
OTHER_AAD = "33333333-3333-4333-8333-333333333333"

_ids = itertools.count(1)


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _merge(dict(base[key]), value)
        else:
            base[key] = value
    return base


def conversation(
    kind: str = "personal", *, user_aad: str = POC_AAD, channel: str = "19:agency-channel@thread.tacv2"
) -> dict[str, Any]:
    """The conversation block of a personal chat, group chat or team channel."""
    if kind == "personal":
        return {"id": f"a:personal-{user_aad[:8]}", "conversationType": "personal", "tenantId": TENANT}
    if kind == "groupChat":
        return {"id": "19:group@thread.v2", "conversationType": "groupChat", "isGroup": True, "tenantId": TENANT}
    return {
        "id": f"{channel};messageid=1700000000000",
        "conversationType": "channel",
        "isGroup": True,
        "tenantId": TENANT,
    }


def make_activity(
    activity_type: str,
    service_url: str,
    *,
    kind: str = "personal",
    user_aad: str = POC_AAD,
    user_name: str = "Pat Poc",
    channel: str = "19:agency-channel@thread.tacv2",
    **overrides: Any,
) -> dict[str, Any]:
    """Any activity from a user to the bot."""
    channel_data: dict[str, Any] = {"tenant": {"id": TENANT}}
    if kind == "channel":
        channel_data |= {
            "team": {"id": "19:team@thread.tacv2", "name": "Williston PD"},
            "channel": {"id": channel, "name": "e-Tickets"},
        }
    base = {
        "type": activity_type,
        "id": f"activity-{next(_ids)}",
        "timestamp": "2026-11-21T15:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": f"29:{user_aad}", "name": user_name, "aadObjectId": user_aad},
        "conversation": conversation(kind, user_aad=user_aad, channel=channel),
        "recipient": {"id": BOT_ID, "name": "JB e-Ticket Bot"},
        "channelData": channel_data,
        "locale": "en-US",
    }
    return _merge(base, overrides)


def make_message(text: str, service_url: str, *, mention: bool = False, **overrides: Any) -> dict[str, Any]:
    """A typed message; with ``mention`` it starts with an @mention of the bot, as in channels."""
    activity = make_activity("message", service_url, **overrides)
    if mention:
        tag = "<at>JB e-Ticket Bot</at>"
        activity["text"] = f"{tag} {text}"
        activity["entities"] = [
            {"type": "mention", "text": tag, "mentioned": {"id": BOT_ID, "name": "JB e-Ticket Bot"}}
        ]
    else:
        activity["text"] = text
    return activity


def make_invoke(
    verb: str, data: dict[str, Any], service_url: str, *, reply_to_id: str = "card-message-1", **overrides: Any
) -> dict[str, Any]:
    """An Action.Execute press: an ``adaptiveCard/action`` invoke with the verb and data (inputs merged in)."""
    activity = make_activity("invoke", service_url, **overrides)
    activity["name"] = "adaptiveCard/action"
    activity["replyToId"] = reply_to_id
    activity["value"] = {
        "action": {"type": "Action.Execute", "verb": verb, "data": {"verb": verb, **data}},
        "trigger": "manual",
    }
    return activity


def make_bot_added(service_url: str, *, kind: str = "personal", **overrides: Any) -> dict[str, Any]:
    """The conversationUpdate Teams sends when the bot is installed in a chat or team."""
    activity = make_activity("conversationUpdate", service_url, kind=kind, **overrides)
    activity["membersAdded"] = [{"id": BOT_ID}]
    if kind == "channel":
        activity["channelData"]["eventType"] = "teamMemberAdded"
    return activity
