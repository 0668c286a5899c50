"""The whole procedure in the Microsoft 365 Agents Playground, as the PoC and JB staff see it.

Two Playground instances drive one bot process: the agency's Point-of-Contact (with the agency's
team) and a JB staff member (with the JB team). Every step saves a screenshot in build/e2e/; a
step that does not show what it should fails with the screenshot's path.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from tests.e2e.harness import BotProcess, ChatPage

HELP_ONLY = "Type a command with or without the slash"


def test_help_answers_in_personal_chat_and_in_a_channel(pages: dict[str, ChatPage]) -> None:
    poc = pages["poc"]
    poc.open_personal_chat()
    before = len(poc.cards_with(HELP_ONLY))
    poc.send("help")
    card = poc.wait_for_card_text(HELP_ONLY, "help-personal", more_than=before)
    assert "‹officer number›" in card.inner_text()
    poc.shot("help-personal-chat")

    poc.open_channel("Agency e-Tickets")
    before = len(poc.cards_with(HELP_ONLY))
    poc.send("/help", mention=True)
    card = poc.wait_for_card_text(HELP_ONLY, "help-channel", more_than=before)
    assert "/subscribe" in card.inner_text()
    poc.shot("help-team-channel")
