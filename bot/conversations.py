"""Conversation references: where the bot can write later (proactive notices), saved durably."""

from __future__ import annotations

import logging

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticationConstants, ClaimsIdentity

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


def authenticated(turn_context: TurnContext, *, local_mode: bool) -> bool:
    """Whether this turn's request carried a valid Bot Framework token (never in local mode)."""
    identity = turn_context.turn_state.get(BotAdapter.BOT_IDENTITY_KEY)
    return (
        not local_mode
        and isinstance(identity, ClaimsIdentity)
        and identity.is_authenticated
        and identity.authentication_type != AuthenticationConstants.ANONYMOUS_AUTH_TYPE
        and bool(identity.claims)
    )


async def remember(activity: Activity, repository: Conversations, *, authenticated: bool) -> None:
    """Save the reference when it is new or changed; an unchanged one touches no file.

    Only an authenticated request may move a known conversation to another ``serviceUrl`` (the token
    vouches for it) or give a 1:1 chat to another person: otherwise a forged activity in local mode
    could redirect that conversation's notices (the JB channel's alerts) to the forger.
    """
    if activity.conversation is None or not activity.conversation.id or not activity.service_url:
        return
    record = record_of(activity)
    existing = repository.get(record.conversation_id)
    if existing is not None and existing.aad_id and not record.aad_id:
        record = record.model_copy(update={"aad_id": existing.aad_id})
    if existing is not None and not authenticated:
        kept_url = existing.reference.get("serviceUrl")
        if kept_url and kept_url != record.reference.get("serviceUrl"):
            logger.warning(
                "kept the stored serviceUrl of conversation=%s: an unauthenticated request cannot change it",
                record.conversation_id,
            )
            record = record.model_copy(update={"reference": record.reference | {"serviceUrl": kept_url}})
        if existing.aad_id and record.aad_id != existing.aad_id:
            logger.warning(
                "kept the person of 1:1 conversation=%s: an unauthenticated request cannot change it",
                record.conversation_id,
            )
            record = record.model_copy(update={"aad_id": existing.aad_id})
    if existing == record:
        return
    await repository.save(record)
    logger.info("saved conversation reference kind=%s conversation=%s", record.kind, record.conversation_id)
