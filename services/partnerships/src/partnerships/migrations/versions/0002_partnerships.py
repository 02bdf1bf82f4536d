"""Buyers, sourcing links, consent, entitlements, report access, webhooks and alerts; the factory read model;
the outbox and inbox of the event backbone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from messaging.outbox import create_messaging_tables_v1, drop_messaging_tables_v1

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "partnerships"


def _tz(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    create_messaging_tables_v1(op, SCHEMA)
    op.create_table(
        "factory_ref",
        sa.Column("factory_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="registered"),
        sa.Column("merged_into", UUID(as_uuid=True)),
        sa.Column("version", sa.Integer, nullable=False),
        _tz("updated_at"),
        schema=SCHEMA,
    )
    op.create_table(
        "buyer",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("headquarters_country", sa.String(2), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("agreement_signed_on", sa.Date),
        sa.Column("agreement_commitments", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("agreement_review_date", sa.Date),
        sa.Column("contacts", JSONB, nullable=False, server_default="[]"),
        sa.Column("version", sa.Integer, nullable=False),
        _tz("created_at"),
        sa.Column("created_by", sa.Text, nullable=False),
        _tz("updated_at"),
        schema=SCHEMA,
    )
    op.create_index("ix_buyer_name", "buyer", ["name", "id"], schema=SCHEMA)
    op.create_table(
        "buyer_tier_change",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("buyer_id", UUID(as_uuid=True), sa.ForeignKey("partnerships.buyer.id"), nullable=False),
        sa.Column("from_tier", sa.String(16)),
        sa.Column("to_tier", sa.String(16), nullable=False),
        _tz("at"),
        sa.Column("by_subject", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        schema=SCHEMA,
    )
    op.create_table(
        "sourcing_link",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("buyer_id", UUID(as_uuid=True), sa.ForeignKey("partnerships.buyer.id"), nullable=False),
        sa.Column("factory_id", UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("declared_by", sa.String(16), nullable=False),
        sa.Column("declared_by_subject", sa.Text, nullable=False),
        sa.Column("confirmed_by", sa.String(16)),
        sa.Column("confirmed_by_subject", sa.Text),
        _tz("confirmed_at", True),
        sa.Column("start_date", sa.Date),
        sa.Column("end_date", sa.Date),
        _tz("created_at"),
        _tz("updated_at"),
        schema=SCHEMA,
    )
    op.create_index(
        "ux_sourcing_link_open",
        "sourcing_link",
        ["buyer_id", "factory_id"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("status <> 'ended'"),
    )
    op.create_index("ix_sourcing_link_factory", "sourcing_link", ["factory_id", "status"], schema=SCHEMA)
    op.create_table(
        "consent",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("factory_id", UUID(as_uuid=True), nullable=False),
        sa.Column("buyer_id", UUID(as_uuid=True), sa.ForeignKey("partnerships.buyer.id"), nullable=False),
        sa.Column("scopes", ARRAY(sa.Text), nullable=False),
        _tz("granted_at"),
        sa.Column("granted_by", sa.Text, nullable=False),
        _tz("expires_at", True),
        _tz("revoked_at", True),
        sa.Column("revoked_by", sa.Text),
        sa.Column("revoke_reason", sa.String(16)),
        schema=SCHEMA,
    )
    op.create_index("ix_consent_pair", "consent", ["factory_id", "buyer_id", "granted_at"], schema=SCHEMA)
    op.create_index(
        "ix_consent_expiring", "consent", ["expires_at"], schema=SCHEMA, postgresql_where=sa.text("revoked_at IS NULL")
    )
    op.create_table(
        "entitlement",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("buyer_id", UUID(as_uuid=True), sa.ForeignKey("partnerships.buyer.id"), nullable=False),
        sa.Column("factory_id", UUID(as_uuid=True), nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("external_id", UUID(as_uuid=True), unique=True),
        _tz("granted_at"),
        sa.Column("granted_by", sa.Text, nullable=False),
        sa.UniqueConstraint("buyer_id", "factory_id", "cycle", name="uq_entitlement_cycle"),
        schema=SCHEMA,
    )
    op.create_table(
        "report_access",
        sa.Column("buyer_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("factory_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("cycle", sa.Integer, primary_key=True),
        sa.Column("granted", sa.Boolean, nullable=False),
        _tz("decided_at"),
        schema=SCHEMA,
    )
    op.create_table(
        "webhook_endpoint",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("owner_type", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.Text, nullable=False),
        sa.Column("country", sa.String(2)),
        sa.Column("party", sa.Text),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("event_types", ARRAY(sa.Text), nullable=False),
        sa.Column("secrets", JSONB, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        _tz("disabled_at", True),
        sa.Column("disabled_reason", sa.Text),
        _tz("created_at"),
        sa.Column("created_by", sa.Text, nullable=False),
        _tz("updated_at"),
        schema=SCHEMA,
    )
    op.create_index("ix_webhook_endpoint_owner", "webhook_endpoint", ["owner_type", "owner_id"], schema=SCHEMA)
    op.create_table(
        "webhook_message",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("endpoint_id", UUID(as_uuid=True), sa.ForeignKey("partnerships.webhook_endpoint.id"), nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        _tz("next_attempt_at", True),
        _tz("created_at"),
        _tz("delivered_at", True),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("last_error", sa.Text),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_webhook_message_due",
        "webhook_message",
        ["next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_webhook_message_endpoint", "webhook_message", ["endpoint_id", "created_at"], schema=SCHEMA)
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("message_id", UUID(as_uuid=True), sa.ForeignKey("partnerships.webhook_message.id"), nullable=False),
        sa.Column("endpoint_id", UUID(as_uuid=True), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        _tz("at"),
        sa.Column("status_code", sa.Integer),
        sa.Column("latency_ms", sa.Float),
        sa.Column("error", sa.Text),
        sa.Column("manual", sa.Boolean, nullable=False, server_default="false"),
        schema=SCHEMA,
    )
    op.create_index("ix_webhook_attempt_message", "webhook_attempt", ["message_id", "id"], schema=SCHEMA)
    op.create_table(
        "alert",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("case_id", UUID(as_uuid=True), nullable=False),
        sa.Column("factory_id", UUID(as_uuid=True), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("buyer_ids", ARRAY(UUID(as_uuid=True)), nullable=False),
        sa.Column("parties", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("endpoints", sa.Integer, nullable=False),
        _tz("raised_at"),
        schema=SCHEMA,
    )
    op.create_index("ix_alert_factory", "alert", ["factory_id", "raised_at"], schema=SCHEMA)


def downgrade() -> None:
    for table in (
        "alert",
        "webhook_attempt",
        "webhook_message",
        "webhook_endpoint",
        "report_access",
        "entitlement",
        "consent",
        "sourcing_link",
        "buyer_tier_change",
        "buyer",
        "factory_ref",
    ):
        op.drop_table(table, schema=SCHEMA)
    drop_messaging_tables_v1(op, SCHEMA)
