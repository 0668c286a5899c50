"""Helpers that drive the Information Package wizard over HTTP, as Teams does: type, press, read the card."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from cards.base import teams_findings
from services.context import AppContext
from tests.support.factories import POC_AAD, make_invoke, make_message
from tests.support.fake_connector import FakeConnector

START = (date.today() + timedelta(days=30)).isoformat()

AGENCY = {
    "judiciary_code": "9000",
    "agency_name": "Williston Police Department",
    "letterhead_address": "7928 Williston Road, Williston, VT 05495",
    "letterhead_phone": "(802) 878-6611",
    "poc_name": "Pat Poc",
    "poc_email": "pat.poc@williston.example",
}


def officer(
    number: str = "A1234", first: str = "Casey", last: str = "Officer", username: str = "cofficer", start: str = START
) -> dict[str, str]:
    """The officer form's inputs."""
    return {
        "first_name": first,
        "last_name": last,
        "officer_number": number,
        "dps_username": username,
        "start_date": start,
    }


def checked(card: dict[str, Any]) -> dict[str, Any]:
    """The card, after checking it against the Microsoft Teams target (schema 1.5, 28 KB)."""
    assert teams_findings(card) == [], teams_findings(card)
    return card


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every dict inside a card."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Action.Execute in a card."""
    return [node for node in walk(card) if node.get("type") == "Action.Execute"]


def button(card: dict[str, Any], title: str, index: int = 0) -> dict[str, Any]:
    """The index-th button with this title."""
    found = [action for action in buttons(card) if action.get("title") == title]
    assert len(found) > index, f"no button {title!r}; buttons: {[b.get('title') for b in buttons(card)]}"
    return found[index]


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The card's inputs by id."""
    return {node["id"]: node for node in walk(card) if str(node.get("type", "")).startswith("Input.")}


def error_under(card: dict[str, Any], input_id: str) -> str | None:
    """The red text right under an input, if any."""
    for node in walk(card):
        for key in ("body", "items"):
            items = node.get(key)
            if not isinstance(items, list):
                continue
            for position, item in enumerate(items):
                if isinstance(item, dict) and item.get("id") == input_id and position + 1 < len(items):
                    following = items[position + 1]
                    if following.get("type") == "TextBlock" and str(following.get("color")).lower() == "attention":
                        return following["text"]
    return None


def text_of(card: dict[str, Any]) -> str:
    """Every text of a card, joined."""
    return "\n".join(
        str(node.get(key))
        for node in walk(card)
        for key in ("text", "title", "value")
        if isinstance(node.get(key), str)
    )


@dataclass
class Chat:
    """One person's 1:1 chat with the bot over HTTP."""

    client: TestClient
    connector: FakeConnector
    user_aad: str = POC_AAD
    user_name: str = "Pat Poc"
    card: dict[str, Any] | None = None

    @property
    def app(self) -> AppContext:
        from app import CONTEXT

        return self.client.server.app[CONTEXT]

    async def type(self, text: str, **overrides: Any) -> dict[str, Any]:
        """Type a message; returns the card the bot answered with (and keeps it as the current card)."""
        activity = make_message(text, self.connector.url, user_aad=self.user_aad, user_name=self.user_name, **overrides)
        response = await self.client.post("/api/messages", json=activity)
        assert response.status in (200, 201), await response.text()

        def answers(sent: list[Any]) -> list[Any]:
            return [s for s in sent if s.method == "POST" and s.body.get("replyToId") == activity["id"]]

        sent = await self.connector.wait_for(lambda sent: bool(answers(sent)))
        self.card = checked(answers(sent)[0].cards[0])
        return self.card

    async def press(
        self,
        title: str,
        values: dict[str, Any] | None = None,
        *,
        index: int = 0,
        card: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        """Press a button of the current card with inputs merged into its data, as Teams does; returns the new card."""
        action = button(card or self.card or {}, title, index)
        data = dict(action.get("data") or {})
        if action.get("associatedInputs") != "none":
            data |= values or {}
        return await self.invoke(action["verb"], data, **overrides)

    async def invoke(self, verb: str, data: dict[str, Any], **overrides: Any) -> dict[str, Any]:
        """Send one adaptiveCard/action invoke; the response body carries the card."""
        activity = make_invoke(
            verb, data, self.connector.url, user_aad=self.user_aad, user_name=self.user_name, **overrides
        )
        response = await self.client.post("/api/messages", json=activity)
        assert response.status == 200, await response.text()
        body = await response.json()
        assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
        self.card = checked(body["value"])
        return self.card

    async def reach_officers(self, agency: dict[str, str] | None = None) -> dict[str, Any]:
        """/new-package through records system, pre-conditions and agency."""
        await self.type("/new-package")
        await self.press("Next", {"records_system": "valcour"})
        await self.press("Next", {"valcour_installed": "true", "officers_trained": "true"})
        return await self.press("Next", agency or AGENCY)

    async def submit_package(
        self, agency: dict[str, str] | None = None, officers: tuple[dict[str, str], ...] = (officer(),)
    ) -> dict[str, Any]:
        """The whole wizard with these answers, ending with Submit; returns the confirmation card."""
        await self.reach_officers(agency)
        for position, values in enumerate(officers):
            title = "Next: review" if position == len(officers) - 1 else "Save and add another officer"
            await self.press(title, values)
        return await self.press("Submit")
