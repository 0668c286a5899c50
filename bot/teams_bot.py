"""The Teams activity handler: routes messages by command table and card actions by verb."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from botbuilder.core import ActivityHandler, ConversationState, InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from bot import router
from bot.conversations import base_conversation_id, remember, tenant_of
from bot.turn import ActionHandler, CommandHandler, Turn, card_activity, invoke_card_response, storage_failure_card
from cards.common import message_card
from cards.help import help_card, welcome_card
from services.context import AppContext
from storage.errors import StorageError
from vocabulary.commands import COMMANDS
from vocabulary.verbs import Verb

logger = logging.getLogger(__name__)

ADAPTIVE_CARD_ACTION = "adaptiveCard/action"
VERBS = frozenset(verb.value for verb in Verb)


class JbBot(ActivityHandler):
    """Routes typed commands through a table and Action.Execute presses through the Verb enum."""

    def __init__(
        self,
        app: AppContext,
        conversation_state: ConversationState,
        commands: Mapping[str, CommandHandler],
        actions: Mapping[Verb, ActionHandler],
    ) -> None:
        self._app = app
        self._conversation_state = conversation_state
        self._commands = dict(commands)
        self._actions = dict(actions)

    async def on_turn(self, turn_context: TurnContext) -> None:
        """Refuse other tenants, remember the conversation, handle the activity, then save state once."""
        activity = turn_context.activity
        allowed = self._app.settings.allowed_tenants
        if allowed and tenant_of(activity) not in allowed:
            logger.warning("refused activity type=%s from a tenant outside ALLOWED_TENANTS", activity.type)
            if activity.type == ActivityTypes.invoke:
                await turn_context.send_activity(
                    Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=int(HTTPStatus.FORBIDDEN)))
                )
            return
        try:
            await remember(activity, self._app.db.conversations)
        except StorageError:
            logger.exception("could not save the conversation reference conversation=%s", activity.conversation.id)
        await super().on_turn(turn_context)
        try:
            await self._conversation_state.save_changes(turn_context)
        except StorageError as error:  # e.g. a wizard step that could not be kept: say so, in place of the answer
            logger.warning("conversation state not saved: %s", type(error).__name__)
            card = storage_failure_card(error)
            if activity.type == ActivityTypes.invoke:
                await turn_context.send_activity(
                    Activity(type=ActivityTypes.invoke_response, value=invoke_card_response(card))
                )
            else:
                await turn_context.send_activity(card_activity(card))

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Look the first word up in the command table; anything else gets the help card."""
        activity = turn_context.activity
        parsed = router.parse(activity.text)
        if parsed is None:
            if activity.value is not None:
                await turn_context.send_activity(
                    card_activity(
                        message_card(
                            "That card is out of date", "Type /help to see what I can do, or start the step again."
                        )
                    )
                )
                return
            await turn_context.send_activity(card_activity(help_card(COMMANDS)))
            return
        handler = self._commands.get(parsed.name)
        if handler is None:
            logger.info("unknown command in conversation=%s", activity.conversation.id)
            await turn_context.send_activity(card_activity(help_card(COMMANDS, not_understood=parsed.name)))
            return
        logger.info("command=%s conversation=%s", parsed.name, activity.conversation.id)
        await self._guarded(turn_context, handler(Turn(turn_context, self._app, args=parsed.args)))

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
        value = activity.value if isinstance(activity.value, dict) else {}
        action = value.get("action") if isinstance(value.get("action"), dict) else {}
        data = action.get("data") if isinstance(action.get("data"), dict) else {}
        raw_verb = action.get("verb")
        verb = Verb(raw_verb) if isinstance(raw_verb, str) and raw_verb in VERBS else None
        handler = self._actions.get(verb) if verb is not None else None
        if verb is None or handler is None:
            logger.info("card verb not in use in conversation=%s", activity.conversation.id)
            return invoke_card_response(
                message_card("This button is no longer in use", "Type /help to see what I can do now.")
            )
        logger.info("card action verb=%s conversation=%s", verb.value, activity.conversation.id)
        turn = Turn(turn_context, self._app, data=data)
        try:
            result = await handler(turn)
        except StorageError as error:
            logger.warning("card action verb=%s failed in storage: %s", verb.value, type(error).__name__)
            return invoke_card_response(storage_failure_card(error))
        if result.update_message and activity.reply_to_id:
            await self._update_message(turn_context, activity.reply_to_id, result.card)
        return invoke_card_response(result.card)

    async def _update_message(self, turn_context: TurnContext, message_id: str, card: dict[str, Any]) -> None:
        """Replace the card message for everyone in the conversation."""
        update = card_activity(card)
        update.id = message_id
        try:
            await turn_context.update_activity(update)
        except Exception:  # the press already succeeded; a failed cosmetic update must not undo it
            logger.exception("could not update message=%s", message_id)

    async def _guarded(self, turn_context: TurnContext, work: Any) -> None:
        """Run a command; a storage failure becomes a clear message and nothing is changed."""
        try:
            await work
        except StorageError as error:
            logger.warning("command failed in storage: %s", type(error).__name__)
            await turn_context.send_activity(card_activity(storage_failure_card(error)))


def help_command() -> CommandHandler:
    """The /help command."""

    async def handle(turn: Turn) -> None:
        """Answer with the help card."""
        await turn.reply_card(help_card(COMMANDS), summary="Help")

    return handle
