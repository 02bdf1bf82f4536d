"""The transactional outbox: events stored with the state change that caused them.

Columns follow Debezium's outbox contract (`id`, `aggregatetype`,
`aggregateid`, `type`, `payload`), so change data capture can replace the relay
without touching producers; `topic` and `headers` carry routing and the
CloudEvents headers (traceparent captured at write time), `seq` the order.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from opentelemetry import propagate
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from betterwork_contracts import IntegrationEvent
from messaging.envelope import build_headers
from servicekit.database import Statement, after_commit
from servicekit.wake import CommitWaker

_metadata = sa.MetaData()


def notify_channel(schema: str) -> str:
    return f"{schema}_outbox"


def relay_lock_key(schema: str) -> str:
    return f"{schema}.outbox_relay"


@cache
def outbox_table(schema: str) -> sa.Table:
    return sa.Table(
        "outbox",
        _metadata,
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("aggregatetype", sa.Text, nullable=False),
        sa.Column("aggregateid", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("headers", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False),
        schema=schema,
    )


@cache
def inbox_table(schema: str) -> sa.Table:
    return sa.Table(
        "inbox",
        _metadata,
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("ce_source", sa.Text, primary_key=True),
        sa.Column("ce_id", sa.Text, primary_key=True),
        sa.Column("ce_type", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        schema=schema,
    )


def create_messaging_tables_v1(op: Any, schema: str) -> None:
    """Outbox, inbox and the NOTIFY trigger, as first released (migrations call it; add a v2 for changes)."""
    op.create_table(
        "outbox",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("aggregatetype", sa.Text, nullable=False),
        sa.Column("aggregateid", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("headers", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        schema=schema,
    )
    # Only pending rows are indexed: the relay's claim scans this, and it stays small.
    op.create_index(
        "ix_outbox_pending", "outbox", ["seq"], schema=schema, postgresql_where=sa.text("published_at IS NULL")
    )
    op.create_index(
        "ix_outbox_published",
        "outbox",
        ["published_at"],
        schema=schema,
        postgresql_where=sa.text("published_at IS NOT NULL"),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("ce_source", sa.Text, primary_key=True),
        sa.Column("ce_id", sa.Text, primary_key=True),
        sa.Column("ce_type", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=schema,
    )
    op.create_index("ix_inbox_received_at", "inbox", ["received_at"], schema=schema)
    _create_notify_trigger(op, schema)


def wake_after_commit_v2(op: Any, schema: str) -> None:
    """The relay is woken after each commit (`Outbox`, `servicekit.wake`), no longer by a trigger inside it
    (migrations call it): a NOTIFY inside a transaction made commits with events wait for one another."""
    _drop_notify_trigger(op, schema)


def unwake_after_commit_v2(op: Any, schema: str) -> None:
    """Downgrade of `wake_after_commit_v2`: the trigger back."""
    _create_notify_trigger(op, schema)


def _create_notify_trigger(op: Any, schema: str) -> None:
    """v1's wake-up: a statement trigger NOTIFYing the relay inside every transaction that writes the outbox."""
    channel = notify_channel(schema)
    op.execute(
        f"""CREATE FUNCTION "{schema}".outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_notify('{channel}', ''); RETURN NULL; END $$"""
    )
    op.execute(
        f"""CREATE TRIGGER outbox_notify AFTER INSERT ON "{schema}".outbox
            FOR EACH STATEMENT EXECUTE FUNCTION "{schema}".outbox_notify()"""
    )


def _drop_notify_trigger(op: Any, schema: str) -> None:
    op.execute(f'DROP TRIGGER IF EXISTS outbox_notify ON "{schema}".outbox')
    op.execute(f'DROP FUNCTION IF EXISTS "{schema}".outbox_notify()')


def drop_messaging_tables_v1(op: Any, schema: str) -> None:
    _drop_notify_trigger(op, schema)
    op.drop_table("inbox", schema=schema)
    op.drop_table("outbox", schema=schema)


class Outbox:
    """Writes a unit of work's events into its transaction (the `event_sink` of the service's database), and
    wakes the relay once the transaction has committed (`servicekit.wake.CommitWaker`)."""

    def __init__(self, *, schema: str, source: str, topic_prefix: str = "", default_country: str | None = None):
        self.table = outbox_table(schema)
        self.schema = schema
        self.source = source
        self.topic_prefix = topic_prefix
        self.default_country = default_country
        self.waker = CommitWaker(notify_channel(schema))

    async def write(self, session: AsyncSession, events: list[tuple[Any, dict[str, Any]]]) -> None:
        now = datetime.now(UTC)
        carrier: dict[str, str] = {}
        propagate.inject(carrier)  # the creation context: the request or event being handled now
        ids: list[uuid.UUID] = []
        topics: list[str] = []
        aggregate_types: list[str] = []
        aggregate_ids: list[str] = []
        types: list[str] = []
        payloads: list[str] = []
        headers: list[str] = []
        for event, attributes in events:
            if not isinstance(event, IntegrationEvent):
                raise TypeError(f"{type(event).__name__} is not an integration event from betterwork_contracts")
            event_id = uuid.uuid4()
            ids.append(event_id)
            topics.append(self.topic_prefix + event.topic.name)
            aggregate_types.append(event.topic.name.split(".", 1)[-1])
            aggregate_ids.append(event.aggregate_id)
            types.append(event.type)
            payloads.append(event.model_dump_json())  # stored as it is sent: no decode and encode again
            headers.append(
                json.dumps(
                    build_headers(
                        event_id=str(event_id),
                        source=self.source,
                        event_type=event.type,
                        subject=event.aggregate_id,
                        time=now,
                        country=attributes.get("country") or self.default_country,
                        correlation_id=attributes.get("correlation_id"),
                        trace_carrier=carrier,
                    )
                )
            )
        after_commit(session, self.waker.wake)
        await _write_statement(self.schema).execute(
            session,
            scope=self.schema + ".outbox",
            locked=sorted(set(aggregate_ids)),
            ids=ids,
            topics=topics,
            aggregate_types=aggregate_types,
            aggregate_ids=aggregate_ids,
            types=types,
            payloads=payloads,
            headers=headers,
            now=now,
        )


@cache
def _write_statement(schema: str) -> Statement:
    """The events of one commit, with the lock that orders them, in one statement (one round trip).

    Same-aggregate writers queue on the lock until the holder commits, so `seq` order is commit order per
    aggregate (a sequence alone is allocated before commit: the gap trap in anchors_engineering.md C2). The
    locks come first: `locked` is a materialized one-row aggregate that every inserted row is joined to, so
    all of them are held before the first row draws its `seq`. They are taken in sorted order, so two
    writers never deadlock. Rows keep the order they were emitted in (`WITH ORDINALITY`).
    """
    return Statement(
        f"""WITH locked AS MATERIALIZED (
              SELECT count(pg_advisory_xact_lock(hashtext(:scope), hashtext(a))) AS held
              FROM (SELECT DISTINCT a FROM unnest(CAST(:locked AS text[])) AS a ORDER BY a) AS sorted)
            INSERT INTO "{schema}".outbox
              (id, topic, aggregatetype, aggregateid, type, payload, headers, created_at, attempts)
            SELECT e.id, e.topic, e.aggregatetype, e.aggregateid, e.type,
                   CAST(e.payload AS jsonb), CAST(e.headers AS jsonb), CAST(:now AS timestamptz), 0
            FROM locked CROSS JOIN unnest(
                   CAST(:ids AS uuid[]), CAST(:topics AS text[]), CAST(:aggregate_types AS text[]),
                   CAST(:aggregate_ids AS text[]), CAST(:types AS text[]), CAST(:payloads AS text[]),
                   CAST(:headers AS text[])
                 ) WITH ORDINALITY AS e(id, topic, aggregatetype, aggregateid, type, payload, headers, position)
            WHERE locked.held >= 0
            ORDER BY e.position"""
    )
