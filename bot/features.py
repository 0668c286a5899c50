"""Wires every command and card action to its handler and builds the bot."""

from __future__ import annotations

from botbuilder.core import ConversationState

from bot.approval_commands import ApprovalCommands
from bot.incident_actions import resolve_action
from bot.package_commands import PackageCommands
from bot.teams_bot import JbBot, help_command
from bot.turn import ActionHandler, CommandHandler
from services.context import AppContext
from vocabulary.commands import COMMAND_NAMES
from vocabulary.verbs import Verb


def build_bot(app: AppContext, conversation_state: ConversationState) -> JbBot:
    """The bot with its command table and action table."""
    commands: dict[str, CommandHandler] = {"help": help_command()}
    actions: dict[Verb, ActionHandler] = {Verb.RESOLVE: resolve_action()}
    package_features = PackageCommands(conversation_state)
    commands |= package_features.commands()
    actions |= package_features.actions()
    approval_features = ApprovalCommands()
    commands |= approval_features.commands()
    actions |= approval_features.actions()
    unknown = set(commands) - COMMAND_NAMES
    if unknown:
        raise ValueError(f"commands missing from vocabulary/commands.py: {sorted(unknown)}")
    return JbBot(app, conversation_state, commands, actions)
