"""The outbox relay is woken after each commit instead of by a trigger inside it (issue 13: registration speed).

A NOTIFY inside a transaction holds the Postgres server's one notification-queue lock while its commit is flushed
to disk, so commits with events queued behind each other across every service. `messaging.outbox.Outbox` now
sends the NOTIFY after the commit; the trigger and its function go.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from alembic import op

from messaging.outbox import unwake_after_commit_v2, wake_after_commit_v2

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMA = "advisory"


def upgrade() -> None:
    wake_after_commit_v2(op, SCHEMA)


def downgrade() -> None:
    unwake_after_commit_v2(op, SCHEMA)
