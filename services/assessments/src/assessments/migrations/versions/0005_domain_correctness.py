"""Cancellation and the comment period's clock, factory comments, four-eyes revision proposals, the
factory-facing explanation and severity of findings, zero-tolerance referrals.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "assessments"


def _tz(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column("assessment", _tz("comment_period_ends", True), schema=SCHEMA)
    op.add_column(
        "assessment",
        sa.Column("comment_period_waived", sa.Boolean, nullable=False, server_default=sa.false()),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_assessment_comment_period",
        "assessment",
        ["comment_period_ends"],
        schema=SCHEMA,
        postgresql_where=sa.text("status = 'comment_period'"),
    )
    for table in ("finding", "finding_revision"):
        op.add_column(table, sa.Column("explanation", sa.Text), schema=SCHEMA)
        op.add_column(table, sa.Column("severity", sa.String(16)), schema=SCHEMA)
    op.add_column("finding_revision", sa.Column("approved_by", sa.Text), schema=SCHEMA)

    op.create_table(
        "revision_proposal",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("assessment_id", UUID(as_uuid=True), nullable=False),
        sa.Column("question_code", sa.Text, nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("evidence", sa.Text),
        sa.Column("workers_affected", sa.Integer),
        sa.Column("explanation", sa.Text),
        sa.Column("severity", sa.String(16)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("proposed_by", sa.Text, nullable=False),
        _tz("proposed_at"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.Text),
        _tz("decided_at", True),
        sa.Column("decision_note", sa.Text),
        sa.Column("revision", sa.Integer),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_revision_proposal_finding", "revision_proposal", ["assessment_id", "question_code"], schema=SCHEMA
    )

    op.create_table(
        "factory_comment",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("assessment_id", UUID(as_uuid=True), nullable=False),
        sa.Column("question_code", sa.Text, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("by_subject", sa.Text, nullable=False),
        _tz("at"),
        schema=SCHEMA,
    )
    op.create_index("ix_factory_comment", "factory_comment", ["assessment_id", "id"], schema=SCHEMA)

    op.create_table(
        "zt_referral",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("case_id", UUID(as_uuid=True), nullable=False),
        sa.Column("party", sa.Text, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        _tz("referred_at"),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("reference", sa.Text),
        _tz("acknowledged_at", True),
        sa.Column("acknowledged_by", sa.Text),
        sa.Column("acknowledgement_note", sa.Text),
        schema=SCHEMA,
    )
    op.create_index("ix_zt_referral_case", "zt_referral", ["case_id", "referred_at"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("zt_referral", schema=SCHEMA)
    op.drop_table("factory_comment", schema=SCHEMA)
    op.drop_table("revision_proposal", schema=SCHEMA)
    op.drop_column("finding_revision", "approved_by", schema=SCHEMA)
    for table in ("finding", "finding_revision"):
        op.drop_column(table, "severity", schema=SCHEMA)
        op.drop_column(table, "explanation", schema=SCHEMA)
    op.drop_index("ix_assessment_comment_period", "assessment", schema=SCHEMA)
    op.drop_column("assessment", "comment_period_waived", schema=SCHEMA)
    op.drop_column("assessment", "comment_period_ends", schema=SCHEMA)
