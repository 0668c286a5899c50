"""Notices queued on two replicas leave a conversation in the order they were queued."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.repositories import Database, Notice

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def notice(db: Database, name: str) -> Notice:
    return Notice(
        id=name, seq=db.outbox.next_seq(), conversation_id="19:agency-channel", card={"body": name}, created_at=AT
    )


async def test_a_notice_queued_after_another_replicas_follows_it(postgres_url: str) -> None:
    first, second = await Database.connect(postgres_url), await Database.connect(postgres_url)
    try:
        for name in ("one", "two", "three"):  # the first replica has been busy
            await first.commit([first.outbox.put(notice(first, name))])
        await second.catch_up()
        await second.commit([second.outbox.put(notice(second, "four"))])
        await first.catch_up()
        await first.commit([first.outbox.put(notice(first, "five"))])
        for db in (first, second):
            await db.catch_up()
            assert [n.id for n in db.outbox.pending()] == ["one", "two", "three", "four", "five"]
    finally:
        await first.close()
        await second.close()
