"""The Information Package wizard through botbuilder's TestAdapter: the turn logic without HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core import ConversationState
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from bot.features import build_bot
from bot.state_storage import DurableStorage
from cards.base import teams_findings
from services.context import AppContext
from settings import Settings
from storage.repositories import Database
from tests.bot.package_flow import AGENCY, button, text_of
from tests.support.factories import JB_AAD, POC_AAD

START = (date.today() + timedelta(days=10)).isoformat()


@pytest.fixture
async def context(tmp_path: Path) -> AsyncIterator[AppContext]:
    db = await Database.open(tmp_path / "data")
    yield AppContext(Settings.from_env({"DATA_DIR": str(tmp_path / "data"), "JB_STAFF_IDS": JB_AAD}), db)
    await db.close()


def adapter_for(context: AppContext) -> TestAdapter:
    bot = build_bot(context, ConversationState(DurableStorage(context.db.state, context.db.commit)))
    adapter = TestAdapter(bot.on_turn)
    adapter.template.from_property = ChannelAccount(id=f"29:{POC_AAD}", name="Pat Poc", aad_object_id=POC_AAD)
    adapter.template.conversation = ConversationAccount(id="a:personal-poc", conversation_type="personal")
    return adapter


async def press(adapter: TestAdapter, card: dict[str, Any], title: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """An Action.Execute press through the adapter; returns the card of the invoke response."""
    action = button(card, title)
    data = dict(action["data"]) | (values or {})
    invoke = Activity(type="invoke", name="adaptiveCard/action",
                      value={"action": {"type": "Action.Execute", "verb": action["verb"], "data": data}})
    await adapter.send(invoke)
    response = adapter.get_next_activity()
    assert response.type == "invokeResponse" and response.value.status == 200
    new_card = response.value.body.value
    assert teams_findings(new_card) == []
    return new_card


async def test_the_wizard_walks_to_submit_through_the_test_adapter(context: AppContext) -> None:
    adapter = adapter_for(context)
    await adapter.send("/new-package")
    card = adapter.get_next_activity().attachments[0].content
    card = await press(adapter, card, "Next", {"records_system": "valcour"})
    card = await press(adapter, card, "Next", {"valcour_installed": "true", "officers_trained": "true"})
    card = await press(adapter, card, "Next", AGENCY)
    officer = {"first_name": "Casey", "last_name": "Officer", "officer_number": "a1234", "dps_username": "cofficer",
               "start_date": START}
    card = await press(adapter, card, "Save and add another officer", officer)
    card = await press(adapter, card, "Next: review", officer | {"officer_number": "B2345", "first_name": "Dana"})
    assert "A1234" in text_of(card) and "B2345" in text_of(card)
    card = await press(adapter, card, "Submit")
    assert "Information Package sent" in text_of(card)
    assert [o.officer_number for o in context.db.officers.of_agency("9000")] == ["A1234", "B2345"]


async def test_the_wizard_state_survives_a_new_bot_on_the_same_storage(context: AppContext) -> None:
    adapter = adapter_for(context)
    await adapter.send("/new-package")
    card = adapter.get_next_activity().attachments[0].content
    card = await press(adapter, card, "Next", {"records_system": "valcour"})
    again = adapter_for(context)
    card = await press(again, card, "Next", {"valcour_installed": "true", "officers_trained": "true"})
    assert "Step 3 of 5" in text_of(card)
