"""Dead letters: list what failed and why, and replay it once the cause is fixed.

Replay puts the original record (same `ce_id`, same key, original headers) back
on its original topic. The group that failed has no inbox row for it, so it
processes it; every other group already has one and skips it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from servicekit.kafka_security import PLAINTEXT, KafkaSecurity

DLQ_MARKER = ".dlq."
HEADER_PREFIX = "x-dlq-"  # every header a dead letter adds; a replay strips them


def dead_letter_headers(
    original: Iterable[tuple[str, bytes]],
    *,
    reason: str,
    error: BaseException,
    topic: str,
    partition: int,
    offset: int,
    group: str,
    attempts: int,
    at: datetime,
) -> list[tuple[str, bytes]]:
    """The original record's headers plus why and where it failed (the one place these names are written)."""
    added = {
        "reason": reason,
        "error": f"{type(error).__name__}: {error}"[:2000],
        "error-type": type(error).__name__,
        "original-topic": topic,
        "original-partition": str(partition),
        "original-offset": str(offset),
        "group": group,
        "attempts": str(attempts),
        "at": at.isoformat(),
    }
    return without_dead_letter_headers(original) + [(HEADER_PREFIX + k, v.encode()) for k, v in added.items()]


def without_dead_letter_headers(headers: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    return [(k, v) for k, v in headers if not k.startswith(HEADER_PREFIX)]


@dataclass(frozen=True)
class DeadLetter:
    dlq_topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode(errors="replace")
        return None

    @property
    def event_id(self) -> str | None:
        return self.header("ce_id")

    @property
    def original_topic(self) -> str:
        """The topic it was dead-lettered from, as the dead-letter topic's name records it."""
        return self.dlq_topic.rsplit(DLQ_MARKER, 1)[0]

    @property
    def group(self) -> str:
        return self.header(HEADER_PREFIX + "group") or self.dlq_topic.split(DLQ_MARKER, 1)[1]

    @property
    def reason(self) -> str | None:
        return self.header(HEADER_PREFIX + "reason")

    @property
    def error(self) -> str | None:
        return self.header(HEADER_PREFIX + "error")

    @property
    def attempts(self) -> str | None:
        return self.header(HEADER_PREFIX + "attempts")

    @property
    def failed_at(self) -> str | None:
        return self.header(HEADER_PREFIX + "at")


async def dead_letter_topics(
    bootstrap_servers: str, *, timeout_s: float = 10, security: KafkaSecurity = PLAINTEXT
) -> list[str]:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=int(timeout_s * 1000), **security.client_options()
    )
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        return sorted(t for t in await asyncio.wait_for(admin.list_topics(), timeout_s) if DLQ_MARKER in t)
    finally:
        await asyncio.wait_for(admin.close(), timeout_s)


async def read_dead_letters(
    bootstrap_servers: str, topics: Iterable[str], *, timeout_s: float = 10, security: KafkaSecurity = PLAINTEXT
) -> list[DeadLetter]:
    """Everything currently in the given dead-letter topics (read without a consumer group)."""
    letters: list[DeadLetter] = []
    for topic in topics:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            enable_auto_commit=False,
            request_timeout_ms=int(timeout_s * 1000),
            **security.client_options(),
        )
        try:
            await asyncio.wait_for(consumer.start(), timeout_s)
            await asyncio.wait_for(consumer.topics(), timeout_s)  # loads metadata
            tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
            if not tps:
                continue
            consumer.assign(tps)
            await asyncio.wait_for(consumer.seek_to_beginning(*tps), timeout_s)
            ends = await asyncio.wait_for(consumer.end_offsets(tps), timeout_s)
            remaining = {tp for tp in tps if ends[tp] > await consumer.position(tp)}
            deadline = asyncio.get_running_loop().time() + timeout_s
            while remaining and asyncio.get_running_loop().time() < deadline:
                batches = await consumer.getmany(timeout_ms=200)
                for tp, records in batches.items():
                    for r in records:
                        letters.append(DeadLetter(topic, r.partition, r.offset, r.key, r.value, tuple(r.headers)))
                    if records and records[-1].offset + 1 >= ends[tp]:
                        remaining.discard(tp)
        finally:
            await asyncio.wait_for(consumer.stop(), timeout_s)
    return letters


class UnsafeReplay(ValueError):
    """A dead letter whose way back is not the one its consumer recorded and the contracts allow."""


def replay_target(letter: DeadLetter) -> str:
    """Where a dead letter may go back to: the topic its dead-letter topic was named after, and nowhere else.

    The consumer names the dead-letter topic `<topic>.dlq.<group>` when it dead-letters; headers inside the
    record are data anyone who can write that topic could have chosen, so they are only checked against it.
    The topic must also be the one the contracts name for the event's type.
    """
    from betterwork_contracts import EVENTS

    if DLQ_MARKER not in letter.dlq_topic:
        raise UnsafeReplay(f"{letter.dlq_topic} is not a dead-letter topic")
    topic = letter.dlq_topic.rsplit(DLQ_MARKER, 1)[0]
    recorded = letter.header(HEADER_PREFIX + "original-topic")
    if recorded is not None and recorded != topic:
        raise UnsafeReplay(f"the letter says it came from {recorded}, but it was dead-lettered from {topic}")
    event_type = letter.header("ce_type")
    contract = EVENTS.get(event_type or "")
    if contract is None:
        raise UnsafeReplay(f"no contract for event type {event_type!r}: it cannot be replayed")
    if not topic.endswith(contract.topic.name):  # the deployment's topic prefix may come before it
        raise UnsafeReplay(f"{event_type} belongs on {contract.topic.name}, not on {topic}")
    return topic


async def replay(
    bootstrap_servers: str, letters: Iterable[DeadLetter], *, timeout_s: float = 10, security: KafkaSecurity = PLAINTEXT
) -> tuple[int, list[tuple[DeadLetter, str]]]:
    """Put each dead letter back on the topic it was dead-lettered from; returns (sent, refused with why)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        request_timeout_ms=int(timeout_s * 1000),
        **security.client_options(),
    )
    sent = 0
    refused: list[tuple[DeadLetter, str]] = []
    try:
        await asyncio.wait_for(producer.start(), timeout_s)
        for letter in letters:
            try:
                target = replay_target(letter)
            except UnsafeReplay as exc:
                refused.append((letter, str(exc)))
                continue
            headers = without_dead_letter_headers(letter.headers)
            headers.append(("x-replayed-from", f"{letter.dlq_topic}@{letter.partition}:{letter.offset}".encode()))
            await asyncio.wait_for(
                producer.send_and_wait(target, value=letter.value, key=letter.key, headers=headers),
                timeout_s,
            )
            sent += 1
    finally:
        await asyncio.wait_for(producer.stop(), timeout_s)
    return sent, refused
