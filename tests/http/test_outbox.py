"""Notices are stored before they are sent and reach Teams despite throttling, errors and restarts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app import CONTEXT
from services.notices import Audience, Message, Notice
from tests.support.factories import POC_AAD, make_message
from tests.support.fake_connector import FakeConnector


async def _queue(client: Any, *titles: str) -> None:
    context = client.server.app[CONTEXT]
    notices = [
        Notice((Audience.person(POC_AAD),), Message(title, "body"), summary=title, subject=f"test:{title}")
        for title in titles
    ]
    await context.commit([], notices)


async def _known_chat(client: Any, connector: FakeConnector) -> None:
    await client.post("/api/messages", json=make_message("/help", connector.url))
    await connector.wait_for(lambda sent: len(sent) >= 1)
    connector.sent.clear()
    connector.attempts.clear()


async def test_throttled_then_failing_then_delivered_once_in_order(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await _known_chat(client, connector)
    connector.script = [(429, {"Retry-After": "1"}), (500, {})]
    await _queue(client, "first alert", "second alert")
    sent = await connector.wait_for(lambda sent: len(sent) >= 2, timeout=15)
    assert [item.text.split("\n")[1] for item in sent] == ["first alert", "second alert"]
    statuses = [status for _, status in connector.attempts]
    assert statuses == [429, 500, 200, 200], "each failure is retried once, never duplicated"
    (t_429, _), (t_500, _), (t_ok, _) = connector.attempts[:3]
    assert t_500 - t_429 >= 1.0, "Retry-After: 1 was honoured"
    assert t_ok - t_500 >= 1.0, "backoff after a 500 waits (2 s base, jittered down to at least half)"


async def test_a_blocked_conversation_marks_the_notice_failed_without_retrying(
    bot_client: Any, connector: FakeConnector
) -> None:
    client = await bot_client()
    await _known_chat(client, connector)
    connector.script = [(403, {})]
    await _queue(client, "blocked alert", "next alert")
    await connector.wait_for(lambda sent: len(sent) >= 1)
    context = client.server.app[CONTEXT]
    failed = context.db.outbox.failed()
    assert [notice.summary for notice in failed] == ["blocked alert"]
    assert failed[0].error == "MessageWritesBlocked"
    assert [status for _, status in connector.attempts] == [403, 200]


async def test_pending_notices_are_delivered_after_a_restart(
    bot_client: Any, connector: FakeConnector, settings_for: Any
) -> None:
    settings = settings_for()
    client = await bot_client(settings)
    await _known_chat(client, connector)
    connector.script = [(503, {"Retry-After": "3600"})]
    await _queue(client, "survives restart")
    await connector.wait_for_attempts(1)
    await client.close()

    restarted = await bot_client(settings)
    context = restarted.server.app[CONTEXT]
    pending = context.db.outbox.pending()
    assert [notice.summary for notice in pending] == ["survives restart"]
    # the Retry-After of an hour still holds after the restart, so move the clock past it
    later = context.now() + timedelta(hours=1, seconds=1)
    context.clock = lambda: later
    context.notifier.wake()
    sent = await connector.wait_for(lambda sent: len(sent) >= 1)
    assert "survives restart" in sent[0].text


class HeldLeases:
    """Delivery leases another replica holds, until ``free`` is set."""

    def __init__(self) -> None:
        self.free = False
        self.claims: list[str] = []

    async def lead(self, duty: str) -> bool:
        return True

    def leading(self) -> dict[str, bool]:
        return {}

    async def claim(self, conversation_id: str, seconds: float) -> bool:
        self.claims.append(conversation_id)
        return self.free

    async def release(self, conversation_id: str) -> None:
        return None

    async def close(self) -> None:
        return None


async def test_a_conversation_another_replica_delivers_is_left_to_it(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await _known_chat(client, connector)
    context = client.server.app[CONTEXT]
    leases = HeldLeases()
    context.db.leases = leases
    await _queue(client, "held by the other replica")
    await connector.wait_for(lambda _: len(leases.claims) >= 1)
    assert connector.attempts == [], "nothing is sent while another replica holds the conversation"
    leases.free = True  # its lease ended
    context.notifier.wake()
    sent = await connector.wait_for(lambda sent: len(sent) >= 1, timeout=15)
    assert "held by the other replica" in sent[0].text
    assert len(connector.sent) == 1
