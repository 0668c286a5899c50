"""The botbuilder CloudAdapter, configured from settings, with a turn error handler that leaks nothing."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from types import SimpleNamespace
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes, CallerIdConstants
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectorFactory,
)
from msrest.universal_http.requests import ClientRetryPolicy

from bot.connector_http import BoundedConnectorFactory, HostSlots
from bot.openid_metadata import use_cached_openid_metadata
from bot.turn import card_activity, invoke_card_response
from cards.common import message_card
from settings import Settings

logger = logging.getLogger(__name__)


class _RefusingAuthentication(ConfigurationBotFrameworkAuthentication):
    """Bot Framework authentication where any token that cannot be validated is refused (401), never a 500,
    and whose connector clients go out through ``bot/connector_http.py`` (no in-client retries, timeouts,
    per-host slots).

    botbuilder raises PermissionError (which CloudAdapter answers with 401) for some bad tokens, but
    lets PyJWT's errors (expired, bad signature, garbage), a KeyError for a token without ``iss`` or
    an unknown key id, and an AttributeError for an empty header escape as they are (HTTP 500).
    """

    def __init__(self, configuration: Any, slots: HostSlots) -> None:
        super().__init__(configuration)
        self._slots = slots

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        """Validate the request's token; raises PermissionError for every failure."""
        try:
            result = await super().authenticate_request(activity, auth_header)
        except PermissionError:
            logger.warning("refused a request to /api/messages: token not valid")
            raise
        except Exception as error:
            logger.warning("refused a request to /api/messages: token not valid (%s)", type(error).__name__)
            raise PermissionError("Unauthorized Access. Request is not authorized") from None
        if result.connector_factory is not None:
            result.connector_factory = BoundedConnectorFactory(result.connector_factory, self._slots)
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        """The connector factory of proactive sends (the outbox)."""
        return BoundedConnectorFactory(super().create_connector_factory(claims_identity), self._slots)


def _speed_up_connector_clients() -> None:
    """Make msrest's per-client retry set-up cheap; the codes it retries stay exactly the same.

    msrest 0.7 builds ``[i for i in range(999) if i not in safe_codes]`` with ``safe_codes`` a
    500-item list for every connector client, and botbuilder makes two clients per turn and one per
    proactive send: about 3 ms each, a third of the CPU of an Approve press (measured by bench/).
    The same membership test against a frozenset gives the identical list in 0.05 ms.
    """
    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]


def build_adapter(settings: Settings, connector_threads: Executor) -> CloudAdapter:
    """A CloudAdapter that authenticates with the settings' app id (none in local mode).

    Its connector calls run on ``connector_threads``, at most ``PER_HOST`` at once per host.
    """
    _speed_up_connector_clients()
    use_cached_openid_metadata()  # signing keys off the event loop, with a timeout and the last good copy
    configuration = SimpleNamespace(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        APP_TYPE=settings.app_type,
        APP_TENANTID=settings.app_tenant_id,
    )
    if settings.openid_metadata_url and not settings.local_mode:
        # Any of these switches botbuilder to its "parameterized" authentication, which has no defaults:
        # without the rest of the public cloud's values it accepts no token (issuer None) and cannot reply.
        configuration.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = settings.openid_metadata_url
        configuration.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
        configuration.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = (
            AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
        )
        configuration.TO_CHANNEL_FROM_BOT_LOGIN_URL = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
        configuration.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
        configuration.OAUTH_URL = AuthenticationConstants.OAUTH_URL
        configuration.CALLER_ID = CallerIdConstants.public_azure_channel
    adapter = CloudAdapter(_RefusingAuthentication(configuration, HostSlots(connector_threads)))

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
        if (
            activity.type == ActivityTypes.invoke
        ):  # answer the press (else botbuilder answers 501) with a card, not a trace
            card = message_card(
                "Sorry, something went wrong",
                "Nothing was changed; please try again, or write to JUD-eTicket@vermont.gov.",
            )
            await turn_context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=invoke_card_response(card))
            )
        elif activity.type == ActivityTypes.message:
            try:
                await turn_context.send_activity(
                    card_activity(
                        message_card(
                            "Sorry, something went wrong",
                            "I could not finish that. Nothing was changed; please try again, or write to JUD-eTicket@vermont.gov.",
                        )
                    )
                )
            except Exception:
                logger.exception("could not send the error notice")

    adapter.on_turn_error = on_turn_error
    return adapter
