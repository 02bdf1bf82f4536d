"""The outbox and inbox of the event backbone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from alembic import op

from messaging.outbox import create_messaging_tables_v1, drop_messaging_tables_v1

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "invoicing"


def upgrade() -> None:
    create_messaging_tables_v1(op, SCHEMA)


def downgrade() -> None:
    drop_messaging_tables_v1(op, SCHEMA)
