"""The Information Package wizard through botbuilder's TestAdapter: the turn logic without HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core import ConversationState
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from app import wire
from bot.features import build_bot
from bot.state_storage import DurableStorage
from cards.base import teams_findings
from services.context import AppContext
from settings import Settings
from storage.repositories import Database
from tests.bot.package_flow import AGENCY, button, officer, text_of
from tests.support.factories import JB_AAD, POC_AAD

START = (date.today() + timedelta(days=10)).isoformat()


@pytest.fixture
async def context(tmp_path: Path) -> AsyncIterator[AppContext]:
    db = await Database.open(tmp_path / "data")
    yield wire(Settings.from_env({"DATA_DIR": str(tmp_path / "data"), "JB_STAFF_IDS": JB_AAD}), db)
    await db.close()


def adapter_for(context: AppContext) -> TestAdapter:
    bot = build_bot(context, ConversationState(DurableStorage(context.db.state, context.db.commit)))
    adapter = TestAdapter(bot.on_turn)
    adapter.template.from_property = ChannelAccount(id=f"29:{POC_AAD}", name="Pat Poc", aad_object_id=POC_AAD)
    adapter.template.conversation = ConversationAccount(id="a:personal-poc", conversation_type="personal")
    return adapter


async def press(
    adapter: TestAdapter, card: dict[str, Any], title: str, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An Action.Execute press through the adapter; returns the card of the invoke response."""
    action = button(card, title)
    data = dict(action["data"]) | (values or {})
    invoke = Activity(
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": action["verb"], "data": data}},
    )
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
    first = {
        "first_name": "Casey",
        "last_name": "Officer",
        "officer_number": "a1234",
        "dps_username": "cofficer",
        "start_date": START,
    }
    card = await press(adapter, card, "Save and add another officer", first)
    card = await press(adapter, card, "Next: review", first | {"officer_number": "B2345", "first_name": "Dana"})
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


async def start(adapter: TestAdapter) -> dict[str, Any]:
    await adapter.send("/new-package")
    return adapter.get_next_activity().attachments[0].content


async def to_officers_step(adapter: TestAdapter, agency: dict[str, str] = AGENCY) -> dict[str, Any]:
    card = await press(adapter, await start(adapter), "Next", {"records_system": "valcour"})
    card = await press(adapter, card, "Next", {"valcour_installed": "true", "officers_trained": "true"})
    return await press(adapter, card, "Next", agency)


async def test_tracs_spillman_ends_with_the_referral(context: AppContext) -> None:
    adapter = adapter_for(context)
    card = await press(adapter, await start(adapter), "Next", {"records_system": "tracs_spillman"})
    assert "JB Approval to Issue e-Tickets (TraCS/Spillman)" in text_of(card)
    assert "JUD-eTicket@vermont.gov" in text_of(card)
    assert context.db.packages.all() == []


async def test_a_wrong_field_is_answered_beside_it_and_fixed(context: AppContext) -> None:
    adapter = adapter_for(context)
    card = await press(adapter, await start(adapter), "Next", {"records_system": "valcour"})
    card = await press(adapter, card, "Next", {"valcour_installed": "true", "officers_trained": "true"})
    card = await press(adapter, card, "Next", AGENCY | {"judiciary_code": "A900"})
    assert "Step 3 of 5" in text_of(card) and "exactly 4 digits" in text_of(card)
    assert "Williston Police Department" in json.dumps(card), "the other answers are kept"
    card = await press(adapter, card, "Next", AGENCY)
    assert "Step 4 of 5" in text_of(card)


async def test_cancel_stores_nothing(context: AppContext) -> None:
    adapter = adapter_for(context)
    card = await to_officers_step(adapter)
    card = await press(adapter, card, "Cancel")
    assert "Step" not in text_of(card)
    assert context.db.packages.all() == [] and context.db.officers.all() == []


async def test_a_judiciary_code_with_a_package_continues_as_add_officer_when_chosen(context: AppContext) -> None:
    adapter = adapter_for(context)
    card = await to_officers_step(adapter)
    card = await press(adapter, card, "Next: review", officer())
    await press(adapter, card, "Submit")
    card = await to_officers_step(adapter)
    assert "already" in text_of(card).lower() and "9000" in text_of(card)
    card = await press(adapter, card, "Add officers to Williston Police Department", AGENCY)
    card = await press(adapter, card, "Next: review", officer("B2345", "Dana"))
    card = await press(adapter, card, "Submit")
    assert len(context.db.packages.all()) == 1, "one agency has one package"
    assert [o.officer_number for o in context.db.officers.of_agency("9000")] == ["A1234", "B2345"]
