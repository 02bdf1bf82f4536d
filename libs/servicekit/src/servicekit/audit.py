"""Audit history: who did what to which record, when and why; one table in each service's schema.

Each row also records the country programme of the record it is about, so that only staff of that country
(and admins) read it back through `GET /v1/audit-events`. It is kept in `details` under `_country` (readers
get it as the `country` field): given by the caller, or else the actor's country, which is right for staff
(they act only for their own programme) and for factories and service clients (their token's country).
A row with no country is read by admins only.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.auth.principal import Principal

_metadata = sa.MetaData()
COUNTRY_KEY = "_country"


@cache
def audit_table(schema: str) -> sa.Table:
    return sa.Table(
        "audit_event",
        _metadata,
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("actor_roles", sa.ARRAY(sa.Text), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("entity_type", sa.Text, nullable=False),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("details", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Index("ix_audit_event_entity", "entity_type", "entity_id", "occurred_at"),
        sa.Index("ix_audit_event_occurred", "occurred_at", "id"),
        schema=schema,
    )


class AuditEventPublic(BaseModel):
    id: uuid.UUID
    occurred_at: datetime
    actor: str
    actor_roles: list[str]
    action: str
    entity_type: str
    entity_id: str
    reason: str | None
    details: dict[str, Any]
    country: str | None = None

    @classmethod
    def of_row(cls, row: Any) -> AuditEventPublic:
        values = dict(row)
        details = dict(values.pop("details") or {})
        country = details.pop(COUNTRY_KEY, None)
        return cls(**values, details=details, country=country)


def _with_country(details: dict[str, Any] | None, country: str | None, actor: Principal) -> dict[str, Any]:
    kept = dict(details or {})
    where = country or actor.country
    if where:
        kept[COUNTRY_KEY] = where.upper()
    return kept


async def record_audit(
    session: AsyncSession,
    *,
    schema: str,
    actor: Principal,
    action: str,
    entity_type: str,
    entity_id: str,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    country: str | None = None,
) -> uuid.UUID:
    """Add an audit row to the caller's transaction; it commits or rolls back with the change it records.

    `country` is the country of the record changed (default: the actor's); it decides who may read the row.
    """
    event_id = uuid.uuid4()
    await session.execute(
        _insert_statement(schema),
        {
            "id": event_id,
            "occurred_at": datetime.now(UTC),
            "actor": actor.subject,
            "actor_roles": sorted(actor.roles),
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "reason": reason,
            "details": json.dumps(_with_country(details, country, actor)),
        },
    )
    return event_id


@cache
def _insert_statement(schema: str) -> sa.TextClause:
    """One audit row, built once per schema (a request that records one pays no statement building)."""
    return sa.text(
        f"""INSERT INTO "{schema}".audit_event
              (id, occurred_at, actor, actor_roles, action, entity_type, entity_id, reason, details)
            VALUES (:id, :occurred_at, :actor, CAST(:actor_roles AS text[]), :action, :entity_type, :entity_id,
                    :reason, CAST(:details AS jsonb))"""
    )


def create_audit_table_v1(op: Any, schema: str) -> None:
    """DDL of the audit table as first released; migrations call it, so it never changes (add a v2 instead)."""
    op.create_table(
        "audit_event",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("actor_roles", sa.ARRAY(sa.Text), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("entity_type", sa.Text, nullable=False),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("details", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        schema=schema,
    )
    op.create_index("ix_audit_event_entity", "audit_event", ["entity_type", "entity_id", "occurred_at"], schema=schema)
    op.create_index("ix_audit_event_occurred", "audit_event", ["occurred_at", "id"], schema=schema)


async def record_audits(session: AsyncSession, *, schema: str, actor: Principal, entries: list[dict[str, Any]]) -> None:
    """Many audit rows in one statement (bulk work such as list imports).

    Each entry has `action`, `entity_type`, `entity_id` and optionally `reason`, `details` and `country`.
    """
    if not entries:
        return
    await session.execute(audit_table(schema).insert(), audit_rows(actor, entries))


def audit_rows(actor: Principal, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows `record_audits` writes, for a repository that files them in a statement of its own (one round
    trip for a change and its audit rows; the rows commit or roll back with the change all the same).

    Each entry has `action`, `entity_type`, `entity_id` and optionally `reason`, `details` and `country`.
    """
    now = datetime.now(UTC)
    roles = sorted(actor.roles)
    return [
        {
            "id": uuid.uuid4(),
            "occurred_at": now,
            "actor": actor.subject,
            "actor_roles": roles,
            "action": entry["action"],
            "entity_type": entry["entity_type"],
            "entity_id": entry["entity_id"],
            "reason": entry.get("reason"),
            "details": _with_country(entry.get("details"), entry.get("country"), actor),
        }
        for entry in entries
    ]
