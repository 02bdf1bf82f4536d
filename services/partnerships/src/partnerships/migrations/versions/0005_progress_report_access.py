"""Progress reports get their own access decision (scope `progress_reports`), published beside the assessment
report decision as `progress_report_access.granted` / `.revoked`.

Until now advisory took the assessment-report decision for progress reports too, so a consent to assessment
reports alone opened progress reports. Every stored decision starts closed for progress reports; the next change
of a consent or an entitlement of that buyer and factory publishes the decision anew (advisory forgets the grants
it took from assessment-report events in its own migration).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "partnerships"


def upgrade() -> None:
    op.add_column(
        "report_access",
        sa.Column("progress_granted", sa.Boolean, nullable=False, server_default=sa.false()),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_column("report_access", "progress_granted", schema=SCHEMA)
