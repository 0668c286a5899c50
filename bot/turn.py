"""One turn as the handlers see it: who is speaking, where, the arguments, and how to answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity

from bot.conversations import conversation_kind, tenant_of
from domain.records import Actor
from services.context import AppContext


def card_activity(card: dict[str, Any], *, summary: str | None = None) -> Activity:
    """A message activity carrying one Adaptive Card."""
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    if summary:
        activity.summary = summary
    return activity


def actor_of(activity: Activity) -> Actor:
    """The person who sent an activity: Azure AD object id (lower case; falls back to the channel id) and name."""
    sender = activity.from_property
    if sender is None:
        return Actor(aad_id="", name="")
    aad_id = (sender.aad_object_id or sender.id or "").strip().lower()
    return Actor(aad_id=aad_id, name=(sender.name or "").strip())


@dataclass
class Turn:
    """A turn with the app's context attached; handlers take this, never a raw TurnContext alone."""

    context: TurnContext
    app: AppContext
    args: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def actor(self) -> Actor:
        """Who is speaking or pressing."""
        return actor_of(self.context.activity)

    @property
    def is_jb_staff(self) -> bool:
        """Whether the speaker is one of JB_STAFF_IDS."""
        return self.app.settings.is_jb_staff(self.actor.aad_id)

    @property
    def scope(self) -> str:
        """personal, groupChat or channel."""
        return conversation_kind(self.context.activity)

    @property
    def tenant_id(self) -> str | None:
        """The tenant of the activity, lower case."""
        return tenant_of(self.context.activity)

    async def reply_card(self, card: dict[str, Any], *, summary: str | None = None) -> str | None:
        """Send a card in this conversation; returns the new message's id."""
        response = await self.context.send_activity(card_activity(card, summary=summary))
        return response.id if response else None

    async def reply_text(self, text: str) -> None:
        """Send a short text message in this conversation."""
        await self.context.send_activity(MessageFactory.text(text))


@dataclass(frozen=True)
class ActionResult:
    """What a card action answers: the card for the one who pressed, and whether everyone's copy changes."""

    card: dict[str, Any]
    update_message: bool = False


CommandHandler = Callable[[Turn], Awaitable[None]]
ActionHandler = Callable[[Turn], Awaitable[ActionResult]]
