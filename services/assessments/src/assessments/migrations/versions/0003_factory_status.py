"""The factory read model learns each factory's enrolment status and merges.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "assessments"


def upgrade() -> None:
    op.add_column(
        "factory_ref", sa.Column("status", sa.String(16), nullable=False, server_default="registered"), schema=SCHEMA
    )
    op.add_column("factory_ref", sa.Column("merged_into", UUID(as_uuid=True)), schema=SCHEMA)
    op.add_column("factory_ref_change", sa.Column("change", sa.String(32)), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("factory_ref_change", "change", schema=SCHEMA)
    op.drop_column("factory_ref", "merged_into", schema=SCHEMA)
    op.drop_column("factory_ref", "status", schema=SCHEMA)
