"""Kafka -> inbox + handler effects, in one transaction; offsets committed after it.

For each partition batch: decode and validate every record (a bad one goes to
the dead-letter topic at once), then apply the good ones in one transaction:
insert their `(consumer, ce_source, ce_id)` into the inbox, run the handler of
each one that was new, commit. If the transaction fails it is split in halves
until the failing event is alone; that event is retried up to the retry budget
and then dead-lettered with its reason, and the consumer moves on. Database
outages are retried without limit (they are nobody's fault and pass). Offsets
are committed explicitly, per partition, after the database commit: a crash in
between redelivers events the inbox then skips.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from opentelemetry import propagate, trace
from opentelemetry.trace import Link, SpanKind
from pydantic import ValidationError
from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert

from betterwork_contracts import IntegrationEvent
from messaging.dlq import dead_letter_headers
from messaging.envelope import Envelope
from messaging.errors import (
    ImplausibleEvent,
    InvalidPayload,
    PermanentEventError,
    UnexpectedSource,
    UnknownEventType,
    is_transient,
)
from messaging.metrics import MessagingMetrics
from messaging.outbox import inbox_table
from messaging.topics import dlq_topic, ensure_topics
from messaging.waiting import sleep_unless_stopped
from servicekit.database import Database, UnitOfWork
from servicekit.kafka_security import PLAINTEXT, KafkaSecurity

_log = logging.getLogger("messaging.consumer")

Handler = Callable[[UnitOfWork, Any, Envelope], Awaitable[None]]


class _Stopping(Exception):
    """Shutdown came while an event was waiting to be retried: leave without committing its offset."""


@dataclass(frozen=True)
class ConsumerConfig:
    group: str
    bootstrap_servers: str
    topics: Sequence[str]
    topic_partitions: Mapping[str, int]
    replication_factor: int = 1
    batch_size: int = 500
    fetch_max_wait_ms: int = 20  # while events flow
    fetch_idle_wait_ms: int | None = None  # once idle for `fetch_idle_after_s` (None: always fetch_max_wait_ms)
    fetch_idle_after_s: float = 2.0
    broker_timeout_s: float = 10.0
    retry_budget: int = 3
    retry_backoff_s: float = 0.2
    watchdog_s: float = 60.0
    inbox_retention_days: int = 30
    session_timeout_ms: int = 10000
    commit_interval_s: float = 0.5
    topic_prefix: str = ""  # the deployment's prefix: a contract's topic `registry.factory` is prefix + that
    max_clock_skew_s: float = 300.0  # how far ahead of this clock an event's time may be
    security: KafkaSecurity = PLAINTEXT


@dataclass
class _Item:
    record: ConsumerRecord[bytes, bytes]
    envelope: Envelope
    event: IntegrationEvent
    handler: Handler


@dataclass
class FetchPace:
    """How long the next fetch may wait for data: `busy_ms` while events flow, longer once none came for
    `idle_after_s`, `idle_ms` at rest. Tansu answers a waiting fetch only when the wait expires (BROKER.md),
    so a short wait is what keeps latency low under load, and a long one is what lets an idle platform idle."""

    busy_ms: int
    idle_ms: int | None
    idle_after_s: float
    last_event_at: float = field(default_factory=time.monotonic)

    def wait_ms(self, now: float, *, got_events: bool) -> int:
        """Short while events flow; a third of `idle_ms` once quiet for `idle_after_s` (a pause in a burst);
        `idle_ms` once quiet for ten times as long (at rest)."""
        if got_events:
            self.last_event_at = now
        quiet = now - self.last_event_at
        if self.idle_ms is None or quiet < self.idle_after_s:
            return self.busy_ms
        if quiet < 10 * self.idle_after_s:
            return max(self.busy_ms, self.idle_ms // 3)
        return self.idle_ms


def _set_fetch_wait(consumer: AIOKafkaConsumer, wait_ms: int) -> bool:
    """Change the wait of the consumer's next fetches (aiokafka reads it when it builds each fetch request)."""
    fetcher = getattr(consumer, "_fetcher", None)
    if fetcher is None or not hasattr(fetcher, "_fetch_max_wait_ms"):
        return False
    fetcher._fetch_max_wait_ms = wait_ms
    return True


@dataclass
class _Progress:
    at: float = field(default_factory=time.monotonic)
    unassigned_since: float | None = None
    running: bool = False  # start-up has its own timeout; the watchdog judges only a running consumer
    joining: bool = False  # between the start of a consume and the first assignment (nothing to commit yet)

    def mark(self) -> None:
        self.at = time.monotonic()


class EventConsumer:
    def __init__(
        self,
        config: ConsumerConfig,
        *,
        database: Database,
        handlers: Mapping[str, Handler],
        event_types: Mapping[str, type[IntegrationEvent]],
        metrics: MessagingMetrics,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        unknown = set(handlers) - set(event_types)
        if unknown:
            raise ValueError(f"handlers for event types missing from the contracts: {sorted(unknown)}")
        self.config = config
        self.database = database
        self.handlers = dict(handlers)
        self.event_types = dict(event_types)
        self.metrics = metrics
        self.tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer("messaging.consumer")
        self.inbox = inbox_table(database.schema)
        self.progress = _Progress()
        self.processed_total = 0

    # --- lifecycle -------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop`; restart after errors, and when the watchdog sees no progress."""
        backoff = 0.5
        while not stop.is_set():
            self.progress.mark()
            task = asyncio.create_task(self._consume(stop))
            stalled = await self._watch(task, stop)
            if stalled:
                self.metrics.consumer_restarts.labels(self.config.group).inc()
                _log.warning(
                    "consumer %s made no progress for %.0fs; restarting it", self.config.group, self.config.watchdog_s
                )
                continue
            try:
                task.result()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.metrics.consumer_restarts.labels(self.config.group).inc()
                _log.warning(
                    "consumer %s stopped (%s: %s); restarting in %.1fs",
                    self.config.group,
                    type(exc).__name__,
                    exc,
                    backoff,
                    exc_info=exc if isinstance(exc, TimeoutError) else None,
                )
                await sleep_unless_stopped(stop, backoff)
                backoff = min(backoff * 2, 10.0)

    async def _watch(self, task: asyncio.Task[None], stop: asyncio.Event) -> bool:
        """Wait for `task`; True when it was cancelled for making no progress (aio-libs/aiokafka#1154)."""
        stopping = asyncio.create_task(stop.wait())
        try:
            while not task.done():
                await asyncio.wait([task, stopping], timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
                if task.done():
                    break
                if not self.progress.running:
                    if stop.is_set() and self.progress.joining:  # nothing to finish or commit: leave at once
                        task.cancel()
                        await asyncio.gather(task, return_exceptions=True)
                        return False
                    continue
                idle = time.monotonic() - self.progress.at
                unassigned = self.progress.unassigned_since
                stuck_unassigned = unassigned is not None and time.monotonic() - unassigned > self.config.watchdog_s
                if idle > self.config.watchdog_s or stuck_unassigned:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                    return not stop.is_set()
            return False
        finally:
            stopping.cancel()

    async def _consume(self, stop: asyncio.Event) -> None:
        timeout = self.config.broker_timeout_s
        # A JoinGroup is answered only when the rebalance completes: Tansu takes up to about twice the
        # session timeout for a group whose member just left, so group requests need longer than others.
        group_timeout = max(timeout, 2 * self.config.session_timeout_ms / 1000 + 5)
        partitions = dict(self.config.topic_partitions)
        for topic in self.config.topics:
            partitions.setdefault(dlq_topic(topic, self.config.group), partitions.get(topic, 1))
        await ensure_topics(
            self.config.bootstrap_servers,
            partitions,
            replication_factor=self.config.replication_factor,
            timeout_s=timeout,
            security=self.config.security,
        )
        options = self.config.security.client_options()
        consumer = AIOKafkaConsumer(
            *self.config.topics,
            bootstrap_servers=self.config.bootstrap_servers,
            group_id=self.config.group,
            client_id=f"betterwork-{self.config.group}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.config.fetch_max_wait_ms,
            max_poll_records=self.config.batch_size,
            request_timeout_ms=int(group_timeout * 1000),
            session_timeout_ms=self.config.session_timeout_ms,
            rebalance_timeout_ms=self.config.session_timeout_ms,
            heartbeat_interval_ms=max(self.config.session_timeout_ms // 3, 100),
            max_poll_interval_ms=300000,
            **options,
        )
        dead_letters = AIOKafkaProducer(
            bootstrap_servers=self.config.bootstrap_servers,
            acks="all",
            request_timeout_ms=int(timeout * 1000),
            **options,
        )
        uncommitted: dict[TopicPartition, int] = {}
        self.progress.joining = True
        try:
            await asyncio.wait_for(consumer.start(), group_timeout)  # start() waits for the first assignment
            await asyncio.wait_for(dead_letters.start(), timeout)
            _log.info("consumer %s subscribed to %s", self.config.group, ", ".join(self.config.topics))
            self.progress.mark()
            self.progress.running, self.progress.joining = True, False
            last_prune = 0.0
            last_commit = time.monotonic()
            pace = FetchPace(
                self.config.fetch_max_wait_ms, self.config.fetch_idle_wait_ms, self.config.fetch_idle_after_s
            )
            fetch_wait = self.config.fetch_max_wait_ms
            self.metrics.fetch_wait.labels(self.config.group).set(fetch_wait)
            while not stop.is_set():
                batches = await asyncio.wait_for(
                    consumer.getmany(timeout_ms=max(500, fetch_wait), max_records=self.config.batch_size),
                    group_timeout + 1,
                )
                self.progress.mark()
                wanted = pace.wait_ms(time.monotonic(), got_events=bool(batches))
                if wanted != fetch_wait:
                    if _set_fetch_wait(consumer, wanted):
                        fetch_wait = wanted
                        self.metrics.fetch_wait.labels(self.config.group).set(fetch_wait)
                    else:  # an aiokafka without the attribute: keep the short wait, say so once
                        _log.warning("cannot change aiokafka's fetch wait; staying at %d ms", fetch_wait)
                        pace.idle_ms = None
                assigned = consumer.assignment()
                if assigned:
                    self.progress.unassigned_since = None
                elif self.progress.unassigned_since is None:
                    self.progress.unassigned_since = time.monotonic()
                if batches:
                    try:
                        await self._process(batches, dead_letters, stop)
                    except _Stopping:
                        return
                    offsets = {tp: records[-1].offset + 1 for tp, records in batches.items()}
                    uncommitted.update(offsets)
                    for tp, next_offset in offsets.items():
                        highwater = consumer.highwater(tp)
                        if highwater is not None:
                            self.metrics.lag.labels(self.config.group, tp.topic, str(tp.partition)).set(
                                max(highwater - next_offset, 0)
                            )
                # Offsets of processed events are committed at most every commit interval: a crash before the
                # commit only redelivers events the inbox already holds, and small polls cost one round trip less.
                if uncommitted and time.monotonic() - last_commit >= self.config.commit_interval_s:
                    await asyncio.wait_for(consumer.commit(dict(uncommitted)), timeout)
                    uncommitted.clear()
                    last_commit = time.monotonic()
                if time.monotonic() - last_prune > 3600:
                    await self._prune_inbox()
                    last_prune = time.monotonic()
        finally:
            joined = self.progress.running
            self.progress.running = self.progress.joining = False
            if uncommitted:  # shutdown (or trouble): commit what was processed, if the broker still takes it
                try:
                    await asyncio.wait_for(consumer.commit(dict(uncommitted)), timeout)
                except Exception as exc:
                    _log.warning("could not commit offsets on the way out (%s); those events will be redelivered", exc)
            # Leaving the group at once lets another member take the partitions without waiting for a timeout.
            # A consumer still joining has nothing to leave: Tansu answers a JoinGroup only when the rebalance
            # completes, so waiting for it would hold up a shutdown for seconds.
            for client in (consumer, dead_letters):
                try:
                    await asyncio.wait_for(client.stop(), timeout if joined else 0.5)
                except Exception as exc:
                    _log.debug("stopping a Kafka client failed: %s", exc)

    # --- processing ------------------------------------------------------
    async def _process(
        self,
        batches: Mapping[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
        dead_letters: AIOKafkaProducer,
        stop: asyncio.Event,
    ) -> None:
        """Everything one poll returned, in one transaction when all goes well (each partition in its order)."""
        pending: list[_Item] = []
        for records in batches.values():
            for record in records:
                try:
                    item = self._decode(record)
                except PermanentEventError as exc:
                    # It has no effect to order against the others: store it and move on.
                    await self._dead_letter(record, exc, 1, dead_letters, stop)
                    continue
                if item is not None:
                    pending.append(item)
        await self._apply(pending, dead_letters, stop)

    def _decode(self, record: ConsumerRecord[bytes, bytes]) -> _Item | None:
        envelope = Envelope.from_headers(record.headers)
        model = self.event_types.get(envelope.type)
        if model is None:
            raise UnknownEventType(f"no contract for event type {envelope.type!r}")
        self._check_origin(record.topic, envelope, model)
        handler = self.handlers.get(envelope.type)
        if handler is None:
            return None  # a known event this service does not react to
        try:
            event = model.model_validate_json(record.value or b"")
        except ValidationError as exc:
            problems = "; ".join(f"{'/'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:5])
            raise InvalidPayload(f"{envelope.type} does not match its schema: {problems}") from exc
        check_plausible(event, envelope, now=datetime.now(UTC), skew_s=self.config.max_clock_skew_s)
        return _Item(record, envelope, event, handler)

    def _check_origin(self, topic: str, envelope: Envelope, model: type[IntegrationEvent]) -> None:
        """An event type is trusted only on the topic and from the source (`/<publisher>`) its contract names."""
        expected_topic = self.config.topic_prefix + model.topic.name
        expected_source = f"/{model.topic.publisher}"
        if topic != expected_topic or envelope.source != expected_source:
            raise UnexpectedSource(
                f"{envelope.type} is accepted only on {expected_topic} from {expected_source};"
                f" this one came on {topic} from {envelope.source}"
            )

    async def _apply(self, items: list[_Item], dead_letters: AIOKafkaProducer, stop: asyncio.Event) -> None:
        if not items:
            return
        try:
            await self._retry_while_transient(lambda: self._apply_once(items), stop)
        except _Stopping:
            raise
        except Exception as exc:
            if len(items) > 1:
                _log.info("a batch of %d events failed (%s: %s); splitting it", len(items), type(exc).__name__, exc)
                middle = len(items) // 2
                await self._apply(items[:middle], dead_letters, stop)
                await self._apply(items[middle:], dead_letters, stop)
                return
            await self._apply_alone(items[0], exc, dead_letters, stop)

    async def _apply_alone(
        self, item: _Item, first_error: Exception, dead_letters: AIOKafkaProducer, stop: asyncio.Event
    ) -> None:
        error, attempts = first_error, 1
        while not isinstance(error, PermanentEventError) and attempts < self.config.retry_budget:
            self.metrics.retries.labels(self.config.group).inc()
            await sleep_unless_stopped(stop, self.config.retry_backoff_s * 2 ** (attempts - 1))
            if stop.is_set():
                raise _Stopping
            attempts += 1
            try:
                await self._retry_while_transient(lambda: self._apply_once([item]), stop)
                return
            except _Stopping:
                raise
            except Exception as exc:
                error = exc
        await self._dead_letter(item.record, error, attempts, dead_letters, stop)

    async def _retry_while_transient(self, attempt: Callable[[], Awaitable[None]], stop: asyncio.Event) -> None:
        delay = self.config.retry_backoff_s
        while True:
            try:
                await attempt()
                return
            except Exception as exc:
                if not is_transient(exc):
                    raise
                if stop.is_set():
                    raise _Stopping from exc
                _log.warning("transient failure in %s (%s); retrying in %.1fs", self.config.group, exc, delay)
                await sleep_unless_stopped(stop, delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, 5.0)

    async def _apply_once(self, items: list[_Item]) -> None:
        async with self.database.unit_of_work() as uow:
            keys = [(item.envelope.source, item.envelope.id) for item in items]
            received_at = datetime.now(UTC)
            result = await uow.session.execute(
                insert(self.inbox)
                .values(
                    [
                        {
                            "consumer": self.config.group,
                            "ce_source": source,
                            "ce_id": event_id,
                            "ce_type": item.envelope.type,
                            "received_at": received_at,
                        }
                        for (source, event_id), item in zip(keys, items, strict=True)
                    ]
                )
                .on_conflict_do_nothing()
                .returning(self.inbox.c.ce_source, self.inbox.c.ce_id)
            )
            new = {(row.ce_source, row.ce_id) for row in result}
            duplicates = 0
            applied: list[_Item] = []
            for key, item in zip(keys, items, strict=True):
                if key not in new:
                    duplicates += 1
                    continue
                new.discard(key)  # the same event twice in one batch runs once
                await self._handle(uow, item)
                applied.append(item)
            await uow.commit()
        if duplicates:
            self.metrics.duplicates.labels(self.config.group).inc(duplicates)
        for item in applied:
            self.metrics.consumed.labels(self.config.group, item.envelope.type).inc()
        self.processed_total += len(applied)
        self.progress.mark()

    async def _handle(self, uow: UnitOfWork, item: _Item) -> None:
        creation = propagate.extract(item.envelope.headers)
        creation_span = trace.get_current_span(creation).get_span_context()
        record = item.record
        with self.tracer.start_as_current_span(
            f"process {record.topic}",
            context=creation,  # one trace from the request that caused the event to its effect here
            kind=SpanKind.CONSUMER,
            links=[Link(creation_span)] if creation_span.is_valid else None,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.name": "process",
                "messaging.destination.name": record.topic,
                "messaging.destination.partition.id": str(record.partition),
                "messaging.consumer.group.name": self.config.group,
                "messaging.kafka.offset": record.offset,
                "messaging.message.id": item.envelope.id,
                "cloudevents.event_type": item.envelope.type,
                **({"messaging.kafka.message.key": record.key.decode()} if record.key else {}),
            },
        ):
            await item.handler(uow, item.event, item.envelope)

    async def _dead_letter(
        self,
        record: ConsumerRecord[bytes, bytes],
        error: BaseException,
        attempts: int,
        producer: AIOKafkaProducer,
        stop: asyncio.Event,
    ) -> None:
        reason = getattr(error, "reason", "handler-failed")
        topic = dlq_topic(record.topic, self.config.group)
        headers = dead_letter_headers(
            record.headers or (),
            reason=reason,
            error=error,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            group=self.config.group,
            attempts=attempts,
            at=datetime.now(UTC),
        )
        delay = 0.5
        while True:  # the offset must not be committed before the dead letter is safely stored
            try:
                await asyncio.wait_for(
                    producer.send_and_wait(topic, value=record.value, key=record.key, headers=headers),
                    self.config.broker_timeout_s,
                )
                break
            except Exception as exc:
                if stop.is_set():
                    raise _Stopping from exc
                _log.warning("could not store a dead letter in %s (%s); retrying", topic, exc)
                await sleep_unless_stopped(stop, delay)
                delay = min(delay * 2, 10.0)
        self.metrics.dead_letters.labels(self.config.group, record.topic, reason).inc()
        _log.error(
            "dead-lettered %s from %s[%s]@%s after %s attempt(s): %s",
            record.topic,
            record.topic,
            record.partition,
            record.offset,
            attempts,
            f"{type(error).__name__}: {error}",
            extra={"dlq_topic": topic, "dlq_reason": reason},
        )
        self.progress.mark()

    async def _prune_inbox(self) -> None:
        async with self.database.unit_of_work() as uow:
            await uow.session.execute(
                delete(self.inbox).where(
                    self.inbox.c.consumer == self.config.group,
                    self.inbox.c.received_at
                    < func.now() - func.make_interval(0, 0, 0, self.config.inbox_retention_days),
                )
            )
            await uow.commit()


# The platform's events cannot be older than this; a time before it is a forgery or a bug.
EARLIEST_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
# Fields that name a time still to come (an expiry, a due date), not when something happened.
_FUTURE_FIELDS = ("expires_", "due_", "valid_until", "ends_", "scheduled_for")


def check_plausible(event: IntegrationEvent, envelope: Envelope, *, now: datetime, skew_s: float) -> None:
    """Refuse an event whose times could not have happened: "latest wins" rules must not trust year 9999."""
    latest = now + timedelta(seconds=skew_s)
    times: list[tuple[str, datetime]] = [("ce_time", envelope.time)] if envelope.time else []
    for name in type(event).model_fields:
        value = getattr(event, name)
        if isinstance(value, datetime) and not name.startswith(_FUTURE_FIELDS):
            times.append((name, value))
    for name, value in times:
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        if moment > latest or moment < EARLIEST_EVENT_TIME:
            raise ImplausibleEvent(
                f"{envelope.type}: {name} {value.isoformat()} is outside {EARLIEST_EVENT_TIME.year} to now"
            )


__all__ = ["ConsumerConfig", "EventConsumer", "Handler", "TopicPartition"]
