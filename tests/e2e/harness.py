"""End-to-end harness: headless Chromium driving Agents Playground pages, one per person.

The bot process, the Playground instances and their configs are tools/playground.py's (``make demo``
starts the same ones); this module re-exports them for the tests and adds the browser side.

What the Microsoft 365 Agents Playground (npm ``@microsoft/m365agentsplayground`` 0.2.28) page does,
as seen on this machine:

- The compose box is ``[contenteditable=true][role=textbox]``. In a channel a message reaches the
  bot only with a mention: type ``@`` and click the bot in the ``[role=menuitem]`` suggestions; a new
  channel post is sent with the Post button.
- Adaptive Cards render as ``.ac-adaptiveCard``; each input's ``<label for=…>`` names it; an
  expanded choice set is a radio group, a compact one (the 1.5 default) an ``input[role=combobox]``
  whose options are ``[role=listbox] [role=option]``; toggles are checkboxes; ``Input.Date`` opens
  ``[role=dialog][aria-label=Calendar]`` with a header button labelled like "November 2026", month
  arrows that have only a ``title`` ("Next month December", "Previous month October") and days as
  buttons like ``button[aria-label="24, November, 2026"]`` (neighbouring months' days too).
  Buttons carry the action title in ``title``.
  After ``Action.Execute`` the card returned in the invoke response replaces the pressed card.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tools.playground import (
    BOT_NAME,
    JB,
    PLAYGROUND_BIN,
    POC,
    ROOT,
    BotProcess,
    Persona,
    Playground,
    free_port,
    start_playgrounds,
    wait_http,
)

SHOTS = ROOT / "build" / "e2e"
CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
__all__ = [
    "BOT_NAME",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "JB",
    "PLAYGROUND_BIN",
    "POC",
    "ROOT",
    "SHOTS",
    "BotProcess",
    "ChatPage",
    "Persona",
    "Playground",
    "StepFailed",
    "free_port",
    "start_playgrounds",
    "wait_http",
]


class StepFailed(AssertionError):
    """A step did not show what it should; the message names the screenshot."""


class ChatPage:
    """One person's Playground page, driven like a person would."""

    def __init__(self, page: Any, persona: Persona, counter: list[int], *, prefix: str = "") -> None:
        self.page = page
        self.persona = persona
        self._counter = counter
        self._prefix = prefix

    def shot(self, name: str) -> Path:
        """Save a screenshot as build/e2e/<prefix>NN-<persona>-<name>.png."""
        self._counter[0] += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{self._prefix}{self._counter[0]:02d}-{self.persona.key}-{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def fail(self, name: str, message: str) -> None:
        """Take a screenshot and fail with its path."""
        path = self.shot(f"FAILED-{name}")
        raise StepFailed(f"{message} (screenshot: {path})")

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.locator("[contenteditable=true][role=textbox]").first.wait_for(timeout=30_000)

    def open_personal_chat(self) -> None:
        self.page.get_by_text("Personal Chat", exact=True).first.click()
        self.page.wait_for_timeout(500)

    def open_channel(self, name: str) -> None:
        self.page.get_by_text(name, exact=True).first.click()
        self.page.wait_for_timeout(500)

    def cards(self) -> Any:
        return self.page.locator(".ac-adaptiveCard")

    def card_count(self) -> int:
        return self.cards().count()

    def send(self, text: str, *, mention: bool = False) -> None:
        """Type a message and send it; in channels, @mention the bot first."""
        box = self.page.locator("[contenteditable=true][role=textbox]").first
        box.click()
        if mention:
            box.type("@")
            self.page.locator("[role=menuitem]", has_text=BOT_NAME).first.click()
            box.type(" ")
        box.type(text)
        post = self.page.get_by_role("button", name="Post")
        if mention and post.count():
            post.first.click()
        else:
            self.page.keyboard.press("Enter")

    def _showing(self, text: str) -> list[tuple[Any, str]]:
        """Each card on screen that shows text, with that text as read (in page order)."""
        cards = self.cards()
        found = []
        for index in range(cards.count()):
            card = cards.nth(index)
            with contextlib.suppress(Exception):
                shown = card.inner_text(timeout=1000)
                if text in shown:
                    found.append((card, shown))
        return found

    def cards_with(self, text: str) -> list[Any]:
        """The cards on screen that show text (in page order)."""
        return [card for card, _ in self._showing(text)]

    def texts_with(self, text: str) -> list[str]:
        """The text of each card on screen that shows text, read at once (a card's locator is its position,
        which moves to another card when a new thread arrives at the top of a channel)."""
        return [shown for _, shown in self._showing(text)]

    def wait_for_card_text(self, text: str, name: str, *, timeout: float = 20.0, more_than: int = 0) -> Any:
        """Wait until more than ``more_than`` cards show text; returns the newest such card (fails with a screenshot)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.cards_with(text)
            if len(found) > more_than:
                # channels list the newest thread first, chats the newest message last
                card = found[0] if self._in_channel() else found[-1]
                with contextlib.suppress(Exception):
                    card.scroll_into_view_if_needed(timeout=2000)
                return card
            self.page.wait_for_timeout(300)
        self.fail(name, f"no new card showed {text!r}")

    def _in_channel(self) -> bool:
        return self.page.get_by_text("Start a new post").count() > 0

    def wait_for_card_gone(self, text: str, card: Any, name: str, *, timeout: float = 20.0) -> None:
        """Wait until this card no longer shows text (it was replaced or updated)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if text not in card.inner_text(timeout=1000):
                    return
            self.page.wait_for_timeout(300)
        self.fail(name, f"the card still shows {text!r}")

    def _input_for(self, card: Any, label: str) -> Any:
        labels = card.locator("label")
        for index in range(labels.count()):
            element = labels.nth(index)
            text = re.sub(r"\s*\*$", "", element.inner_text().strip())
            if text == label or text.startswith(label):
                target = element.get_attribute("for")
                if target:
                    return card.locator(f"[id='{target}']")
        self.fail("input", f"no input labelled {label!r}")

    def fill(self, card: Any, label: str, value: str) -> None:
        """Type into the text input with this label."""
        field_ = self._input_for(card, label)
        field_.fill(value)

    def choose(self, card: Any, label: str, option: str) -> None:
        """Pick an option of a choice set by its title: a radio group (expanded) or a drop-down (compact)."""
        target = self._input_for(card, label)
        if target.get_attribute("role") == "combobox":
            target.click()
            self.page.locator("[role=listbox] [role=option]", has_text=option).first.click()
        else:
            target.locator("label", has_text=option).first.click()

    def toggle(self, card: Any, label: str) -> None:
        """Tick a toggle (checkbox) by its title."""
        box = card.locator("label", has_text=label).first
        box.click()

    def pick_date(self, card: Any, label: str, day: date) -> None:
        """Open an Input.Date picker, go to the day's month and click the day (typing is disabled)."""
        self._input_for(card, label).click()
        calendar = self.page.locator("[role=dialog][aria-label=Calendar]")
        calendar.wait_for(timeout=5000)
        # the header button is labelled like "November 2026"; the arrows only have a title
        # ("Next month December", "Previous month October"), no aria-label
        header = calendar.locator("button[aria-live], button:has(> span[aria-live])").first
        shown = datetime.strptime(header.inner_text().strip(), "%B %Y")
        steps = (day.year - shown.year) * 12 + day.month - shown.month
        arrow = "Next month" if steps > 0 else "Previous month"
        for _ in range(abs(steps)):
            calendar.locator(f"button[title^='{arrow}']").first.click()
        aria = f"{day.day}, {day.strftime('%B')}, {day.year}"
        button = calendar.locator(f"button[aria-label='{aria}']").first
        try:
            button.wait_for(timeout=5000)
        except Exception:
            self.fail("date", f"the date picker for {label!r} shows no day {aria!r}")
        button.click()

    def press(self, card: Any, title: str) -> None:
        """Press a card button by its title."""
        card.locator(f"button[title='{title}']").first.click()
