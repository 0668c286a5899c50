"""Turning typed text into a command name and its arguments (route by table, never by substring)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class ParsedCommand:
    """The first word of a message, lower case and without a slash, and the rest."""

    name: str
    args: str


def parse(text: str | None) -> ParsedCommand | None:
    """Split typed text into a command and its arguments; None when there is no text."""
    if not text:
        return None
    cleaned = _MENTION.sub(" ", text).replace("\u00a0", " ").strip()
    if not cleaned:
        return None
    first, _, rest = cleaned.partition(" ")
    name = first.lstrip("/").lower()
    return ParsedCommand(name=name, args=rest.strip())
