"""The botbuilder CloudAdapter, configured from settings, with a turn error handler that leaks nothing."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import ActivityTypes

from bot.turn import card_activity
from cards.common import message_card
from settings import Settings

logger = logging.getLogger(__name__)


def build_adapter(settings: Settings) -> CloudAdapter:
    """A CloudAdapter that authenticates with the settings' app id (none in local mode)."""
    configuration = SimpleNamespace(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        APP_TYPE=settings.app_type,
        APP_TENANTID=settings.app_tenant_id,
    )
    if settings.openid_metadata_url:
        configuration.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = settings.openid_metadata_url
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(configuration))

    async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
        """Log the failure with ids only and tell the person, without a stack trace."""
        activity = turn_context.activity
        logger.error(
            "turn failed type=%s conversation=%s error=%s",
            activity.type,
            activity.conversation.id if activity.conversation else None,
            type(error).__name__,
            exc_info=error,
        )
        if activity.type == ActivityTypes.message:
            try:
                await turn_context.send_activity(card_activity(message_card(
                    "Sorry, something went wrong",
                    "I could not finish that. Nothing was changed; please try again, or write to JUD-eTicket@vermont.gov.",
                )))
            except Exception:
                logger.exception("could not send the error notice")

    adapter.on_turn_error = on_turn_error
    return adapter
