"""Who gets a card's automatic refresh in a group chat or channel: ``refresh.userIds`` from the roster.

Teams refreshes a card by itself for the users listed in ``refresh.userIds`` (at most 60); with the
list empty it offers everyone "Refresh card" in the message's menu instead; with no list at all it
refreshes automatically for everyone in conversations of at most 60 people and offers the manual
refresh in larger ones. So:

- at most 60 members: all of them are listed, and the card refreshes for each as they look at it;
- more: the list is left empty, and people refresh by hand (the manual refresh Teams offers);
- roster not known: ``userIds`` is left out, and Teams does what it does by default (above).

The roster is read inside a turn that comes from the conversation (a refresh invoke: Teams asks while
someone looks at the card), one page of up to 100 members, and kept ten minutes per conversation;
the outbox sender uses what is kept and never reads it itself. A roster read in the sender would add
a network call (with msrest's own retries) to every first delivery in a channel, and during a Teams
outage it held back every other conversation's retries (tests/security/test_faults.py).
In a 1:1 chat nothing is added: the one person's client refreshes the card.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botbuilder.core import BotAdapter, TurnContext

from bot.conversations import base_conversation_id, conversation_kind

logger = logging.getLogger(__name__)

USER_IDS_LIMIT = 60
PAGE_SIZE = 100
ROSTER_SECONDS = 600.0
LOOKUP_SECONDS = 3.0
CACHE_LIMIT = 1000


@dataclass(frozen=True)
class Roster:
    """The members' Teams user ids (MRIs), and whether that is everyone."""

    user_ids: tuple[str, ...]
    complete: bool

    @property
    def refresh_user_ids(self) -> list[str]:
        """What ``refresh.userIds`` says: everyone, when at most 60; nobody (manual refresh) otherwise."""
        if self.complete and len(self.user_ids) <= USER_IDS_LIMIT:
            return list(self.user_ids)
        return []


class RefreshAudience:
    """Adds ``refresh.userIds`` to cards sent to group chats and channels (see the module's note)."""

    def __init__(self, *, ttl: float = ROSTER_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._rosters: dict[str, tuple[float, Roster | None]] = {}

    async def prepare(self, turn_context: TurnContext, card: dict[str, Any]) -> dict[str, Any]:
        """For the outbox sender: the card with the refresh's audience as last read here (no network call)."""
        return self._with_user_ids(turn_context, card) if self._wanted(turn_context, card) else card

    async def prepare_in_turn(self, turn_context: TurnContext, card: dict[str, Any]) -> dict[str, Any]:
        """For a turn from the conversation: the roster is read first when what is kept is older than ten minutes."""
        if not self._wanted(turn_context, card):
            return card
        conversation_id = base_conversation_id(turn_context.activity)
        if self._kept(conversation_id) is None:
            roster = await self._read(turn_context, conversation_id)
            if len(self._rosters) >= CACHE_LIMIT:
                self._rosters.clear()
            self._rosters[conversation_id] = (self._clock(), roster)
        return self._with_user_ids(turn_context, card)

    @staticmethod
    def _wanted(turn_context: TurnContext, card: dict[str, Any]) -> bool:
        activity = turn_context.activity
        return (
            isinstance(card.get("refresh"), dict)
            and activity.conversation is not None
            and conversation_kind(activity) != "personal"
        )

    def _kept(self, conversation_id: str) -> tuple[float, Roster | None] | None:
        kept = self._rosters.get(conversation_id)
        if kept is None or self._clock() - kept[0] >= self._ttl:
            return None
        return kept

    def _with_user_ids(self, turn_context: TurnContext, card: dict[str, Any]) -> dict[str, Any]:
        kept = self._kept(base_conversation_id(turn_context.activity))
        roster = kept[1] if kept is not None else None
        if roster is None:
            return card
        return card | {"refresh": card["refresh"] | {"userIds": roster.refresh_user_ids}}

    async def _read(self, turn_context: TurnContext, conversation_id: str) -> Roster | None:
        # TeamsInfo.get_paged_members needs the channelData of an incoming activity, which a proactive
        # turn has not: ask the turn's connector client for the conversation's members directly.
        client = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
        if client is None:
            return None
        try:
            page = await asyncio.wait_for(
                client.conversations.get_teams_conversation_paged_members(conversation_id, PAGE_SIZE), LOOKUP_SECONDS
            )
        except Exception as error:  # a roster is a nicety: never fail a send or a refresh for it
            logger.info("roster of conversation=%s not read: %s", conversation_id, type(error).__name__)
            return None
        members = getattr(page, "members", None) or []
        ids = tuple(member.id for member in members if getattr(member, "id", None))
        return Roster(ids, complete=not getattr(page, "continuation_token", None))
