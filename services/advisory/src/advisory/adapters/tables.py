"""Tables of the advisory schema, defined once (the migrations create the same)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from servicekit.tables import timestamp

SCHEMA = "advisory"
metadata = sa.MetaData(schema=SCHEMA)


PLAN = sa.Table(
    "improvement_plan",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("factory_id", UUID(as_uuid=True), nullable=False),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("cycle", sa.Integer, nullable=False),
    sa.Column("assessment_id", UUID(as_uuid=True)),
    sa.Column("released_on", sa.Date),
    timestamp("created_at"),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.UniqueConstraint("factory_id", "cycle", name="uq_improvement_plan_cycle"),
)

ITEM = sa.Table(
    "improvement_item",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("plan_id", UUID(as_uuid=True), nullable=False),
    sa.Column("factory_id", UUID(as_uuid=True), nullable=False),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("raised_on", sa.Date, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("assessment_id", UUID(as_uuid=True)),
    sa.Column("question_code", sa.Text),
    sa.Column("case_id", UUID(as_uuid=True)),
    sa.Column("compliance_point", sa.Text),
    sa.Column("cluster", sa.Text),
    sa.Column("publicly_reported", sa.Boolean, nullable=False),
    sa.Column("gender_sensitive", sa.Boolean, nullable=False),
    sa.Column("zero_tolerance", sa.Boolean, nullable=False),
    sa.Column("workers_affected", sa.Integer),
    sa.Column("root_cause_category", sa.Text),
    sa.Column("root_cause", sa.Text),
    sa.Column("corrective_action", sa.Text),
    sa.Column("preventive_action", sa.Text),
    sa.Column("owner", sa.Text),
    sa.Column("recurring", sa.Boolean, nullable=False),
    sa.Column("recurrences", sa.Integer, nullable=False),
    sa.Column("previous_item_id", UUID(as_uuid=True)),
    sa.Column("waived_reason", sa.Text),
    sa.Column("waived_by", sa.Text),
    sa.Column("verified_by", sa.Text),
    timestamp("verified_at", nullable=True),
    timestamp("reported_done_at", nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
)

ITEM_MOVE = sa.Table(
    "improvement_item_move",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("item_id", UUID(as_uuid=True), nullable=False),
    sa.Column("from_status", sa.Text, nullable=False),
    sa.Column("to_status", sa.Text, nullable=False),
    timestamp("at"),
    sa.Column("by_subject", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
)

EVIDENCE = sa.Table(
    "item_evidence",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("item_id", UUID(as_uuid=True), nullable=False),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    timestamp("uploaded_at"),
    sa.Column("uploaded_by", sa.Text, nullable=False),
)

ZT_CASE = sa.Table(
    "zero_tolerance_case",
    metadata,
    sa.Column("case_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("factory_id", UUID(as_uuid=True), nullable=False),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    timestamp("opened_at"),
    sa.Column("item_id", UUID(as_uuid=True)),
)

FACTORY_REF = sa.Table(
    "factory_ref",
    metadata,
    sa.Column("factory_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="registered"),
    sa.Column("workers_total", sa.Integer),
    sa.Column("workers_women", sa.Integer),
    sa.Column("workers_men", sa.Integer),
    sa.Column("merged_into", UUID(as_uuid=True)),
)

REPORT_ACCESS = sa.Table(
    "report_access",
    metadata,
    sa.Column("buyer_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("factory_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("cycle", sa.Integer, primary_key=True),
    sa.Column("granted", sa.Boolean, nullable=False),
    timestamp("decided_at"),
)

PROGRESS_REPORT = sa.Table(
    "progress_report",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("plan_id", UUID(as_uuid=True), nullable=False),
    sa.Column("factory_id", UUID(as_uuid=True), nullable=False),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("cycle", sa.Integer, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("due_date", sa.Date, nullable=False),
    timestamp("issued_at"),
    sa.Column("issued_by", sa.Text, nullable=False),
    sa.Column("content", JSONB, nullable=False),
    sa.Column("pdf", sa.LargeBinary, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.UniqueConstraint("plan_id", "kind", name="uq_progress_report_kind"),
)

COMMITTEE_MEMBER = sa.Table(
    "committee_member",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("factory_id", UUID(as_uuid=True), nullable=False),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("side", sa.Text, nullable=False),
    sa.Column("selection", sa.Text, nullable=False),
    sa.Column("sex", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("term_start", sa.Date, nullable=False),
    sa.Column("term_end", sa.Date),
    timestamp("created_at"),
    sa.Column("created_by", sa.Text, nullable=False),
)

COMMITTEE_MEETING = sa.Table(
    "committee_meeting",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("factory_id", UUID(as_uuid=True), nullable=False),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("meeting_date", sa.Date, nullable=False),
    sa.Column("attendee_ids", ARRAY(UUID(as_uuid=True)), nullable=False),
    sa.Column("decisions", JSONB, nullable=False),
    timestamp("recorded_at"),
    sa.Column("recorded_by", sa.Text, nullable=False),
)

ADVISORY_VISIT = sa.Table(
    "advisory_visit",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("factory_id", UUID(as_uuid=True), nullable=False),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("visit_date", sa.Date, nullable=False),
    sa.Column("advisors", ARRAY(sa.Text), nullable=False),
    sa.Column("mode", sa.Text, nullable=False),
    sa.Column("topics", ARRAY(sa.Text), nullable=False),
    sa.Column("item_ids", ARRAY(UUID(as_uuid=True)), nullable=False),
    sa.Column("follow_ups", JSONB, nullable=False),
    timestamp("recorded_at"),
    sa.Column("recorded_by", sa.Text, nullable=False),
)

COURSE = sa.Table(
    "course",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("modules", JSONB, nullable=False),
    sa.Column("hours", sa.Numeric(6, 2), nullable=False),
    sa.Column("languages", ARRAY(sa.Text), nullable=False),
    sa.Column("completion_rule", sa.Text, nullable=False),
    sa.Column("pass_score", sa.Numeric(5, 2)),
    timestamp("created_at"),
)

TRAINING_SESSION = sa.Table(
    "training_session",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("course_id", UUID(as_uuid=True), nullable=False),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("factory_id", UUID(as_uuid=True)),
    sa.Column("session_date", sa.Date, nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("trainer_organisation", sa.Text, nullable=False),
    sa.Column("mode", sa.Text, nullable=False),
    timestamp("delivered_at", nullable=True),
    timestamp("created_at"),
    sa.Column("created_by", sa.Text, nullable=False),
)

PARTICIPANT = sa.Table(
    "participant",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("sex", sa.Text, nullable=False),
    sa.Column("nationality", sa.Text),
    sa.Column("migrant", sa.Boolean, nullable=False),
    sa.Column("factory_id", UUID(as_uuid=True)),
    sa.Column("buyer_id", UUID(as_uuid=True)),
    timestamp("created_at"),
)

ENROLMENT = sa.Table(
    "enrolment",
    metadata,
    sa.Column("session_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("participant_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("attended", sa.Boolean, nullable=False),
    sa.Column("completed", sa.Boolean, nullable=False),
    sa.Column("passed", sa.Boolean),
    sa.Column("score", sa.Numeric(5, 2)),
    sa.Column("evaluation", sa.SmallInteger),
    sa.Column("waived_reason", sa.Text),
    timestamp("updated_at"),
)

XAPI_STATEMENT = sa.Table(
    "xapi_statement",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("session_id", UUID(as_uuid=True), nullable=False),
    sa.Column("participant_id", UUID(as_uuid=True), nullable=False),
    sa.Column("verb", sa.Text, nullable=False),
    sa.Column("completion", sa.Boolean),
    sa.Column("success", sa.Boolean),
    sa.Column("score", sa.Numeric(5, 2)),
    timestamp("at"),
    timestamp("stored_at"),
    sa.Column("statement", JSONB, nullable=False),
)
