"""Run the relay and the consumer inside a service, for as long as its app runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping

from fastapi import FastAPI

from betterwork_contracts import EVENTS, TOPICS
from messaging.consumer import ConsumerConfig, EventConsumer, Handler
from messaging.metrics import MessagingMetrics
from messaging.outbox import Outbox
from messaging.relay import OutboxRelay, RelayConfig
from servicekit.app import LifespanHook
from servicekit.kafka_security import kafka_security
from servicekit.settings import ServiceSettings, libpq_dsn

_log = logging.getLogger("messaging.runtime")
SHUTDOWN_GRACE_S = 20.0


def outbox_for(settings: ServiceSettings) -> Outbox:
    """The outbox a service's unit of work writes its events to."""
    return Outbox(
        schema=settings.db_schema,
        source=f"/{settings.service_name}",
        topic_prefix=settings.kafka_topic_prefix,
        default_country=settings.country,
    )


def consumer_group(settings: ServiceSettings) -> str:
    return settings.kafka_topic_prefix + settings.service_name


def relay_config(settings: ServiceSettings) -> RelayConfig | None:
    """How the service's relay runs, from its settings; None when it publishes nothing."""
    prefix = settings.kafka_topic_prefix
    published = {prefix + t.name: t.partitions for t in TOPICS.values() if t.publisher == settings.service_name}
    if not published:
        return None
    return RelayConfig(
        dsn=libpq_dsn(settings.service_database_url()),
        schema=settings.db_schema,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topic_partitions=published,
        replication_factor=settings.kafka_replication_factor,
        batch_size=settings.relay_batch_size,
        poll_interval_s=settings.relay_poll_interval_s,
        broker_timeout_s=settings.kafka_request_timeout_s,
        retention_s=settings.outbox_retention_s,
        security=kafka_security(settings),
    )


def consumer_config(settings: ServiceSettings, handlers: Mapping[str, Handler]) -> ConsumerConfig:
    """How the service's consumer runs, from its settings: the topics of the events it handles."""
    prefix = settings.kafka_topic_prefix
    subscribed = sorted({EVENTS[t].topic.name for t in handlers})
    return ConsumerConfig(
        group=consumer_group(settings),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topics=[prefix + t for t in subscribed],
        topic_partitions={prefix + t: TOPICS[t].partitions for t in subscribed},
        replication_factor=settings.kafka_replication_factor,
        batch_size=settings.consumer_batch_size,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        fetch_idle_wait_ms=settings.kafka_fetch_idle_wait_ms,
        fetch_idle_after_s=settings.kafka_fetch_idle_after_s,
        broker_timeout_s=settings.kafka_request_timeout_s,
        retry_budget=settings.consumer_retry_budget,
        watchdog_s=settings.consumer_watchdog_s,
        inbox_retention_days=settings.inbox_retention_days,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        topic_prefix=prefix,
        security=kafka_security(settings),
    )


def messaging_runtime(*, handlers: Mapping[str, Handler] | None = None) -> LifespanHook:
    """Lifespan hook: the outbox relay (for services that publish) and the consumer (for `handlers`)."""

    @contextlib.asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        settings: ServiceSettings = app.state.settings
        database = app.state.database
        metrics = MessagingMetrics(app.state.metrics_registry)
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []

        config = relay_config(settings)
        if config is not None and settings.relay_enabled and database.event_sink is not None:
            relay = OutboxRelay(config, metrics=metrics, tracer_provider=app.state.tracer_provider)
            app.state.relay = relay
            tasks.append(asyncio.create_task(relay.run(stop), name="outbox-relay"))

        if handlers and settings.consumer_enabled:
            consumer = EventConsumer(
                consumer_config(settings, handlers),
                database=database,
                handlers=handlers,
                event_types=EVENTS,
                metrics=metrics,
                tracer_provider=app.state.tracer_provider,
            )
            app.state.consumer = consumer
            tasks.append(asyncio.create_task(consumer.run(stop), name="event-consumer"))

        try:
            yield
        finally:
            # SIGTERM: stop fetching, finish the batch, commit, leave the group; the relay releases its lock.
            stop.set()
            if tasks:
                _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_S)
                for task in pending:
                    _log.warning("%s did not stop within %.0fs; cancelling it", task.get_name(), SHUTDOWN_GRACE_S)
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    return run
