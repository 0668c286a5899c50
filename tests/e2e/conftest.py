"""Fixtures for the end-to-end tier: the bot, two Playground instances (PoC and JB), headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    JB,
    PLAYGROUND_BIN,
    POC,
    BotProcess,
    ChatPage,
    Playground,
    start_playgrounds,
)


def _missing() -> str | None:
    if not PLAYGROUND_BIN.exists():
        return f"{PLAYGROUND_BIN} is missing (npm install)"
    if not CHROMIUM.exists():
        return "Debian chromium is missing (tools/install_test_prereqs.sh e2e)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is missing (requirements-dev.txt)"
    return None


@pytest.fixture(scope="session")
def e2e_ready() -> None:
    """Skip with the reason when prerequisites are missing, except under CI=true, where it fails."""
    problem = _missing()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"end-to-end prerequisites missing under CI: {problem}")
    pytest.skip(f"end-to-end prerequisites missing: {problem}")


@pytest.fixture(scope="module")
def bot(e2e_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    folder = tmp_path_factory.mktemp("e2e-bot")
    process = BotProcess(data_dir=folder / "data", log_path=folder / "bot.log").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def playgrounds(bot: BotProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Playground]]:
    started = start_playgrounds(bot.url, tmp_path_factory.mktemp("e2e-playgrounds"))
    yield started
    for playground in started.values():
        playground.stop()


@pytest.fixture(scope="module")
def browser(e2e_ready: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def pages(browser: Any, playgrounds: dict[str, Playground]) -> dict[str, ChatPage]:
    counter = [0]
    opened: dict[str, ChatPage] = {}
    for persona in (POC, JB):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = ChatPage(context.new_page(), persona, counter)
        page.open(playgrounds[persona.key].url)
        opened[persona.key] = page
    return opened


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.e2e)
