"""GET /metrics in Prometheus' text format, through prometheus-client.

Each running bot has its own registry (tests build many apps in one process). The outbox's figures
are read from the store when Prometheus scrapes, so they are never stale; counters and histograms
are counted as requests happen. Nothing here names a person: labels are activity types and intake
results only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from services.context import AppContext
from services.operations import outbox_health

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TURN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
ACTIVITY_TYPES = frozenset({"message", "invoke", "conversationUpdate", "installationUpdate", "messageReaction"})


class _StoreCollector(Collector):
    """The outbox's backlog and, where replicas elect a leader, which duties this replica holds."""

    def __init__(self, context: Callable[[], AppContext], leadership: Callable[[], Mapping[str, bool]] | None) -> None:
        self._context = context
        self._leadership = leadership

    def collect(self) -> Iterator[GaugeMetricFamily]:
        health = outbox_health(self._context())
        notices = GaugeMetricFamily(
            "jb_outbox_notices",
            "Notices in the outbox by status (pending: to deliver; waiting: no reader yet).",
            labels=["status"],
        )
        notices.add_metric(["pending"], health.pending)
        notices.add_metric(["waiting"], health.waiting)
        notices.add_metric(["failed"], health.failed)
        yield notices
        yield GaugeMetricFamily(
            "jb_outbox_oldest_pending_seconds",
            "How long the oldest notice still to deliver has waited, in seconds (0 when none).",
            value=health.oldest_pending_seconds,
        )
        yield GaugeMetricFamily(
            "jb_outbox_failed_notices",
            "Notices that will not be retried (shown to JB staff in /status with Send again).",
            value=health.failed,
        )
        if self._leadership is not None:
            leader = GaugeMetricFamily(
                "jb_replica_leader", "1 when this replica holds the duty (one replica at a time).", labels=["duty"]
            )
            for duty, held in sorted(self._leadership().items()):
                leader.add_metric([duty], 1.0 if held else 0.0)
            yield leader


class Metrics:
    """The counters and histograms one bot keeps, and the text Prometheus scrapes."""

    def __init__(
        self,
        context: Callable[[], AppContext],
        leadership: Callable[[], Mapping[str, bool]] | None = None,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.turn_seconds = Histogram(
            "jb_turn_seconds",
            "Time to answer one Bot Framework activity at POST /api/messages, by activity type.",
            ["type"],
            buckets=TURN_BUCKETS,
            registry=self.registry,
        )
        self.intake_seconds = Histogram(
            "jb_intake_seconds",
            "Time to answer one POST /api/ticket-events request (signature, validation, durable write).",
            buckets=TURN_BUCKETS,
            registry=self.registry,
        )
        self.events = Counter(
            "jb_ticket_events",
            "Ticket events the intake answered, by result (recorded: new and durable; duplicate: seen before).",
            ["result"],
            registry=self.registry,
        )
        for result in ("recorded", "duplicate"):
            self.events.labels(result)
        self.registry.register(_StoreCollector(context, leadership))

    def observe_turn(self, activity_type: object, seconds: float) -> None:
        """Count one activity's time; unknown types share one label, so a caller cannot grow the series."""
        label = activity_type if isinstance(activity_type, str) and activity_type in ACTIVITY_TYPES else "other"
        self.turn_seconds.labels(label).observe(seconds)

    def count_events(self, statuses: list[str]) -> None:
        """Count each event's result as the intake answered it."""
        for status in statuses:
            if status in ("recorded", "duplicate"):
                self.events.labels(status).inc()

    def text(self) -> bytes:
        """Every metric in Prometheus' text exposition format."""
        return generate_latest(self.registry)
