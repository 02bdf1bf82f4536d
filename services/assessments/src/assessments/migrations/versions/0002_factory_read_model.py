"""The factory read model (from registry events) and the inbox and outbox of the event backbone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from messaging.outbox import create_messaging_tables_v1, drop_messaging_tables_v1

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "assessments"


def upgrade() -> None:
    create_messaging_tables_v1(op, SCHEMA)
    op.create_table(
        "factory_ref",
        sa.Column("factory_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "factory_ref_change",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("factory_id", UUID(as_uuid=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_factory_ref_change_factory_id", "factory_ref_change", ["factory_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("factory_ref_change", schema=SCHEMA)
    op.drop_table("factory_ref", schema=SCHEMA)
    drop_messaging_tables_v1(op, SCHEMA)
