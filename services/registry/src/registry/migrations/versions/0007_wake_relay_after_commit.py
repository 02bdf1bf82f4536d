"""The outbox relay woken after each commit, not by a trigger inside it (`messaging.outbox.wake_after_commit_v2`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from alembic import op

from messaging.outbox import unwake_after_commit_v2, wake_after_commit_v2

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SCHEMA = "registry"


def upgrade() -> None:
    wake_after_commit_v2(op, SCHEMA)


def downgrade() -> None:
    unwake_after_commit_v2(op, SCHEMA)
