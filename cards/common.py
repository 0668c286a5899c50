"""Small cards used everywhere: a titled message, and a card with a notice added on top."""

from __future__ import annotations

import copy
from typing import Any

from cards.base import heading, notice, paragraph, render


def message_card(title: str, text: str, *, kind: str | None = None) -> dict[str, Any]:
    """A card with a title and one paragraph; ``kind`` ("attention", "good", "warning") colours the text."""
    body = [*heading(title), notice(text, kind=kind) if kind else paragraph(text)]
    return render(body)


def with_notice(card: dict[str, Any], text: str, *, kind: str = "attention") -> dict[str, Any]:
    """The same card with a message on top (e.g. who may press this button); the card itself is unchanged."""
    changed = copy.deepcopy(card)
    changed["body"] = [
        notice(text, kind=kind).model_dump(mode="json", exclude_none=True, by_alias=True),
        *changed.get("body", []),
    ]
    return changed
