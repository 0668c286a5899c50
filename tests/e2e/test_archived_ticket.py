"""Ten years on one machine (issue 15), in the Agents Playground: a rejection that arrives about an e-ticket the
archive holds (issued 500 days ago, closed, moved out of memory) still raises the alert in the agency's channel,
judged over the ticket's whole history; the replayed old event is a duplicate.

This module has its own bot: its store is written first with the bot stopped (the package, an officer of long
standing, and one old e-ticket recorded through the intake), then archived as the bot's own pass does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from domain.records import Actor, OfficerState, Stamp
from storage.repositories import Database
from tests.e2e.harness import POC, SHOTS, ChatPage
from tests.e2e.walkthrough import subscribe
from tests.support import seed
from tools.playground import BotProcess

T = TypeVar("T")

ISSUED = datetime.now(UTC).replace(microsecond=0) - timedelta(days=500)
TICKET = "VT-2025-0042"


def _event(event_id: str, kind: str, occurred: datetime, **fields: object) -> dict[str, object]:
    return {
        "event_id": event_id,
        "type": kind,
        "ticket_number": TICKET,
        "officer_number": "A1234",
        "judiciary_code": "9000",
        "issued_at": ISSUED.isoformat(),
        "occurred_at": occurred.isoformat(),
    } | fields


OLD_EVENTS = [
    _event("old-submitted", "submitted", ISSUED + timedelta(hours=1)),
    _event("old-accepted", "accepted", ISSUED + timedelta(hours=3)),
]


async def _seed(data_dir: Path) -> None:
    db = await Database.open(data_dir)
    since = ISSUED - timedelta(days=30)
    staff = Actor(aad_id="jb", name="Jamie Staff")
    veteran = seed.officer(
        "A1234",
        state=OfficerState.APPROVED,
        start_date=since.date(),
        added=Stamp(actor=Actor(aad_id=POC.aad_id, name="Pat Poc"), at=since),
        approved=Stamp(actor=staff, at=since + timedelta(days=10)),
        approval_date=(since + timedelta(days=10)).date(),
    )
    await db.commit([db.packages.put(seed.package("9000", poc=POC.aad_id)), db.officers.put(veteran)])
    await db.close()


async def _archive(data_dir: Path) -> int:
    """The bot's archive pass, as of now, over the stopped bot's store."""
    db = await Database.open(data_dir)
    keys = db.archive.ticket_keys()
    moved = await db.archive.move(db.archive.due(keys, datetime.now(UTC) - timedelta(days=400), set()))
    assert not db.ticket_states.has(f"9000:{TICKET}")
    await db.close()
    return moved


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end on a thread of its own (the browser's driver holds an event loop here)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="module")
def bot(e2e_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    folder = tmp_path_factory.mktemp("e2e-archive-bot")
    data_dir = folder / "data"
    _run(_seed(data_dir))
    first = BotProcess(data_dir=data_dir, log_path=folder / "bot.log").start()
    try:
        answer = first.post_events(OLD_EVENTS)
        assert [result["status"] for result in answer["results"]] == ["recorded", "recorded"]
    finally:
        first.stop()
    assert _run(_archive(data_dir)) == 1
    process = BotProcess(data_dir=data_dir, log_path=folder / "bot.log", port=first.port, secret=first.secret)
    process.start()
    yield process
    process.stop()


def test_a_late_rejection_of_an_archived_e_ticket_alerts_the_agency_channel(
    pages: dict[str, ChatPage], bot: BotProcess
) -> None:
    poc = pages["poc"]
    subscribe(poc, "Agency e-Tickets", "9000", "archive-subscribe")

    replay = bot.post_events([OLD_EVENTS[1]])
    assert [result["status"] for result in replay["results"]] == ["duplicate"]  # read back from the archive

    late = _event("late-rejected", "rejected", datetime.now(UTC) - timedelta(minutes=10), reason="Court code invalid")
    answer = bot.post_events([late])
    assert [result["status"] for result in answer["results"]] == ["recorded"]
    assert answer["results"][0]["incidents"], "the late rejection raised no incident"
    card = poc.wait_for_card_text("E-ticket rejected by Odyssey", "archive-alert")
    text = card.inner_text()
    assert TICKET in text and "Court code invalid" in text
    card.scroll_into_view_if_needed()
    poc.page.wait_for_timeout(300)
    poc.page.screenshot(path=str(SHOTS / "archive-agency-channel-late-alert.png"))
