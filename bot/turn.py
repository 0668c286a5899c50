"""One turn as the handlers see it (who, where, the arguments, how to answer), and how handlers register.

A handler is registered where it is defined: ``@command("status")`` or ``@action(Verb.APPROVE)`` on a
method of a feature class, with the policy action a command needs (``requires=``) beside it. The
router (``bot.teams_bot.JbBot``) reads these marks once, and enforces each command's scopes and
requirement before the handler runs, so no handler re-checks them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from http import HTTPStatus
from typing import Any, TypeVar

from botbuilder.core import CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.schema import Activity, AdaptiveCardInvokeResponse
from botframework.connector import Channels

from bot.conversations import base_conversation_id, conversation_kind
from cards.base import CARD_CONTENT_TYPE
from cards.common import message_card
from domain.policy import Action, Requester
from domain.records import Actor
from presentation.presenter import Presenter
from services.context import AppContext
from services.outcomes import Outcome
from storage.errors import StorageError
from vocabulary.verbs import Verb

Card = dict[str, Any]


def card_activity(card: Card, *, summary: str | None = None) -> Activity:
    """A message activity carrying one Adaptive Card."""
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    if summary:
        activity.summary = summary
    return activity


def invoke_card_response(card: Card) -> InvokeResponse:
    """HTTP 200 carrying a card for the one who pressed (a msrest model: see TEAMS-NOTES's invoke bug)."""
    body = AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=card)
    return InvokeResponse(status=int(HTTPStatus.OK), body=body)


def storage_failure_card(error: StorageError) -> Card:
    """What a person is told when storage refused a write: nothing was changed, and why."""
    return message_card("Nothing was changed", error.user_message)


def actor_of(activity: Activity) -> Actor:
    """The person who sent an activity: Azure AD object id (lower case) and name.

    In Teams only ``from.aadObjectId`` identifies a person (``app.py`` refuses a Teams message or press
    without one); ``from.id`` stands in only on other channels (the Emulator in local mode, TestAdapter).
    """
    sender = activity.from_property
    if sender is None:
        return Actor(aad_id="", name="")
    if activity.channel_id == Channels.ms_teams.value:
        aad_id = (sender.aad_object_id or "").strip().lower()
    else:
        aad_id = (sender.aad_object_id or sender.id or "").strip().lower()
    return Actor(aad_id=aad_id, name=(sender.name or "").strip())


@dataclass
class Turn:
    """A turn with the app's context and the presenter attached; handlers take this, never a raw TurnContext."""

    context: TurnContext
    app: AppContext
    presenter: Presenter
    args: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    verb: Verb | None = None  # the pressed button's verb, resolved once by the router

    @cached_property
    def actor(self) -> Actor:
        """Who is speaking or pressing."""
        return actor_of(self.context.activity)

    @property
    def is_jb_staff(self) -> bool:
        """Whether the speaker is one of JB_STAFF_IDS."""
        return self.app.settings.is_jb_staff(self.actor.aad_id)

    @cached_property
    def requester(self) -> Requester:
        """Who asks, for the policy: the person, JB staff or not, and whether this is the JB channel."""
        marked = self.app.db.subscriptions.conversation_for(self.app.db.subscriptions.JB)
        in_jb_channel = marked is not None and marked == self.place
        return Requester(self.actor, self.is_jb_staff, in_jb_channel=in_jb_channel)

    @property
    def scope(self) -> str:
        """personal, groupChat or channel."""
        return conversation_kind(self.context.activity)

    @property
    def place(self) -> str:
        """The conversation this turn is in, without a channel thread's message id."""
        return base_conversation_id(self.context.activity)

    @property
    def pressed_message(self) -> str | None:
        """The id of the card message a press came from (it is updated in the turn)."""
        return self.context.activity.reply_to_id

    async def reply_card(self, card: Card, *, summary: str | None = None) -> str | None:
        """Send a card in this conversation; returns the new message's id."""
        response = await self.context.send_activity(card_activity(card, summary=summary))
        return response.id if response else None

    async def reply(self, outcome: Outcome, *, summary: str | None = None) -> str | None:
        """Send the card of a use case's outcome."""
        return await self.reply_card(self.presenter.card(outcome), summary=summary)


@dataclass(frozen=True)
class Reply:
    """What a card press answers when it is not a use case's outcome: a card, and whether the message changes."""

    card: Card
    update_message: bool = False


CommandHandler = Callable[[Turn], Awaitable[None]]
ActionHandler = Callable[[Turn], Awaitable[Outcome | Reply]]
F = TypeVar("F", bound=Callable[..., Any])


def command(name: str, *, requires: Action | None = None) -> Callable[[F], F]:
    """Register a method as the handler of a chat command (named as in vocabulary/commands.py).

    ``requires``: a policy action on no agency in particular that the router checks first.
    """

    def mark(handler: F) -> F:
        handler.__dict__["route_command"] = (name, requires)
        return handler

    return mark


def action(*verbs: Verb) -> Callable[[F], F]:
    """Register a method as the handler of card presses with these verbs."""

    def mark(handler: F) -> F:
        handler.__dict__["route_verbs"] = verbs
        return handler

    return mark


@dataclass(frozen=True)
class CommandRoute:
    """A chat command's handler and the policy action the router checks before calling it."""

    handler: CommandHandler
    requires: Action | None = None


def routes_of(*features: object) -> tuple[dict[str, CommandRoute], dict[Verb, ActionHandler]]:
    """The commands and card actions registered on the methods of these feature objects."""
    commands: dict[str, CommandRoute] = {}
    actions: dict[Verb, ActionHandler] = {}
    for feature in features:
        for name in dir(type(feature)):
            method = getattr(feature, name)
            marked = getattr(method, "route_command", None)
            if marked is not None:
                command_name, requires = marked
                if command_name in commands:
                    raise ValueError(f"command {command_name!r} registered twice")
                commands[command_name] = CommandRoute(method, requires)
            for verb in getattr(method, "route_verbs", ()):
                if verb in actions:
                    raise ValueError(f"verb {verb.value!r} registered twice")
                actions[verb] = method
    return commands, actions
