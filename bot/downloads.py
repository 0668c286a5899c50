"""Download buttons (issue 17) on the cards of ``/package`` and of JB staff's ``/status``.

The links (or why there are none) come from ``services.exports``; ``cards.exports`` draws them. Links are
offered in a 1:1 chat only: a link works for whoever opens it within its ten minutes.
"""

from __future__ import annotations

from bot.turn import Card, Turn
from cards.exports import EXPORT_TITLES, PACKAGE_TITLES, with_downloads
from services.exports import package_downloads, programme_downloads


def with_package_downloads(turn: Turn, judiciary_code: str, cards: list[Card]) -> list[Card]:
    """``/package``'s Chart 1 cards, the last with Download (Excel) and Download (CSV), or why not."""
    downloads = package_downloads(turn.app, turn.requester, judiciary_code, private_chat=turn.scope == "personal")
    if downloads is None or not cards:
        return cards
    return [*cards[:-1], with_downloads(cards[-1], downloads, PACKAGE_TITLES)]


def with_export_button(turn: Turn, card: Card) -> Card:
    """JB staff's ``/status`` card with Export (Excel), or why not; anyone else's card as it is."""
    downloads = programme_downloads(turn.app, turn.requester, private_chat=turn.scope == "personal")
    return card if downloads is None else with_downloads(card, downloads, EXPORT_TITLES)
