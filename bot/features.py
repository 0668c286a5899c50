"""Collects every command and card action registered on the feature classes and builds the bot."""

from __future__ import annotations

from botbuilder.core import ConversationState

from bot.approval_commands import ApprovalCommands
from bot.clock_commands import ClockCommands
from bot.incident_actions import IncidentActions
from bot.package_commands import PackageCommands
from bot.roster import RefreshAudience
from bot.teams_bot import JbBot
from bot.turn import routes_of
from presentation.presenter import Presenter
from services.context import AppContext


def build_bot(
    app: AppContext, conversation_state: ConversationState, refresh_audience: RefreshAudience | None = None
) -> JbBot:
    """The bot with the commands and card actions of every feature."""
    commands, actions = routes_of(
        PackageCommands(conversation_state), ApprovalCommands(), IncidentActions(), ClockCommands(refresh_audience)
    )
    presenter = Presenter(app.settings.timezone, app.settings.escalate_days_left)
    return JbBot(app, presenter, conversation_state, commands, actions)
