"""Nobody is left out (issue 14), in the Agents Playground: the PoC sends the Information Package before the
JB has any conversation with the bot; the package waits. Opening Jamie's Playground installs the bot in
Jamie's 1:1 chat, which brings it there; when Jamie runs ``/subscribe jb`` in the JB channel, the package,
still awaiting acknowledgment, is posted there too with its Acknowledge button, and Acknowledge there
updates both copies.

This module has its own bot (an empty store) and its own Playgrounds, and opens the JB's page only after
the PoC has sent the package, so that nothing of the JB's reaches the bot before the package does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.harness import JB, POC, SHOTS, ChatPage, Playground
from tests.e2e.walkthrough import send_package, subscribe

VIEWPORT = {"width": 1400, "height": 1000}
"""The suite's browser window (tests/e2e/conftest.py), in which the Playground draws its default layout."""


@pytest.fixture(scope="module")
def opener(browser: Any, playgrounds: dict[str, Playground]) -> Iterator[Any]:
    """Open one person's Playground page when the test says so (``opener("jb")``), not before."""
    counter = [0]
    contexts: list[Any] = []

    def open_page(key: str) -> ChatPage:
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        page = ChatPage(context.new_page(), {"poc": POC, "jb": JB}[key], counter, prefix="waiting-")
        page.open(playgrounds[key].url)
        return page

    yield open_page
    for context in contexts:
        context.close()


def test_a_package_sent_before_the_jb_exists_waits_and_reaches_the_jb_channel_on_subscribe_jb(opener: Any) -> None:
    poc = opener("poc")
    send_package(poc)
    sent = poc.wait_for_card_text("Information Package sent", "waiting-package-sent")
    text = sent.inner_text()
    assert "Stored for the Judicial Bureau" in text and "have not connected to this bot in Teams yet" in text
    sent.evaluate("card => card.scrollIntoView({block: 'start'})")  # its top: the title and the warning
    poc.page.wait_for_timeout(300)
    poc.shot("package-stored-for-the-jb")

    jb = opener("jb")
    # loading the page installs the bot in each of Jamie's chats (tools/playground.py): the install in the
    # 1:1 chat is the JB's first conversation, and what waited for the JB is delivered there at once
    jb.open_personal_chat()
    jb.wait_for_card_text("New Information Package: Williston Police Department", "waiting-jb-personal")
    jb.shot("personal-chat-package-delivered-at-install")
    subscribe(jb, JB.channel_name, "jb", "waiting-jb-subscribe")
    answer = jb.wait_for_card_text("Alerts routed here", "waiting-jb-subscribe-answer")
    assert "I post the notice still waiting for the JB here now." in answer.inner_text()
    card = jb.wait_for_card_text("New Information Package: Williston Police Department", "waiting-jb-package")
    acknowledge = card.locator("button[title='Acknowledge']").first
    if not acknowledge.is_visible():
        jb.fail("waiting-acknowledge", "the waiting package card shows no Acknowledge button")
    assert "A1234" in card.inner_text() and "B2345" in card.inner_text()
    acknowledge.scroll_into_view_if_needed()
    jb.page.wait_for_timeout(500)  # let the card finish laying out
    jb.shot("jb-channel-waiting-package-with-acknowledge")
    card.screenshot(path=str(SHOTS / "waiting-jb-package-card.png"))  # the card alone, at the same width

    jb.press(card, "Acknowledge")
    jb.wait_for_card_text("Acknowledged by Jamie Staff", "waiting-acknowledged")
    jb.shot("jb-channel-waiting-package-acknowledged")
    poc.open_personal_chat()
    poc.wait_for_card_text("may begin issuing", "waiting-poc-acknowledgment", timeout=30)
    poc.shot("poc-acknowledgment-after-waiting")
