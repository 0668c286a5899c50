"""Reminders of the SOP's clocks: the card a reminder is about, with a line on top saying what is overdue."""

from __future__ import annotations

from typing import Any

from adaptive_cards.types import ActionStyle

from cards.base import execute
from cards.common import with_notice
from vocabulary.verbs import Verb


def reminder_card(card: dict[str, Any], text: str, *, acknowledge: str | None = None) -> dict[str, Any]:
    """The card with the reminder's line on top; ``acknowledge``: add Acknowledge for that Judiciary Code's package.

    A reminder is a message of its moment: it carries no refresh of its own (its copies still change with
    the record, as every copy of that card does).
    """
    reminded = with_notice(card, text, kind="warning")
    reminded.pop("refresh", None)
    if acknowledge is not None:
        button = execute(
            "Acknowledge", Verb.ACKNOWLEDGE.value, {"judiciary_code": acknowledge}, style=ActionStyle.POSITIVE
        )
        reminded["actions"] = [
            *reminded.get("actions", []),
            button.model_dump(mode="json", exclude_none=True, by_alias=True),
        ]
    return reminded
