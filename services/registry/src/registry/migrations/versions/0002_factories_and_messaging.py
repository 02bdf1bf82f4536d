"""Factories (minimal record) and the outbox and inbox of the event backbone.

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

SCHEMA = "registry"


def upgrade() -> None:
    create_messaging_tables_v1(op, SCHEMA)
    op.create_table(
        "factory",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("address", sa.String(1000)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_registry_factory_country", "factory", ["country"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("factory", schema=SCHEMA)
    drop_messaging_tables_v1(op, SCHEMA)
