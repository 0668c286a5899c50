"""Steps of the README walkthrough that more than one end-to-end test takes, as a person does them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tests.e2e.harness import ChatPage

VERMONT = ZoneInfo("America/New_York")
OFFICERS = (("Casey", "Officer", "A1234", "cofficer"), ("Dana", "Deputy", "B2345", "ddeputy"))
"""The walkthrough's officers: first name, last name, officer number, DPS network username."""


def subscribe(page: ChatPage, channel: str, target: str, name: str) -> None:
    """In a team channel, @mention the bot with ``/subscribe <target>`` and wait for its answer."""
    page.open_channel(channel)
    before = len(page.cards_with("Alerts routed here"))
    page.send(f"/subscribe {target}", mention=True)
    page.wait_for_card_text("Alerts routed here", name, more_than=before)


def send_package(poc: ChatPage, judiciary_code: str = "9000", officers: tuple[tuple[str, ...], ...] = OFFICERS) -> None:
    """``/new-package`` in the PoC's personal chat, every step of the wizard filled in, then Submit."""
    today = datetime.now(UTC).astimezone(VERMONT).date()
    poc.open_personal_chat()
    before = len(poc.cards_with("Step 1 of 5"))
    poc.send("/new-package")
    card = poc.wait_for_card_text("Step 1 of 5", "wizard-start", more_than=before)
    poc.choose(card, "Which records management system", "Valcour")
    poc.press(card, "Next")
    card = poc.wait_for_card_text("Step 2 of 5", "wizard-preconditions")
    poc.toggle(card, "Valcour installed")
    poc.toggle(card, "Officers trained")
    poc.press(card, "Next")
    card = poc.wait_for_card_text("Step 3 of 5", "wizard-agency")
    poc.fill(card, "Agency name", "Williston Police Department")
    poc.fill(card, "Address on warning letterhead", "7928 Williston Rd, Williston, VT 05495")
    poc.fill(card, "Phone on warning letterhead", "(802) 878-6611")
    poc.fill(card, "Point-of-Contact name", "Pat Poc")
    poc.fill(card, "Point-of-Contact e-mail", "pat.poc@williston.example")
    poc.fill(card, "Judiciary Code", judiciary_code)
    poc.press(card, "Next")
    card = poc.wait_for_card_text("Step 4 of 5", "wizard-officers")
    for index, (first, last, number, username) in enumerate(officers):
        poc.fill(card, "First name", first)
        poc.fill(card, "Last name", last)
        poc.fill(card, "Officer number", number)
        poc.fill(card, "DPS network username", username)
        poc.pick_date(card, "Expected start date", today)
        if index < len(officers) - 1:
            poc.press(card, "Save and add another officer")
            card = poc.wait_for_card_text(number.upper(), "wizard-next-officer")
    poc.press(card, "Next: review")
    card = poc.wait_for_card_text("Step 5 of 5", "wizard-review")
    poc.press(card, "Submit")
    poc.wait_for_card_text("Information Package sent", "wizard-sent")
