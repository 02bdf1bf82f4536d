"""Outbox -> Kafka.

One relay is active per service (a Postgres advisory lock on a dedicated
connection; others wait as standbys). A commit with events wakes it (directly
in its own process, by NOTIFY from another: `servicekit.wake`); it polls as a
fallback, claims pending rows in `seq` order, sends them with `acks=all`, and
marks them published only after the broker acknowledged them. A crash between
send and mark resends the batch: consumers' inboxes absorb the duplicates.
Every broker call has a timeout (aiokafka can hang while the broker is away,
aio-libs/aiokafka#1101).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from opentelemetry import propagate, trace
from opentelemetry.trace import Link, SpanKind

from messaging.metrics import MessagingMetrics
from messaging.outbox import notify_channel, relay_lock_key
from messaging.topics import ensure_topics
from messaging.waiting import sleep_unless_stopped, wait_for_either
from servicekit.kafka_security import PLAINTEXT, KafkaSecurity
from servicekit.wake import waiting_here

_log = logging.getLogger("messaging.relay")
_MAX_LINKS = 128
_PARTITIONER = DefaultPartitioner()


@dataclass(frozen=True)
class RelayConfig:
    dsn: str
    schema: str
    bootstrap_servers: str
    topic_partitions: Mapping[str, int]
    replication_factor: int = 1
    batch_size: int = 500
    poll_interval_s: float = 5.0  # a NOTIFY wakes the relay at once; this is the fallback
    broker_timeout_s: float = 10.0
    retention_s: float = 600.0
    standby_retry_s: float = 2.0
    security: KafkaSecurity = PLAINTEXT


class OutboxRelay:
    def __init__(
        self,
        config: RelayConfig,
        *,
        metrics: MessagingMetrics,
        tracer_provider: trace.TracerProvider | None = None,
        after_send: Callable[[list[asyncpg.Record]], Awaitable[None]] | None = None,
    ) -> None:
        self.config = config
        self.metrics = metrics
        self.tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer("messaging.relay")
        self._wake = asyncio.Event()
        self._after_send = after_send  # fault injection point for tests: between send and mark
        self.is_leader = False
        self.published_total = 0

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                await self._lead(stop)
                backoff = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("relay interrupted (%s: %s); retrying in %.1fs", type(exc).__name__, exc, backoff)
                await sleep_unless_stopped(stop, backoff)
                backoff = min(backoff * 2, 10.0) * random.uniform(0.8, 1.2)

    async def _lead(self, stop: asyncio.Event) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self.config.dsn, timeout=10)
        producer: AIOKafkaProducer | None = None
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", relay_lock_key(self.config.schema)):
                self.is_leader = False
                await sleep_unless_stopped(stop, self.config.standby_retry_s)
                return
            self.is_leader = True
            await conn.add_listener(notify_channel(self.config.schema), lambda *_: self._wake.set())
            waiting_here(self.config.dsn, notify_channel(self.config.schema), self._wake)  # this process's commits
            _log.info("outbox relay of %s is active", self.config.schema)
            last_prune = 0.0
            while not stop.is_set():
                if producer is None:
                    producer = await self._start_producer()
                if time.monotonic() - last_prune > 10:
                    await self._prune_and_measure(conn)
                    last_prune = time.monotonic()
                self._wake.clear()  # before the claim: a NOTIFY during the claim wakes the next wait
                rows = await self._claim(conn)
                if rows:
                    try:
                        await self._send(producer, rows)
                    except Exception:
                        await conn.execute(
                            f'UPDATE "{self.config.schema}".outbox SET attempts = attempts + 1 '
                            "WHERE id = ANY($1::uuid[])",
                            [r["id"] for r in rows],
                        )
                        self.metrics.publish_failures.inc()
                        await _stop_producer(producer, self.config.broker_timeout_s)
                        producer = None
                        raise
                    if self._after_send is not None:
                        await self._after_send(rows)
                    await conn.execute(
                        f'UPDATE "{self.config.schema}".outbox SET published_at = now() WHERE id = ANY($1::uuid[])',
                        [r["id"] for r in rows],
                    )
                    self.published_total += len(rows)
                    if len(rows) == self.config.batch_size:
                        continue  # more are waiting
                await wait_for_either(self._wake, stop, self.config.poll_interval_s)
        finally:
            if self.is_leader:
                waiting_here(self.config.dsn, notify_channel(self.config.schema), None)
            self.is_leader = False
            if producer is not None:
                await _stop_producer(producer, self.config.broker_timeout_s)
            await conn.close(timeout=5)

    async def _start_producer(self) -> AIOKafkaProducer:
        timeout = self.config.broker_timeout_s
        await ensure_topics(
            self.config.bootstrap_servers,
            self.config.topic_partitions,
            replication_factor=self.config.replication_factor,
            timeout_s=timeout,
            security=self.config.security,
        )
        producer = AIOKafkaProducer(
            bootstrap_servers=self.config.bootstrap_servers,
            acks="all",
            enable_idempotence=False,  # Tansu lacks it (BROKER.md); consumers' inboxes deduplicate
            linger_ms=0,  # the relay hands a whole batch to send() at once; waiting adds latency only
            max_batch_size=256 * 1024,
            request_timeout_ms=int(timeout * 1000),
            client_id=f"betterwork-relay-{self.config.schema}",
            **self.config.security.client_options(),
        )
        try:
            await asyncio.wait_for(producer.start(), timeout)
        except BaseException:
            await _stop_producer(producer, timeout)
            raise
        return producer

    async def _claim(self, conn: asyncpg.Connection) -> list[asyncpg.Record]:
        return list(
            await conn.fetch(
                f"""SELECT id, topic, aggregateid, payload::text AS payload, headers::text AS headers
                    FROM "{self.config.schema}".outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1""",
                self.config.batch_size,
            )
        )

    async def _send(self, producer: AIOKafkaProducer, rows: list[asyncpg.Record]) -> None:
        by_topic: dict[str, list[asyncpg.Record]] = {}
        for row in rows:
            by_topic.setdefault(row["topic"], []).append(row)
        for topic, topic_rows in by_topic.items():
            links: list[Link] = []
            encoded = []
            for row in topic_rows:
                headers: dict[str, str] = json.loads(row["headers"])
                encoded.append((row, [(k, v.encode()) for k, v in headers.items()]))
                if len(links) < _MAX_LINKS and "traceparent" in headers:
                    creation = trace.get_current_span(propagate.extract(headers)).get_span_context()
                    if creation.is_valid:
                        links.append(Link(creation))
            # One `send <topic>` span per batch, linked to each event's creation context
            # (OpenTelemetry messaging conventions: batch spans link rather than parent).
            with self.tracer.start_as_current_span(
                f"send {topic}",
                kind=SpanKind.PRODUCER,
                links=links,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.operation.name": "send",
                    "messaging.destination.name": topic,
                    "messaging.batch.message_count": len(topic_rows),
                },
            ):
                futures = await asyncio.wait_for(
                    self._send_batches(producer, topic, encoded), self.config.broker_timeout_s
                )
                await asyncio.wait_for(asyncio.gather(*futures), self.config.broker_timeout_s)
            self.metrics.published.labels(topic).inc(len(topic_rows))

    async def _send_batches(
        self, producer: AIOKafkaProducer, topic: str, encoded: list[tuple[asyncpg.Record, list[tuple[str, bytes]]]]
    ) -> list[asyncio.Future[Any]]:
        """Build record batches per partition ourselves (aiokafka's batch API): far less work per event than
        one `send()` each. Keys go to partitions as every Kafka client's default partitioner puts them."""
        partitions = sorted(await producer.partitions_for(topic))
        by_partition: dict[int, list[tuple[bytes, bytes, list[tuple[str, bytes]]]]] = {}
        for row, headers in encoded:
            key = row["aggregateid"].encode()
            partition = _PARTITIONER(key, partitions, partitions)
            by_partition.setdefault(partition, []).append((key, row["payload"].encode(), headers))
        futures: list[asyncio.Future[Any]] = []
        for partition, records in by_partition.items():
            batch, size = producer.create_batch(), 0
            for key, value, headers in records:
                if batch.append(key=key, value=value, timestamp=None, headers=headers) is not None:
                    size += 1
                    continue
                if size:  # full: send it, start the next one with this record
                    batch.close()
                    futures.append(await producer.send_batch(batch, topic, partition=partition))
                    batch, size = producer.create_batch(), 0
                    if batch.append(key=key, value=value, timestamp=None, headers=headers) is not None:
                        size += 1
                        continue
                # Larger than a whole batch: the ordinary path sends it alone or says why it cannot.
                futures.append(await producer.send(topic, value=value, key=key, headers=headers, partition=partition))
            if size:
                batch.close()
                futures.append(await producer.send_batch(batch, topic, partition=partition))
        return futures

    async def _prune_and_measure(self, conn: asyncpg.Connection) -> None:
        schema = self.config.schema
        await conn.execute(
            f"""DELETE FROM "{schema}".outbox WHERE id IN (
                  SELECT id FROM "{schema}".outbox
                  WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1) LIMIT 10000)""",
            self.config.retention_s,
        )
        row = await conn.fetchrow(
            f"""SELECT count(*) AS backlog, extract(epoch FROM now() - min(created_at)) AS oldest
                FROM "{schema}".outbox WHERE published_at IS NULL"""
        )
        self.metrics.outbox_backlog.set(row["backlog"])
        self.metrics.outbox_oldest_age.set(float(row["oldest"] or 0))


async def _stop_producer(producer: AIOKafkaProducer, timeout: float) -> None:
    try:
        await asyncio.wait_for(producer.stop(), timeout)
    except Exception as exc:  # a producer that cannot stop cleanly is dropped; a new one is made
        _log.debug("producer stop failed: %s", exc)
