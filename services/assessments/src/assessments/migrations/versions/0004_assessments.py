"""Tool versions, assessments and their findings, zero-tolerance protocols and cases, report access, SLCP.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "assessments"


def _tz(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column("factory_ref", sa.Column("slcp_facility_id", sa.Text), schema=SCHEMA)
    op.create_index("ix_factory_ref_slcp", "factory_ref", ["slcp_facility_id"], schema=SCHEMA)

    op.create_table(
        "tool_version",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("sector", sa.String(32), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("effective_from", sa.Date),
        sa.Column("global_template", JSONB, nullable=False),
        sa.Column("country_tool", JSONB, nullable=False),
        sa.Column("question_count", sa.Integer, nullable=False),
        _tz("created_at"),
        sa.Column("created_by", sa.Text, nullable=False),
        _tz("published_at", True),
        sa.Column("published_by", sa.Text),
        sa.UniqueConstraint("country", "sector", "label", name="uq_tool_version_label"),
        schema=SCHEMA,
    )
    op.create_index("ix_tool_version_current", "tool_version", ["country", "sector", "status"], schema=SCHEMA)

    op.create_table(
        "assessment",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("factory_id", UUID(as_uuid=True), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("assessment_type", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("joint", sa.Boolean, nullable=False),
        sa.Column("inspectors", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("team", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("report_due", sa.Date, nullable=False),
        sa.Column("tool_version_id", UUID(as_uuid=True), sa.ForeignKey("assessments.tool_version.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        _tz("released_at", True),
        _tz("finalised_at", True),
        _tz("created_at"),
        sa.Column("created_by", sa.Text, nullable=False),
        _tz("updated_at"),
        schema=SCHEMA,
    )
    op.create_index("ix_assessment_factory", "assessment", ["factory_id", "cycle"], schema=SCHEMA)
    op.create_index("ix_assessment_list", "assessment", ["country", "status", "start_date", "id"], schema=SCHEMA)

    op.create_table(
        "assessment_transition",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("assessment_id", UUID(as_uuid=True), sa.ForeignKey("assessments.assessment.id"), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=False),
        sa.Column("to_status", sa.String(16), nullable=False),
        _tz("at"),
        sa.Column("by_subject", sa.Text, nullable=False),
        sa.Column("comment", sa.Text),
        schema=SCHEMA,
    )
    op.create_index("ix_assessment_transition", "assessment_transition", ["assessment_id", "id"], schema=SCHEMA)

    op.create_table(
        "finding",
        sa.Column("assessment_id", UUID(as_uuid=True), sa.ForeignKey("assessments.assessment.id"), primary_key=True),
        sa.Column("question_code", sa.Text, primary_key=True),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("evidence", sa.Text),
        sa.Column("workers_affected", sa.Integer),
        sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
        _tz("recorded_at"),
        sa.Column("recorded_by", sa.Text, nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "finding_revision",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("assessment_id", UUID(as_uuid=True), nullable=False),
        sa.Column("question_code", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("evidence", sa.Text),
        sa.Column("workers_affected", sa.Integer),
        sa.Column("reason", sa.Text),
        sa.Column("author", sa.Text, nullable=False),
        _tz("at"),
        sa.UniqueConstraint("assessment_id", "question_code", "revision", name="uq_finding_revision"),
        schema=SCHEMA,
    )

    op.create_table(
        "zt_protocol",
        sa.Column("country", sa.String(2), primary_key=True),
        sa.Column("document", JSONB, nullable=False),
        _tz("loaded_at"),
        sa.Column("loaded_by", sa.Text, nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "zt_case",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("factory_id", UUID(as_uuid=True), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("assessment_id", UUID(as_uuid=True)),
        sa.Column("question_code", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("details", sa.Text),
        sa.Column("notify", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("deadlines", JSONB, nullable=False),
        _tz("opened_at"),
        sa.Column("opened_by", sa.Text, nullable=False),
        _tz("updated_at"),
        schema=SCHEMA,
    )
    op.create_index("ix_zt_case_list", "zt_case", ["country", "status", "opened_at", "id"], schema=SCHEMA)
    op.create_index(
        "ux_zt_case_finding",
        "zt_case",
        ["assessment_id", "question_code"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("assessment_id IS NOT NULL"),
    )
    op.create_table(
        "zt_case_step",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("case_id", UUID(as_uuid=True), sa.ForeignKey("assessments.zt_case.id"), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        _tz("at"),
        sa.Column("by_subject", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        schema=SCHEMA,
    )

    op.create_table(
        "report_access",
        sa.Column("buyer_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("factory_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("cycle", sa.Integer, primary_key=True),
        sa.Column("granted", sa.Boolean, nullable=False),
        _tz("decided_at"),
        schema=SCHEMA,
    )

    op.create_table(
        "slcp_import",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("slcp_assessment_id", sa.Text, nullable=False),
        sa.Column("facility_id", sa.Text, nullable=False),
        sa.Column("factory_id", UUID(as_uuid=True)),
        sa.Column("status", sa.String(3), nullable=False),
        sa.Column("verified", sa.Boolean, nullable=False),
        sa.Column("tool_version_id", UUID(as_uuid=True), nullable=False),
        sa.Column("document", JSONB, nullable=False),
        sa.Column("findings", JSONB, nullable=False),
        sa.Column("unmapped", ARRAY(sa.Text), nullable=False),
        _tz("imported_at"),
        sa.Column("imported_by", sa.Text, nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_slcp_import_assessment", "slcp_import", ["slcp_assessment_id", "imported_at"], schema=SCHEMA)


def downgrade() -> None:
    for table in (
        "slcp_import",
        "report_access",
        "zt_case_step",
        "zt_case",
        "zt_protocol",
        "finding_revision",
        "finding",
        "assessment_transition",
        "assessment",
        "tool_version",
    ):
        op.drop_table(table, schema=SCHEMA)
    op.drop_index("ix_factory_ref_slcp", "factory_ref", schema=SCHEMA)
    op.drop_column("factory_ref", "slcp_facility_id", schema=SCHEMA)
