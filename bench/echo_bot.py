"""A bare botbuilder echo bot (the SDK sample's shape): CloudAdapter + ActivityHandler behind aiohttp.

Runs in local mode (empty app id). Messages are echoed as text; an ``adaptiveCard/action`` invoke is
answered with an ``AdaptiveCardInvokeResponse`` carrying a small card, returned from an overridden
``on_invoke_activity`` as our bot does (TEAMS-NOTES: the default path answers 500 in 4.17.1).
Start: ``PORT=3979 python -m bench.echo_bot`` (listens on 127.0.0.1 only).
"""

from __future__ import annotations

import os
from http import HTTPStatus
from types import SimpleNamespace

from aiohttp import web
from botbuilder.core import ActivityHandler, InvokeResponse, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import AdaptiveCardInvokeResponse

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


class EchoBot(ActivityHandler):
    """Echoes what is typed; answers a card press with a card saying which verb was pressed."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Echo the text back."""
        await turn_context.send_activity(MessageFactory.text(f"Echo: {turn_context.activity.text}"))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """Answer Action.Execute with a card (a msrest model body, see TEAMS-NOTES's invoke bug)."""
        if turn_context.activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        value = turn_context.activity.value if isinstance(turn_context.activity.value, dict) else {}
        action = value.get("action") if isinstance(value.get("action"), dict) else {}
        card = {
            "type": "AdaptiveCard",
            "version": "1.5",
            "body": [{"type": "TextBlock", "text": f"Echo: {action.get('verb')}", "wrap": True}],
        }
        body = AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=card)
        return InvokeResponse(status=int(HTTPStatus.OK), body=body)


def create_app() -> web.Application:
    """The echo bot's aiohttp application (adapter and bot built once, as in the SDK samples)."""
    configuration = SimpleNamespace(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant", APP_TENANTID="")
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(configuration))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await adapter.process(request, bot)
        return response if response is not None else web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    return app


def main() -> None:
    """Serve on 127.0.0.1:PORT until stopped."""
    web.run_app(create_app(), host="127.0.0.1", port=int(os.environ.get("PORT", "3979")), print=None, access_log=None)


if __name__ == "__main__":
    main()
