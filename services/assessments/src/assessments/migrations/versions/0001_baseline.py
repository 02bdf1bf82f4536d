"""Baseline: the assessments schema's audit history table.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

from servicekit.audit import create_audit_table_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "assessments"


def upgrade() -> None:
    create_audit_table_v1(op, SCHEMA)


def downgrade() -> None:
    op.drop_table("audit_event", schema=SCHEMA)
