"""Notices: who gets told what. Every notice is stored in the outbox before anything is sent.

Audiences are resolved to conversations when the notice is queued:
- the JB: the conversation marked by ``/subscribe jb``; until one exists, each JB staff member's 1:1 chat;
- an agency: the channel subscribed with ``/subscribe <judiciary code>`` (none: nothing is queued);
- a person: their 1:1 chat with the bot (none known: nothing is queued).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from services.context import AppContext, new_id
from storage.engine import Op
from storage.repositories import Notice, SubscriptionRepository

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Audience:
    """Someone the bot owes a notice: the JB, an agency's channel, or one person."""

    kind: str  # "jb" | "agency" | "person"
    key: str = ""

    @classmethod
    def jb(cls) -> Audience:
        """The JB e-ticket staff."""
        return cls("jb")

    @classmethod
    def agency(cls, judiciary_code: str) -> Audience:
        """An agency's subscribed channel."""
        return cls("agency", judiciary_code)

    @classmethod
    def person(cls, aad_id: str) -> Audience:
        """One person's 1:1 chat."""
        return cls("person", aad_id.lower())


def conversations_for(app: AppContext, audience: Audience) -> list[str]:
    """The conversation ids an audience is reached at now (may be empty)."""
    db = app.db
    if audience.kind == "jb":
        channel = db.subscriptions.conversation_for(SubscriptionRepository.JB)
        if channel is not None:
            return [channel]
        chats = [db.conversations.personal_chat_of(staff) for staff in sorted(app.settings.jb_staff_ids)]
        return [chat.conversation_id for chat in chats if chat is not None]
    if audience.kind == "agency":
        channel = db.subscriptions.conversation_for(audience.key)
        return [channel] if channel is not None else []
    chat = db.conversations.personal_chat_of(audience.key)
    return [chat.conversation_id] if chat is not None else []


def notice_ops(
    app: AppContext,
    audiences: Iterable[Audience],
    card: dict[str, Any],
    *,
    summary: str,
    subject: str | None = None,
    exclude: Iterable[str] = (),
) -> list[Op]:
    """Ops that queue one copy of the card to each distinct conversation of the audiences.

    ``exclude`` lists conversations that already show the card (e.g. the one where a button was pressed).
    """
    seen = set(exclude)
    ops: list[Op] = []
    now = app.now()
    for audience in audiences:
        targets = conversations_for(app, audience)
        if not targets:
            logger.info(
                "no conversation known for audience kind=%s; notice subject=%s not queued", audience.kind, subject
            )
        for conversation_id in targets:
            if conversation_id in seen:
                continue
            seen.add(conversation_id)
            notice = Notice(
                id=new_id(),
                seq=app.db.outbox.next_seq(),
                conversation_id=conversation_id,
                card=card,
                created_at=now,
                summary=summary,
                subject=subject,
                next_attempt_at=now,
            )
            ops.append(app.db.outbox.put(notice))
    return ops


def update_ops(app: AppContext, subject: str, card: dict[str, Any], *, exclude_activity: str | None = None) -> list[Op]:
    """Ops that bring every copy of one alert or card up to date.

    A copy still waiting in the outbox gets the new card before it leaves; a delivered copy gets
    an update notice for its message; ``exclude_activity`` is a message already updated in the turn.
    """
    ops: list[Op] = []
    now = app.now()
    for notice in app.db.outbox.of_subject(subject):
        if notice.action != "send":
            continue
        if notice.status == "pending":
            ops.append(app.db.outbox.put(notice.model_copy(update={"card": card})))
        elif notice.status == "sent" and notice.activity_id and notice.activity_id != exclude_activity:
            update = Notice(
                id=new_id(),
                seq=app.db.outbox.next_seq(),
                conversation_id=notice.conversation_id,
                card=card,
                created_at=now,
                action="update",
                summary=notice.summary,
                subject=None,
                activity_id=notice.activity_id,
                next_attempt_at=now,
            )
            ops.append(app.db.outbox.put(update))
    return ops


def track_ops(
    app: AppContext, subject: str, conversation_id: str, activity_id: str | None, card: dict[str, Any], *, summary: str
) -> list[Op]:
    """Ops that remember a card the bot sent in-turn (not via the outbox) so later updates reach it too."""
    if not activity_id:
        return []
    now = app.now()
    notice = Notice(
        id=new_id(),
        seq=app.db.outbox.next_seq(),
        conversation_id=conversation_id,
        card=card,
        created_at=now,
        summary=summary,
        subject=subject,
        status="sent",
        activity_id=activity_id,
        finished_at=now,
    )
    return [app.db.outbox.put(notice)]
