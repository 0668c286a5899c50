"""/digest [judiciary code]: the weekly digest card at any time, to those allowed to see it."""

from __future__ import annotations

from typing import Any

from app import CONTEXT
from cards.base import teams_findings
from cards.digest import without_charts
from tests.support.chart_schema import chart_schema_findings
from tests.support.factories import JB_AAD, OTHER_AAD, make_message
from tests.support.fake_connector import FakeConnector
from tests.support.seed import seed_agency


async def ask(client: Any, connector: FakeConnector, text: str, **who: Any) -> Any:
    connector.sent.clear()
    message = make_message(text, connector.url, **who)
    await client.post("/api/messages", json=message)

    def replies(sent: list[Any]) -> list[Any]:  # the clocks may send a digest or a reminder meanwhile
        return [s for s in sent if s.body.get("replyToId") == message["id"]]

    await connector.wait_for(lambda sent: len(replies(sent)) >= 1)
    (reply,) = replies(connector.sent)
    return reply


async def test_jb_staff_see_every_agency_and_a_poc_their_own(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await seed_agency(client.server.app[CONTEXT], officers=("A1234", "B2345"))
    reply = await ask(client, connector, "/digest", user_aad=JB_AAD, user_name="Jamie Staff")
    card = reply.cards[0]
    assert "Weekly e-ticket digest" in reply.text and "All agencies" in reply.text
    assert [item["type"] for item in card["body"] if item["type"].startswith("Chart.")] == [
        "Chart.Donut",
        "Chart.VerticalBar",
    ]
    assert chart_schema_findings(card) == [] and teams_findings(without_charts(card)) == []

    mine = await ask(client, connector, "digest")
    assert "Williston Police Department (9000)" in mine.text and "Casey Officer (B2345)" in mine.text
    assert "Not allowed" in (await ask(client, connector, "/digest 9100")).text


async def test_someone_without_an_agency_is_told_what_digest_shows(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await seed_agency(client.server.app[CONTEXT])
    reply = await ask(client, connector, "/digest", user_aad=OTHER_AAD, user_name="Someone")
    assert "Nothing to show" in reply.text and "Casey" not in reply.text
    assert "Not allowed" in (await ask(client, connector, "/digest 9000", user_aad=OTHER_AAD)).text
    assert "Which digest?" in (await ask(client, connector, "/digest 12", user_aad=JB_AAD)).text
