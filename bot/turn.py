"""One turn as the handlers see it: who is speaking, where, the arguments, and how to answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from http import HTTPStatus
from typing import Any

from botbuilder.core import CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.schema import Activity, AdaptiveCardInvokeResponse

from bot.conversations import conversation_kind, tenant_of
from cards.base import CARD_CONTENT_TYPE
from cards.common import message_card
from domain.records import Actor
from services.context import AppContext
from storage.errors import StorageError


def card_activity(card: dict[str, Any], *, summary: str | None = None) -> Activity:
    """A message activity carrying one Adaptive Card."""
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    if summary:
        activity.summary = summary
    return activity


def invoke_card_response(card: dict[str, Any]) -> InvokeResponse:
    """HTTP 200 carrying a card for the one who pressed (a msrest model: see TEAMS-NOTES's invoke bug)."""
    body = AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=card)
    return InvokeResponse(status=int(HTTPStatus.OK), body=body)


def storage_failure_card(error: StorageError) -> dict[str, Any]:
    """What a person is told when storage refused a write: nothing was changed, and why."""
    return message_card("Nothing was changed", error.user_message)


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

    @cached_property
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
