"""Reminders of the SOP's clocks: the card a reminder is about, with a line on top saying what is overdue."""

from __future__ import annotations

from typing import Any

from cards.common import with_notice


def reminder_card(card: dict[str, Any], text: str) -> dict[str, Any]:
    """The card with the reminder's line on top (its buttons kept: Acknowledge, Approve, Extend monitoring).

    A reminder is a message of its moment: it carries no refresh of its own (its copies still change with
    the record, as every copy of that card does).
    """
    reminded = with_notice(card, text, kind="warning")
    reminded.pop("refresh", None)
    return reminded
