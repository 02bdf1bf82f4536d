"""Create topics with their configured partitions before anyone produces (Tansu would make 4 otherwise)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from servicekit.kafka_security import PLAINTEXT, KafkaSecurity

_log = logging.getLogger("messaging.topics")


def dlq_topic(topic: str, group: str) -> str:
    return f"{topic}.dlq.{group}"


async def ensure_topics(
    bootstrap_servers: str,
    partitions: Mapping[str, int],
    *,
    replication_factor: int,
    timeout_s: float,
    security: KafkaSecurity = PLAINTEXT,
) -> list[str]:
    """Create the missing ones; returns the names created. Every broker call is bounded by `timeout_s`."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=int(timeout_s * 1000), **security.client_options()
    )
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        existing = set(await asyncio.wait_for(admin.list_topics(), timeout_s))
        missing = [name for name in partitions if name not in existing]
        if missing:
            new = [NewTopic(n, num_partitions=partitions[n], replication_factor=replication_factor) for n in missing]
            with contextlib.suppress(TopicAlreadyExistsError):  # another service made it meanwhile
                await asyncio.wait_for(admin.create_topics(new), timeout_s)
            _log.info("created topics %s", ", ".join(missing))
        return missing
    finally:
        await asyncio.wait_for(admin.close(), timeout_s)
