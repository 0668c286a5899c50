"""The /audit card: an officer's history (who by name and Azure AD object id, what, when, before → after), paged."""

from __future__ import annotations

from typing import Any

from cards.base import render
from cards.status import ListPage, list_body, page_actions


def audit_card(page: ListPage) -> dict[str, Any]:
    """One page of an officer's audit history, oldest first."""
    return render(list_body(page), page_actions(page))
