"""Prometheus metrics of the event backbone, registered in the service's registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class MessagingMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.outbox_backlog = Gauge("outbox_backlog", "Outbox rows not yet published", registry=registry)
        self.outbox_oldest_age = Gauge(
            "outbox_oldest_pending_age_seconds", "Age of the oldest unpublished outbox row", registry=registry
        )
        self.published = Counter("events_published", "Events the broker acknowledged", ["topic"], registry=registry)
        self.publish_failures = Counter(
            "events_publish_failures", "Relay batches the broker did not acknowledge", registry=registry
        )
        self.consumed = Counter(
            "events_consumed", "Events whose effects were committed", ["group", "type"], registry=registry
        )
        self.duplicates = Counter(
            "events_duplicates_skipped", "Events skipped because the inbox had them", ["group"], registry=registry
        )
        self.dead_letters = Counter(
            "events_dead_lettered",
            "Events sent to a dead-letter topic",
            ["group", "topic", "reason"],
            registry=registry,
        )
        self.retries = Counter(
            "events_retries", "Handler attempts that failed and were retried", ["group"], registry=registry
        )
        self.lag = Gauge(
            "consumer_lag",
            "Events on the partition not yet processed",
            ["group", "topic", "partition"],
            registry=registry,
        )
        self.consumer_restarts = Counter(
            "consumer_restarts", "Consumer restarts by the watchdog or after errors", ["group"], registry=registry
        )
        self.fetch_wait = Gauge(
            "consumer_fetch_wait_ms",
            "How long the consumer's fetches wait for data now (short while events flow, long when idle)",
            ["group"],
            registry=registry,
        )
