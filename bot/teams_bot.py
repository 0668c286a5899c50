"""The Teams activity handler: routes messages by command table and card actions by verb.

Every command's scopes (vocabulary/commands.py) and required policy action (``@command(requires=)``)
are enforced here, once, before its handler runs. A card action's handler returns a use case's
outcome (drawn by the presenter; a ``Done`` updates the pressed message for everyone) or a ``Reply``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from botbuilder.core import ActivityHandler, ConversationState, InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from bot import router
from bot.conversations import authenticated, base_conversation_id, conversation_kind, remember, tenant_of
from bot.outbox import as_delivery_error, queued_update
from bot.turn import (
    ActionHandler,
    Card,
    CommandRoute,
    Reply,
    Turn,
    card_activity,
    invoke_card_response,
    storage_failure_card,
)
from cards.common import message_card
from cards.help import channel_only_card, help_card, one_to_one_card, welcome_card
from domain.policy import who_may
from presentation.presenter import Presenter
from services.access import allowed
from services.context import AppContext
from services.notices import Audience
from services.outcomes import Done, Refused
from storage.errors import StorageError
from vocabulary.commands import COMMANDS, CommandInfo
from vocabulary.verbs import Verb

logger = logging.getLogger(__name__)

ADAPTIVE_CARD_ACTION = "adaptiveCard/action"
IN_TURN_UPDATE_TIMEOUT = 3.0
"""Seconds the update of a pressed message may take in the turn before it is left to the outbox."""
TEAMS_SCOPE = {"personal": "personal", "groupChat": "groupChat", "channel": "team"}
"""Teams' app-manifest scope of each conversation type."""


class JbBot(ActivityHandler):
    """Routes typed commands through a table and Action.Execute presses through the Verb enum."""

    def __init__(
        self,
        app: AppContext,
        presenter: Presenter,
        conversation_state: ConversationState,
        commands: Mapping[str, CommandRoute],
        actions: Mapping[Verb, ActionHandler],
    ) -> None:
        self._app = app
        self._presenter = presenter
        self._conversation_state = conversation_state
        self._commands = dict(commands) | {"help": CommandRoute(self.help)}
        self._actions = dict(actions)
        self._catalog: dict[str, CommandInfo] = {info.name: info for info in COMMANDS}
        self._verbs: dict[str, Verb] = {verb.value: verb for verb in Verb}
        unlisted = set(self._commands) - set(self._catalog)
        if unlisted:
            raise ValueError(f"commands missing from vocabulary/commands.py: {sorted(unlisted)}")

    async def on_turn(self, turn_context: TurnContext) -> None:
        """Refuse other tenants, remember the conversation, handle the activity, then save state once."""
        activity = turn_context.activity
        allowed_tenants = self._app.settings.allowed_tenants
        if allowed_tenants and tenant_of(activity) not in allowed_tenants:
            logger.warning("refused activity type=%s from a tenant outside ALLOWED_TENANTS", activity.type)
            if activity.type == ActivityTypes.invoke:
                forbidden = InvokeResponse(status=int(HTTPStatus.FORBIDDEN))
                await turn_context.send_activity(Activity(type=ActivityTypes.invoke_response, value=forbidden))
            return
        try:
            await self._app.db.catch_up()  # what other replicas committed, before this turn reads anything
            await remember(
                activity,
                self._app.db.conversations,
                authenticated=authenticated(turn_context, local_mode=self._app.settings.local_mode),
            )
            await self._release_waiting(activity)
        except StorageError:
            logger.exception("could not save the conversation reference conversation=%s", activity.conversation.id)
        await super().on_turn(turn_context)
        try:
            await self._conversation_state.save_changes(turn_context)
        except StorageError as error:  # e.g. a wizard step that could not be kept: say so, in place of the answer
            logger.warning("conversation state not saved: %s", type(error).__name__)
            card = storage_failure_card(error)
            if activity.type == ActivityTypes.invoke:
                response = Activity(type=ActivityTypes.invoke_response, value=invoke_card_response(card))
                await turn_context.send_activity(response)
            else:
                await turn_context.send_activity(card_activity(card))

    async def _release_waiting(self, activity: Activity) -> None:
        """A person's 1:1 chat is known now: what waited for them (and, for JB staff, for the JB) goes there."""
        if conversation_kind(activity) != "personal" or activity.from_property is None:
            return
        aad_id = (activity.from_property.aad_object_id or "").lower()
        if not aad_id:
            return
        outbox = self._app.db.outbox
        readers = [Audience.person(aad_id)] if outbox.waiting(f"person:{aad_id}") else []
        if self._app.settings.is_jb_staff(aad_id) and outbox.waiting("jb"):
            readers.append(Audience.jb())
        if readers:
            await self._app.release(readers)

    def _turn(
        self, turn_context: TurnContext, *, args: str = "", data: dict[str, Any] | None = None, verb: Verb | None = None
    ) -> Turn:
        return Turn(turn_context, self._app, self._presenter, args=args, data=data or {}, verb=verb)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Look the first word up in the command table; anything else gets the help card."""
        activity = turn_context.activity
        parsed = router.parse(activity.text)
        if parsed is None:
            if activity.value is not None:
                stale = message_card(
                    "That card is out of date", "Type /help to see what I can do, or start the step again."
                )
                await turn_context.send_activity(card_activity(stale))
                return
            await turn_context.send_activity(card_activity(help_card(self.commands_for(self._turn(turn_context)))))
            return
        route = self._commands.get(parsed.name)
        if route is None:
            logger.info("unknown command in conversation=%s", activity.conversation.id)
            shown = self.commands_for(self._turn(turn_context))
            await turn_context.send_activity(card_activity(help_card(shown, not_understood=parsed.name)))
            return
        logger.info("command=%s conversation=%s", parsed.name, activity.conversation.id)
        turn = self._turn(turn_context, args=parsed.args)
        await self._guarded(turn_context, lambda: self._run_command(turn, parsed.name, route))

    async def help(self, turn: Turn) -> None:
        """/help: what the bot does and the commands this person may use."""
        await turn.reply_card(help_card(self.commands_for(turn)), summary="Help")

    def commands_for(self, turn: Turn) -> list[CommandInfo]:
        """The commands this person may use (a command that needs JB staff is left out for others)."""
        return [
            info
            for info in COMMANDS
            if (route := self._commands.get(info.name)) is not None
            and (route.requires is None or allowed(self._app, turn.requester, route.requires))
        ]

    async def _run_command(self, turn: Turn, name: str, route: CommandRoute) -> None:
        """Enforce the command's scopes and requirement, then run its handler."""
        info = self._catalog[name]
        if TEAMS_SCOPE[turn.scope] not in info.scopes:
            if info.scopes == ("personal",):
                await turn.reply_card(one_to_one_card(self._app.settings.app_id), summary="Open a 1:1 chat")
            else:
                await turn.reply_card(channel_only_card())
            return
        if route.requires is not None and not allowed(self._app, turn.requester, route.requires):
            await turn.reply_card(message_card("Not allowed", who_may(route.requires), kind="attention"))
            return
        await route.handler(turn)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext) -> None:
        """Welcome card the first time the bot is added to a chat or team (not again on a re-install)."""
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        if not any(member.id == bot_id for member in members_added):
            return
        conversations = self._app.db.conversations
        conversation_id = base_conversation_id(activity)
        if conversations.welcomed(conversation_id):
            return
        scope = "personal" if (activity.conversation.conversation_type or "personal") == "personal" else "team"
        await turn_context.send_activity(card_activity(welcome_card(COMMANDS, scope=scope), summary="Welcome"))
        try:
            await self._app.db.commit([conversations.mark_welcomed(conversation_id, self._app.now())])
        except StorageError:
            logger.warning("could not record the welcome of conversation=%s", conversation_id)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """Answer Action.Execute presses with the new card (and update the message for everyone)."""
        activity = turn_context.activity
        if activity.name != ADAPTIVE_CARD_ACTION:
            return await super().on_invoke_activity(turn_context)
        value: dict[str, Any] = activity.value if isinstance(activity.value, dict) else {}
        action: dict[str, Any] = value["action"] if isinstance(value.get("action"), dict) else {}
        data: dict[str, Any] = action["data"] if isinstance(action.get("data"), dict) else {}
        raw_verb = action.get("verb")
        verb = self._verbs.get(raw_verb) if isinstance(raw_verb, str) else None
        handler = self._actions.get(verb) if verb is not None else None
        if verb is None or handler is None:
            logger.info("card verb not in use in conversation=%s", activity.conversation.id)
            gone = message_card("This button is no longer in use", "Type /help to see what I can do now.")
            return invoke_card_response(gone)
        turn = self._turn(turn_context, data=dict(data), verb=verb)
        try:
            result = await self._app.retrying(lambda: handler(turn))
        except StorageError as error:
            logger.warning("card action verb=%s failed in storage: %s", verb.value, type(error).__name__)
            return invoke_card_response(storage_failure_card(error))
        if isinstance(result, Reply):
            card, changed = result.card, result.update_message
        else:
            card, changed = self._presenter.card(result), isinstance(result, Done)
        outcome = type(result).__name__
        logger.info("card action verb=%s outcome=%s conversation=%s", verb.value, outcome, activity.conversation.id)
        if isinstance(result, Refused):
            logger.info("refused press verb=%s conversation=%s", verb.value, activity.conversation.id)
        if changed and activity.reply_to_id:
            await self._update_message(turn_context, activity.reply_to_id, card)
        return invoke_card_response(card)

    async def _update_message(self, turn_context: TurnContext, message_id: str, card: Card) -> None:
        """Replace the card message for everyone in the conversation.

        Tried once in the turn, for at most ``IN_TURN_UPDATE_TIMEOUT``; when Teams throttles it (429) or
        does not answer in time, the update is queued for the outbox, so the press is answered at once
        and the message still changes (the press already succeeded: a failed update never undoes it).
        """
        update = card_activity(card)
        update.id = message_id
        try:
            async with asyncio.timeout(IN_TURN_UPDATE_TIMEOUT):
                await turn_context.update_activity(update)
            return
        except Exception as failure:
            error = as_delivery_error(failure, self._app.now())
        if not error.retryable:
            logger.warning("could not update message=%s status=%s; it is left as it was", message_id, error.status)
            return
        activity = turn_context.activity
        later = queued_update(
            self._app, conversation_id=base_conversation_id(activity), activity_id=message_id, card=card, error=error
        )
        try:
            await self._app.db.commit([self._app.db.outbox.put(later)])
        except StorageError:
            logger.warning("could not queue the update of message=%s; it is left as it was", message_id)
            return
        logger.info("update of message=%s queued for the outbox (status=%s)", message_id, error.status)
        self._app.notifier.wake()

    async def _guarded(self, turn_context: TurnContext, work: Callable[[], Awaitable[None]]) -> None:
        """Run a command (again, if another replica changed its records first); a storage failure becomes a
        clear message and nothing is changed."""
        try:
            await self._app.retrying(work)
        except StorageError as error:
            logger.warning("command failed in storage: %s", type(error).__name__)
            await turn_context.send_activity(card_activity(storage_failure_card(error)))
