"""The one notifier: the notices use cases want sent become outbox entries, drawn by the presenter.

Audiences are resolved to conversations when a notice is queued:

- the JB: the conversation marked by ``/subscribe jb``; until one exists, each JB staff member's 1:1 chat;
- an agency: the channel subscribed with ``/subscribe <judiciary code>``; until one exists, its PoC;
- a person: their 1:1 chat with the bot.

A notice with nowhere to go yet is never dropped: it is kept as "waiting" for its reader (the JB,
or a person) and released to the first conversation that reaches them (``release``): a JB staff
member's 1:1 chat or ``/subscribe jb`` for the JB, the person's 1:1 chat for a person.

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


def waiting_key(audience: Audience) -> str:
    """What a waiting entry waits for: ``jb``, or ``person:<object id>``."""
    return "jb" if audience.kind == "jb" else f"{audience.kind}:{audience.key}"


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

    def reader_of(self, audience: Audience) -> Audience:
        """Who an audience falls back to while it has no conversation: an agency's PoC, else itself."""
        if audience.kind == "agency" and not self.conversations_for(audience):
            package = self._db.packages.get(audience.key)
            if package is not None and package.poc.aad_id:
                return Audience.person(package.poc.aad_id)
        return audience

    def reaches(self, audience: Audience) -> bool:
        """Whether a notice to this audience would leave now (False: it would wait)."""
        return bool(self.conversations_for(self.reader_of(audience)))

    def _send(self, notice: Notice, now: datetime) -> list[Change]:
        card = self.presenter.content(notice.content)
        seen: set[str] = set()
        changes: list[Change] = []
        for audience in notice.audiences:
            reader = self.reader_of(audience)
            targets = self.conversations_for(reader)
            if not targets and reader.kind in ("jb", "person"):
                waiting_for = waiting_key(reader)
                if waiting_for not in seen:
                    seen.add(waiting_for)
                    logger.info("notice subject=%s waits for reader kind=%s", notice.subject, reader.kind)
                    changes.append(self._db.outbox.put(self._entry(notice, card, now, waiting_for=waiting_for)))
                continue
            for conversation_id in targets:
                if conversation_id in seen:
                    continue
                seen.add(conversation_id)
                changes.append(self._db.outbox.put(self._entry(notice, card, now, conversation_id=conversation_id)))
        return changes

    def _entry(
        self,
        notice: Notice,
        card: dict[str, Any],
        now: datetime,
        *,
        conversation_id: str = "",
        waiting_for: str | None = None,
    ) -> OutboxEntry:
        return OutboxEntry(
            id=new_id(),
            seq=self._db.outbox.next_seq(),
            conversation_id=conversation_id,
            card=card,
            created_at=now,
            summary=notice.summary,
            subject=notice.subject,
            status="waiting" if waiting_for else "pending",
            next_attempt_at=None if waiting_for else now,
            waiting_for=waiting_for,
            reply_to=self._thread_root(notice.thread_of, conversation_id) if notice.thread_of else None,
        )

    def waiting_readers(self) -> list[Audience]:
        """Every reader some notice waits for."""
        keys = {entry.waiting_for for entry in self._db.outbox.waiting() if entry.waiting_for}
        return [Audience.jb() if key == "jb" else Audience.person(key.partition(":")[2]) for key in sorted(keys)]

    def release(self, audiences: Sequence[Audience], *, now: datetime) -> list[Change]:
        """Entries waiting for these audiences, addressed to the conversations that now reach them."""
        changes: list[Change] = []
        for audience in audiences:
            targets = self.conversations_for(audience)
            if not targets:
                continue
            for entry in self._db.outbox.waiting(waiting_key(audience)):
                for index, conversation_id in enumerate(targets):
                    update: dict[str, Any] = {
                        "conversation_id": conversation_id,
                        "status": "pending",
                        "waiting_for": None,
                        "next_attempt_at": now,
                    }
                    if index > 0:  # one more JB staff member's chat: a copy of its own
                        update |= {"id": new_id(), "seq": self._db.outbox.next_seq()}
                    changes.append(self._db.outbox.put(entry.model_copy(update=update)))
        if changes:
            logger.info("released waiting notices count=%d", len(changes))
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
            if entry.status in ("pending", "waiting"):
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
