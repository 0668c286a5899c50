"""Download buttons on cards (issue 17): Action.OpenUrl to the signed links, or a line that says why there are none."""

from __future__ import annotations

import copy
from typing import Any

from adaptive_cards import card as ac
from adaptive_cards.types import FontSize

from cards.base import paragraph
from domain.exports import Downloads, DownloadsOff, ExportFormat

PACKAGE_TITLES = {ExportFormat.XLSX: "Download (Excel)", ExportFormat.CSV: "Download (CSV)"}
EXPORT_TITLES = {ExportFormat.XLSX: "Export (Excel)"}


def downloads_note(downloads: Downloads) -> str:
    """The line under the buttons: how long the links work, or why there are no buttons."""
    if downloads.off is DownloadsOff.NOT_CONFIGURED:
        names = " and ".join(downloads.missing)
        return (
            f"Spreadsheet downloads are off on this bot: its administrator has not set {names}. "
            "The card above is your copy meanwhile."
        )
    if downloads.off is DownloadsOff.NOT_PRIVATE:
        return (
            "Spreadsheet downloads are offered in your 1:1 chat with me only: a download link works for whoever "
            "opens it, so it is never shown where others can see it."
        )
    return f"Download links work for {downloads.minutes} minutes; type the command again for new ones."


def with_downloads(card: dict[str, Any], downloads: Downloads, titles: dict[ExportFormat, str]) -> dict[str, Any]:
    """The same card with a button per link (``titles`` names them) and the note; unchanged card otherwise."""
    changed = copy.deepcopy(card)
    note = paragraph(downloads_note(downloads), is_subtle=True, size=FontSize.SMALL)
    changed.setdefault("body", []).append(_dump(note))
    if downloads.links:
        buttons = [_dump(ac.ActionOpenUrl(title=titles[link.format], url=link.url)) for link in downloads.links]
        changed["actions"] = [*changed.get("actions", []), *buttons]
    return changed


def _dump(element: Any) -> dict[str, Any]:
    return element.model_dump(mode="json", exclude_none=True, by_alias=True)
