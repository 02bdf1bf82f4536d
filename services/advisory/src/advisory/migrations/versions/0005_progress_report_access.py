"""Progress reports are read with partnerships' progress-report decision (scope `progress_reports`), no longer with
the assessment-report decision. The grants this read model took from `report_access.granted` are dropped: they may
have come from a consent to assessment reports alone. partnerships publishes `progress_report_access.granted` for a
cycle at the next change of that buyer's consent or entitlement.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM advisory.report_access")


def downgrade() -> None:
    pass  # the grants dropped are not recoverable here; partnerships publishes them again as decisions change
