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
    db = await Database.open(tmp_path / "data")
    context = wire(Settings.from_env({"DATA_DIR": str(tmp_path / "data")}), db)
    bot = build_bot(context, ConversationState(DurableStorage(db.state, db.commit)))
    yield TestAdapter(bot.on_turn)
    await db.close()


def card_texts(activity: Activity) -> str:
    return (
        json.dumps(activity.attachments[0].content, ensure_ascii=False)
        if activity.attachments
        else (activity.text or "")
    )


async def test_help_lists_every_command(adapter: TestAdapter) -> None:
    await adapter.send("help")
    reply = adapter.get_next_activity()
    for usage in (
        "/new-package",
        "/status",
        "/audit ‹officer number›",
        "/set-poc ‹judiciary code› ‹e-mail or @mention›",
    ):
        assert usage in card_texts(reply)


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
