"""Conversation references: where the bot can write later (proactive notices), saved durably."""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from services.ports import Conversations
from storage.repositories import ConversationRecord

logger = logging.getLogger(__name__)


def channel_data(activity: Activity) -> dict:
    """The Teams channelData of an activity as a dict (empty when absent)."""
    data = activity.channel_data
    return data if isinstance(data, dict) else {}


def tenant_of(activity: Activity) -> str | None:
    """The Azure AD tenant an activity comes from, lower case, or None."""
    tenant = (channel_data(activity).get("tenant") or {}).get("id")
    if not tenant and activity.conversation is not None:
        tenant = activity.conversation.tenant_id
    return tenant.lower() if isinstance(tenant, str) and tenant else None


def conversation_kind(activity: Activity) -> str:
    """personal, groupChat or channel (Teams' conversationType; personal when unknown)."""
    kind = activity.conversation.conversation_type if activity.conversation else None
    return kind if kind in ("personal", "groupChat", "channel") else "personal"


def base_conversation_id(activity: Activity) -> str:
    """The conversation id without a channel thread's ``;messageid=`` part (new posts go to the channel)."""
    return activity.conversation.id.split(";messageid=")[0]


def record_of(activity: Activity) -> ConversationRecord:
    """The conversation reference of an incoming activity, ready to store."""
    reference = TurnContext.get_conversation_reference(activity)
    kind = conversation_kind(activity)
    conversation_id = base_conversation_id(activity)
    reference.conversation.id = conversation_id
    reference.activity_id = None
    data = channel_data(activity)
    team = data.get("team") or {}
    channel = data.get("channel") or {}
    aad_id = activity.from_property.aad_object_id if activity.from_property else None
    return ConversationRecord(
        conversation_id=conversation_id,
        kind=kind,
        reference=reference.serialize(),
        aad_id=aad_id.lower() if kind == "personal" and aad_id else None,
        tenant_id=tenant_of(activity),
        team_id=team.get("id"),
        name=" / ".join(part for part in (team.get("name"), channel.get("name")) if part) or None,
    )


async def remember(activity: Activity, repository: Conversations) -> None:
    """Save the reference when it is new or changed; an unchanged one touches no file."""
    if activity.conversation is None or not activity.conversation.id or not activity.service_url:
        return
    record = record_of(activity)
    existing = repository.get(record.conversation_id)
    if existing is not None and existing.aad_id and not record.aad_id:
        record = ConversationRecord(**(record.model_dump(mode="json") | {"aad_id": existing.aad_id}))
    if existing == record:
        return
    await repository.save(record)
    logger.info("saved conversation reference kind=%s conversation=%s", record.kind, record.conversation_id)
