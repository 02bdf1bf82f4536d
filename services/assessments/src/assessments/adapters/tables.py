"""Tables of the assessments schema."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import BigInteger, Column, DateTime, Identity
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlmodel import Field, SQLModel

SCHEMA = "assessments"


class FactoryRef(SQLModel, table=True):
    """The registry's factory as assessments needs it (built from `registry.factory` events)."""

    __tablename__ = "factory_ref"
    __table_args__ = {"schema": SCHEMA}

    factory_id: uuid.UUID = Field(primary_key=True)
    name: str
    country: str = Field(max_length=2)
    version: int
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    status: str = "registered"  # enrolment status: registered, enrolled, active, suspended, exited
    merged_into: uuid.UUID | None = None  # set when the registry merged this factory into another
    slcp_facility_id: str | None = None


class FactoryRefChange(SQLModel, table=True):
    """Each registry change applied to the read model, once: what the name was from which version on."""

    __tablename__ = "factory_ref_change"
    __table_args__ = {"schema": SCHEMA}

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    factory_id: uuid.UUID = Field(index=True)
    version: int
    name: str
    change: str | None = None  # "enrolled", "merged", ...; None for registrations and field updates
    event_id: str
    applied_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


# Core tables of the assessments proper (migration 0004); statements are written against these.
_metadata = sa.MetaData(schema=SCHEMA)

TOOL_VERSION = sa.Table(
    "tool_version",
    _metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("country", sa.String(2)),
    sa.Column("sector", sa.String(32)),
    sa.Column("label", sa.String(200)),
    sa.Column("status", sa.String(16)),
    sa.Column("effective_from", sa.Date),
    sa.Column("global_template", JSONB),
    sa.Column("country_tool", JSONB),
    sa.Column("question_count", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("created_by", sa.Text),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    sa.Column("published_by", sa.Text),
)

ASSESSMENT = sa.Table(
    "assessment",
    _metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("factory_id", UUID(as_uuid=True)),
    sa.Column("country", sa.String(2)),
    sa.Column("cycle", sa.Integer),
    sa.Column("assessment_type", sa.String(16)),
    sa.Column("mode", sa.String(16)),
    sa.Column("joint", sa.Boolean),
    sa.Column("inspectors", ARRAY(sa.Text)),
    sa.Column("team", ARRAY(sa.Text)),
    sa.Column("start_date", sa.Date),
    sa.Column("end_date", sa.Date),
    sa.Column("report_due", sa.Date),
    sa.Column("tool_version_id", UUID(as_uuid=True)),
    sa.Column("status", sa.String(16)),
    sa.Column("version", sa.Integer),
    sa.Column("released_at", sa.DateTime(timezone=True)),
    sa.Column("finalised_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("created_by", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("comment_period_ends", sa.DateTime(timezone=True)),
    sa.Column("comment_period_waived", sa.Boolean),
)

TRANSITION = sa.Table(
    "assessment_transition",
    _metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("assessment_id", UUID(as_uuid=True)),
    sa.Column("from_status", sa.String(16)),
    sa.Column("to_status", sa.String(16)),
    sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("by_subject", sa.Text),
    sa.Column("comment", sa.Text),
)

FINDING = sa.Table(
    "finding",
    _metadata,
    sa.Column("assessment_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("question_code", sa.Text, primary_key=True),
    sa.Column("result", sa.String(16)),
    sa.Column("evidence", sa.Text),
    sa.Column("workers_affected", sa.Integer),
    sa.Column("revision", sa.Integer),
    sa.Column("recorded_at", sa.DateTime(timezone=True)),
    sa.Column("recorded_by", sa.Text),
    sa.Column("explanation", sa.Text),
    sa.Column("severity", sa.String(16)),
)

FINDING_REVISION = sa.Table(
    "finding_revision",
    _metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("assessment_id", UUID(as_uuid=True)),
    sa.Column("question_code", sa.Text),
    sa.Column("revision", sa.Integer),
    sa.Column("result", sa.String(16)),
    sa.Column("evidence", sa.Text),
    sa.Column("workers_affected", sa.Integer),
    sa.Column("reason", sa.Text),
    sa.Column("author", sa.Text),
    sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("explanation", sa.Text),
    sa.Column("severity", sa.String(16)),
    sa.Column("approved_by", sa.Text),
)

REVISION_PROPOSAL = sa.Table(
    "revision_proposal",
    _metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("assessment_id", UUID(as_uuid=True)),
    sa.Column("question_code", sa.Text),
    sa.Column("result", sa.String(16)),
    sa.Column("evidence", sa.Text),
    sa.Column("workers_affected", sa.Integer),
    sa.Column("explanation", sa.Text),
    sa.Column("severity", sa.String(16)),
    sa.Column("reason", sa.Text),
    sa.Column("proposed_by", sa.Text),
    sa.Column("proposed_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(16)),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.Column("decision_note", sa.Text),
    sa.Column("revision", sa.Integer),
)

FACTORY_COMMENT = sa.Table(
    "factory_comment",
    _metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("assessment_id", UUID(as_uuid=True)),
    sa.Column("question_code", sa.Text),
    sa.Column("comment", sa.Text),
    sa.Column("by_subject", sa.Text),
    sa.Column("at", sa.DateTime(timezone=True)),
)

ZT_PROTOCOL = sa.Table(
    "zt_protocol",
    _metadata,
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("document", JSONB),
    sa.Column("loaded_at", sa.DateTime(timezone=True)),
    sa.Column("loaded_by", sa.Text),
)

ZT_CASE = sa.Table(
    "zt_case",
    _metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("factory_id", UUID(as_uuid=True)),
    sa.Column("country", sa.String(2)),
    sa.Column("category", sa.String(40)),
    sa.Column("source", sa.String(20)),
    sa.Column("assessment_id", UUID(as_uuid=True)),
    sa.Column("question_code", sa.Text),
    sa.Column("status", sa.String(16)),
    sa.Column("details", sa.Text),
    sa.Column("notify", ARRAY(sa.Text)),
    sa.Column("deadlines", JSONB),
    sa.Column("opened_at", sa.DateTime(timezone=True)),
    sa.Column("opened_by", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)

ZT_CASE_STEP = sa.Table(
    "zt_case_step",
    _metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("case_id", UUID(as_uuid=True)),
    sa.Column("from_status", sa.String(16)),
    sa.Column("to_status", sa.String(16)),
    sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("by_subject", sa.Text),
    sa.Column("note", sa.Text),
)

ZT_REFERRAL = sa.Table(
    "zt_referral",
    _metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("case_id", UUID(as_uuid=True)),
    sa.Column("party", sa.Text),
    sa.Column("channel", sa.String(16)),
    sa.Column("referred_at", sa.DateTime(timezone=True)),
    sa.Column("recorded_by", sa.Text),
    sa.Column("reference", sa.Text),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
    sa.Column("acknowledged_by", sa.Text),
    sa.Column("acknowledgement_note", sa.Text),
)

REPORT_ACCESS = sa.Table(
    "report_access",
    _metadata,
    sa.Column("buyer_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("factory_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("cycle", sa.Integer, primary_key=True),
    sa.Column("granted", sa.Boolean),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
)

SLCP_IMPORT = sa.Table(
    "slcp_import",
    _metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("slcp_assessment_id", sa.Text),
    sa.Column("facility_id", sa.Text),
    sa.Column("factory_id", UUID(as_uuid=True)),
    sa.Column("status", sa.String(3)),
    sa.Column("verified", sa.Boolean),
    sa.Column("tool_version_id", UUID(as_uuid=True)),
    sa.Column("document", JSONB),
    sa.Column("findings", JSONB),
    sa.Column("unmapped", ARRAY(sa.Text)),
    sa.Column("imported_at", sa.DateTime(timezone=True)),
    sa.Column("imported_by", sa.Text),
)

FACTORY_REF = FactoryRef.__table__  # type: ignore[attr-defined]
FACTORY_REF_CHANGE = FactoryRefChange.__table__  # type: ignore[attr-defined]
