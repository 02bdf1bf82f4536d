"""Industry alerts and the province of a factory (tier and subscriptions as data).

Staff issue industry alerts (strike, building safety, wage decision, ...) to the partners of their country; each
reaches its buyers as an `alert` row naming it, so `alert` rows may have no case and no factory. The factory read
model keeps the province the registry's events carry, so an alert can be sent to one province's factories
(factories registered before this migration get theirs with their next registry change).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMA = "partnerships"


def upgrade() -> None:
    op.add_column("factory_ref", sa.Column("province", sa.Text), schema=SCHEMA)
    op.create_table(
        "industry_alert",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("factory_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"),
        sa.Column("province", sa.Text),
        sa.Column("buyer_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"),
        sa.Column("endpoints", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rules_version", sa.Integer, nullable=False),
        sa.Column("issued_by", sa.Text, nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_industry_alert_country", "industry_alert", ["country", "issued_at"], schema=SCHEMA)
    op.create_index("ix_industry_alert_buyers", "industry_alert", ["buyer_ids"], schema=SCHEMA, postgresql_using="gin")
    op.add_column("alert", sa.Column("industry_alert_id", UUID(as_uuid=True)), schema=SCHEMA)
    op.alter_column("alert", "case_id", nullable=True, schema=SCHEMA)
    op.alter_column("alert", "factory_id", nullable=True, schema=SCHEMA)


def downgrade() -> None:
    op.execute(f"DELETE FROM {SCHEMA}.alert WHERE case_id IS NULL OR factory_id IS NULL")
    op.alter_column("alert", "factory_id", nullable=False, schema=SCHEMA)
    op.alter_column("alert", "case_id", nullable=False, schema=SCHEMA)
    op.drop_column("alert", "industry_alert_id", schema=SCHEMA)
    op.drop_index("ix_industry_alert_buyers", table_name="industry_alert", schema=SCHEMA)
    op.drop_index("ix_industry_alert_country", table_name="industry_alert", schema=SCHEMA)
    op.drop_table("industry_alert", schema=SCHEMA)
    op.drop_column("factory_ref", "province", schema=SCHEMA)
