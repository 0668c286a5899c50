"""The one notifier: the notices use cases want sent become outbox entries, drawn by the presenter.

Audiences are resolved to conversations when a notice is queued:

- the JB: the conversation marked by ``/subscribe jb``; until one exists, each JB staff member's 1:1 chat;
- an agency: the channel subscribed with ``/subscribe <judiciary code>`` (none: nothing is queued);
- a person: their 1:1 chat with the bot (none known: nothing is queued).

An update of a card's copies reaches every copy: a copy still waiting in the outbox gets the new
card before it leaves; a delivered copy gets an update entry for its message.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from presentation.presenter import Presenter
from services.notices import Audience, Content, CopiesUpdate, Notice
from services.ports import Change
from storage.repositories import Database
from storage.repositories import Notice as OutboxEntry

logger = logging.getLogger(__name__)


def new_id() -> str:
    """A short unique id for an outbox entry."""
    return uuid.uuid4().hex[:16]


class Notifier:
    """Turns notice intents into outbox entries for the conversations their audiences are reached at."""

    def __init__(
        self,
        db: Database,
        presenter: Presenter,
        jb_staff_ids: Iterable[str],
        *,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self.presenter = presenter
        self._jb_staff_ids = sorted(jb_staff_ids)
        self._wake = wake

    def wake(self) -> None:
        """Tell the outbox sender something was queued."""
        self._wake()

    def conversations_for(self, audience: Audience) -> list[str]:
        """The conversation ids an audience is reached at now (may be empty)."""
        db = self._db
        if audience.kind == "jb":
            channel = db.subscriptions.conversation_for(db.subscriptions.JB)
            if channel is not None:
                return [channel]
            chats = [db.conversations.personal_chat_of(staff) for staff in self._jb_staff_ids]
            return [chat.conversation_id for chat in chats if chat is not None]
        if audience.kind == "agency":
            channel = db.subscriptions.conversation_for(audience.key)
            return [channel] if channel is not None else []
        chat = db.conversations.personal_chat_of(audience.key)
        return [chat.conversation_id] if chat is not None else []

    def changes_for(
        self,
        notices: Sequence[Notice],
        updates: Sequence[CopiesUpdate],
        *,
        now: datetime,
        shown: str | None = None,
    ) -> list[Change]:
        """Outbox entries for every notice and every copy an update reaches (``shown``: a message updated in-turn)."""
        changes: list[Change] = []
        for notice in notices:
            changes += self._send(notice, now)
        for update in updates:
            changes += self._update(update.subject, self.presenter.content(update.content), shown, now)
        return changes

    def _send(self, notice: Notice, now: datetime) -> list[Change]:
        card = self.presenter.content(notice.content)
        seen: set[str] = set()
        changes: list[Change] = []
        for audience in notice.audiences:
            targets = self.conversations_for(audience)
            if not targets:
                logger.info(
                    "no conversation known for audience kind=%s; notice subject=%s not queued",
                    audience.kind,
                    notice.subject,
                )
            for conversation_id in targets:
                if conversation_id in seen:
                    continue
                seen.add(conversation_id)
                entry = OutboxEntry(
                    id=new_id(),
                    seq=self._db.outbox.next_seq(),
                    conversation_id=conversation_id,
                    card=card,
                    created_at=now,
                    summary=notice.summary,
                    subject=notice.subject,
                    next_attempt_at=now,
                    reply_to=self._thread_root(notice.thread_of, conversation_id) if notice.thread_of else None,
                )
                changes.append(self._db.outbox.put(entry))
        return changes

    def _thread_root(self, subject: str, conversation_id: str) -> str | None:
        """In a channel, the activity id of the delivered card about ``subject`` to reply under (None: post anew)."""
        record = self._db.conversations.get(conversation_id)
        if record is None or record.kind != "channel":
            return None
        for entry in self._db.outbox.of_subject(subject):
            sent = entry.action == "send" and entry.status == "sent" and entry.activity_id
            if sent and entry.conversation_id == conversation_id and entry.reply_to is None:
                return entry.activity_id
        return None

    def _update(self, subject: str, card: dict[str, Any], shown: str | None, now: datetime) -> list[Change]:
        changes: list[Change] = []
        for entry in self._db.outbox.of_subject(subject):
            if entry.action != "send":
                continue
            if entry.status == "pending":
                changes.append(self._db.outbox.put(entry.model_copy(update={"card": card})))
            elif entry.status == "sent" and entry.activity_id and entry.activity_id != shown:
                update = OutboxEntry(
                    id=new_id(),
                    seq=self._db.outbox.next_seq(),
                    conversation_id=entry.conversation_id,
                    card=card,
                    created_at=now,
                    action="update",
                    summary=entry.summary,
                    subject=None,
                    activity_id=entry.activity_id,
                    next_attempt_at=now,
                    reply_to=entry.reply_to,
                )
                changes.append(self._db.outbox.put(update))
        return changes

    def track(
        self,
        subject: str,
        conversation_id: str,
        activity_id: str | None,
        content: Content,
        *,
        summary: str,
        now: datetime,
    ) -> list[Change]:
        """Remember a card the bot sent in-turn (not through the outbox) so later updates reach it too."""
        if not activity_id:
            return []
        entry = OutboxEntry(
            id=new_id(),
            seq=self._db.outbox.next_seq(),
            conversation_id=conversation_id,
            card=self.presenter.content(content),
            created_at=now,
            summary=summary,
            subject=subject,
            status="sent",
            activity_id=activity_id,
            finished_at=now,
        )
        return [self._db.outbox.put(entry)]
