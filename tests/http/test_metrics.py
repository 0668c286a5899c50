"""GET /metrics: what an operator's Prometheus scrapes, read with prometheus-client's own parser."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from app import CONTEXT
from services.notices import Audience, Message, Notice
from tests.http.test_ticket_alerts import event, post_events, setup
from tests.support.factories import POC_AAD, make_message
from tests.support.fake_connector import FakeConnector
from tests.support.waiting import settled


async def scrape(client: Any, **headers: str) -> dict[str, float]:
    """Every sample of GET /metrics as ``name{label=value,...}`` → value."""
    response = await client.get("/metrics", headers=headers)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            labels = ",".join(f"{key}={value}" for key, value in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


async def test_events_turns_and_intake_are_counted(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await setup(client, connector)
    before = await scrape(client)
    assert before["jb_ticket_events_total{result=recorded}"] == 0
    await post_events(client, {"events": [event("e1", "submitted"), event("e2", "accepted")]})
    await post_events(client, {"events": [event("e2", "accepted"), event("e3", "accepted", ticket_number="VT-2")]})
    after = await scrape(client)
    assert after["jb_ticket_events_total{result=recorded}"] == 3
    assert after["jb_ticket_events_total{result=duplicate}"] == 1
    assert after["jb_intake_seconds_count{}"] == 2
    assert after["jb_turn_seconds_count{type=message}"] >= 3, "setup's three /help turns were timed"
    assert after["jb_turn_seconds_bucket{le=+Inf,type=message}"] == after["jb_turn_seconds_count{type=message}"]


async def test_outbox_backlog_and_age_of_the_oldest_pending_notice(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    context = client.server.app[CONTEXT]
    await client.post("/api/messages", json=make_message("/help", connector.url))
    await connector.wait_for(lambda sent: len(sent) >= 1)
    connector.attempts.clear()
    connector.script = [(503, {"Retry-After": "3600"})]  # Teams is down: the notice stays pending
    started = context.now()
    context.clock = lambda: started
    await context.commit([], [Notice((Audience.person(POC_AAD),), Message("held", "body"), summary="held")])
    await connector.wait_for_attempts(1)
    later = started + timedelta(minutes=10)
    context.clock = lambda: later
    samples = await scrape(client)
    assert samples["jb_outbox_notices{status=pending}"] == 1
    assert samples["jb_outbox_oldest_pending_seconds{}"] == 600
    assert samples["jb_outbox_failed_notices{}"] == 0
    assert samples["jb_outbox_notices{status=waiting}"] == 0


async def test_a_blocked_notice_counts_as_failed(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await client.post("/api/messages", json=make_message("/help", connector.url))
    await connector.wait_for(lambda sent: len(sent) >= 1)
    connector.attempts.clear()
    connector.script = [(403, {})]
    context = client.server.app[CONTEXT]
    await context.commit([], [Notice((Audience.person(POC_AAD),), Message("blocked", "body"), summary="blocked")])
    await connector.wait_for_attempts(1)
    await settled(lambda: context.db.outbox.count("failed") == 1, what="the notice marked failed")
    samples = await scrape(client)
    assert samples["jb_outbox_failed_notices{}"] == 1
    assert samples["jb_outbox_notices{status=pending}"] == 0
    assert samples["jb_outbox_oldest_pending_seconds{}"] == 0


async def test_metrics_token_is_required_when_set(bot_client: Any, settings_for: Any) -> None:
    client = await bot_client(settings_for(METRICS_TOKEN="scrape-token-0123456789"))
    refused = await client.get("/metrics")
    assert refused.status == 401
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token-at-all"})
    assert wrong.status == 401
    samples = await scrape(client, Authorization="Bearer scrape-token-0123456789")
    assert "jb_outbox_notices{status=pending}" in samples


async def test_metrics_name_no_person(bot_client: Any, connector: FakeConnector) -> None:
    client = await bot_client()
    await setup(client, connector)
    await post_events(client, {"events": [event("e1", "rejected", reason="Missing plate state")]})
    text = await (await client.get("/metrics")).text()
    for personal in ("Pat", "Jamie", "Staff", POC_AAD, "@"):
        assert personal not in text
