"""Bot-level tests through botbuilder's TestAdapter: the turn logic without HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botbuilder.core import ConversationState
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from app import wire
from bot.features import build_bot
from bot.state_storage import DurableStorage
from settings import Settings
from storage.repositories import Database


@pytest.fixture
async def adapter(tmp_path: Path) -> AsyncIterator[TestAdapter]:
    async for made in adapter_with(tmp_path, {}):
        yield made


@pytest.fixture
async def staff_adapter(tmp_path: Path) -> AsyncIterator[TestAdapter]:
    async for made in adapter_with(tmp_path, {"JB_STAFF_IDS": "User1"}):  # TestAdapter's own user id
        yield made


async def adapter_with(tmp_path: Path, env: dict[str, str]) -> AsyncIterator[TestAdapter]:
    db = await Database.open(tmp_path / "data")
    context = wire(Settings.from_env({"DATA_DIR": str(tmp_path / "data"), **env}), db)
    bot = build_bot(context, ConversationState(DurableStorage(db.state, db.commit)))
    yield TestAdapter(bot.on_turn)
    await db.close()


def card_texts(activity: Activity) -> str:
    return (
        json.dumps(activity.attachments[0].content, ensure_ascii=False)
        if activity.attachments
        else (activity.text or "")
    )


STAFF_ONLY = ("/audit ‹officer number›", "/set-poc ‹judiciary code› ‹e-mail or @mention›")


async def test_help_lists_every_command_to_jb_staff(staff_adapter: TestAdapter) -> None:
    await staff_adapter.send("help")
    reply = staff_adapter.get_next_activity()
    for usage in ("/new-package", "/status", *STAFF_ONLY):
        assert usage in card_texts(reply)


async def test_help_shows_others_only_the_commands_they_may_use(adapter: TestAdapter) -> None:
    await adapter.send("help")
    reply = card_texts(adapter.get_next_activity())
    assert "/new-package" in reply and "/status" in reply
    assert not any(usage in reply for usage in STAFF_ONLY)


async def test_unknown_words_are_named_in_the_help(adapter: TestAdapter) -> None:
    await adapter.send("approve everything")
    reply = adapter.get_next_activity()
    assert 'I don\'t know \\"approve\\"' in card_texts(reply)


async def test_a_bot_added_to_a_team_welcomes_with_subscribe_instructions(adapter: TestAdapter) -> None:
    update = Activity(
        type="conversationUpdate",
        members_added=[ChannelAccount(id="bot")],
        recipient=ChannelAccount(id="bot"),
        conversation=ConversationAccount(id="19:team", conversation_type="channel"),
    )
    await adapter.process_activity(update, adapter.logic)
    reply = adapter.get_next_activity()
    assert "/subscribe" in card_texts(reply)


async def test_placeholders_survive_teams_html_handling(adapter: TestAdapter) -> None:
    """Teams drops ``<officer number>`` as an unknown HTML tag; the card must show it another way."""
    await adapter.send("help")
    shown = card_texts(adapter.get_next_activity())
    assert "<officer number>" not in shown and "‹officer number›" in shown
