"""Webhook endpoints of service clients receive a protocol party's alerts only once staff of the country
granted it: who granted and when.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "partnerships"


def upgrade() -> None:
    op.add_column("webhook_endpoint", sa.Column("party_granted_by", sa.Text), schema=SCHEMA)
    op.add_column("webhook_endpoint", sa.Column("party_granted_at", sa.DateTime(timezone=True)), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("webhook_endpoint", "party_granted_at", schema=SCHEMA)
    op.drop_column("webhook_endpoint", "party_granted_by", schema=SCHEMA)
