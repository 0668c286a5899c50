"""The /status card: sections of rows (officers, open incidents, failed notices), paged below Teams' 28 KB limit."""

from __future__ import annotations

from typing import Any

from adaptive_cards import card as ac
from adaptive_cards.types import Colors, FontSize, FontWeight, Spacing

from cards.base import execute, heading, paragraph, render
from domain.views import ListPage, Row
from vocabulary.verbs import Verb

TONE_COLOURS = {"good": Colors.GOOD, "attention": Colors.ATTENTION, "warning": Colors.WARNING}


def _row(row: Row) -> list[Any]:
    """A row as its bold title and its detail just under it (and its button), with no container: a page holds 25."""
    detail = ac.TextBlock(
        text=row.detail,
        wrap=True,
        spacing=Spacing.NONE,
        is_subtle=row.tone == "default",
        color=TONE_COLOURS.get(row.tone),
    )
    items: list[Any] = [
        ac.TextBlock(text=row.title, wrap=True, weight=FontWeight.BOLDER, spacing=Spacing.SMALL),
        detail,
    ]
    if row.button is not None:
        items.append(ac.ActionSet(actions=[execute(row.button.title, row.button.verb, row.button.data)]))
    return items


def page_actions(page: ListPage) -> list[Any]:
    """Previous page / Next page buttons carrying the list, its query and the page number."""
    actions: list[Any] = []
    data = {"list": page.list_name, "query": page.query}
    if page.page > 1:
        actions.append(execute("Previous page", Verb.PAGE.value, data | {"page": page.page - 1}))
    if page.page < page.pages:
        actions.append(execute("Next page", Verb.PAGE.value, data | {"page": page.page + 1}))
    return actions


def list_body(page: ListPage) -> list[Any]:
    """The title, the summary line, then each section's heading and rows of this page."""
    body: list[Any] = [*heading(page.title, subtle=page.subtitle)]
    if not page.rows:
        body.append(paragraph(page.empty_text))
        return body
    section = None
    for row in page.rows:
        if row.section != section:
            section = row.section
            body.append(
                ac.TextBlock(
                    text=section,
                    weight=FontWeight.BOLDER,
                    size=FontSize.MEDIUM,
                    wrap=True,
                    separator=True,
                    spacing=Spacing.MEDIUM,
                )
            )
        body += _row(row)
    if page.pages > 1:
        body.append(
            paragraph(f"Page {page.page} of {page.pages} ({page.total} lines)", is_subtle=True, spacing=Spacing.MEDIUM)
        )
    return body


def status_card(page: ListPage) -> dict[str, Any]:
    """One page of /status."""
    body = list_body(page)
    if page.rows and page.page == page.pages and page.query == "":
        body.append(
            paragraph(
                "Type /status <officer number> for one officer's card (JB e-ticket staff can Approve or "
                "Extend monitoring there).",
                is_subtle=True,
                size=FontSize.SMALL,
            )
        )
    return render(body, page_actions(page))
