"""Collects every command and card action registered on the feature classes and builds the bot."""

from __future__ import annotations

from botbuilder.core import ConversationState

from bot.approval_commands import ApprovalCommands
from bot.incident_actions import IncidentActions
from bot.package_commands import PackageCommands
from bot.teams_bot import JbBot
from bot.turn import routes_of
from presentation.presenter import Presenter
from services.context import AppContext


def build_bot(app: AppContext, conversation_state: ConversationState) -> JbBot:
    """The bot with the commands and card actions of every feature."""
    commands, actions = routes_of(PackageCommands(conversation_state), ApprovalCommands(), IncidentActions())
    return JbBot(app, Presenter(app.settings.timezone), conversation_state, commands, actions)
