"""Improvement plans, their items, moves and evidence, zero-tolerance cases heard of, the factory read model,
report access decided by partnerships, and issued progress reports.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DDL = """
CREATE TABLE advisory.improvement_plan (
  id uuid PRIMARY KEY,
  factory_id uuid NOT NULL,
  country text NOT NULL,
  cycle integer NOT NULL CHECK (cycle >= 1),
  assessment_id uuid,
  released_on date,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  CONSTRAINT uq_improvement_plan_cycle UNIQUE (factory_id, cycle)
);
CREATE INDEX ix_improvement_plan_country ON advisory.improvement_plan (country, created_at);
CREATE TABLE advisory.improvement_item (
  id uuid PRIMARY KEY,
  plan_id uuid NOT NULL REFERENCES advisory.improvement_plan (id),
  factory_id uuid NOT NULL,
  country text NOT NULL,
  source text NOT NULL CHECK (source IN ('assessment', 'self_diagnosis', 'case')),
  title text NOT NULL,
  severity text NOT NULL,
  due_date date NOT NULL,
  raised_on date NOT NULL,
  status text NOT NULL,
  assessment_id uuid,
  question_code text,
  case_id uuid,
  compliance_point text,
  cluster text,
  publicly_reported boolean NOT NULL,
  gender_sensitive boolean NOT NULL,
  zero_tolerance boolean NOT NULL,
  workers_affected integer CHECK (workers_affected >= 0),
  root_cause_category text,
  root_cause text,
  corrective_action text,
  preventive_action text,
  owner text,
  recurring boolean NOT NULL,
  recurrences integer NOT NULL,
  previous_item_id uuid,
  waived_reason text,
  waived_by text,
  verified_by text,
  verified_at timestamptz,
  reported_done_at timestamptz,
  version integer NOT NULL
);
CREATE UNIQUE INDEX uq_improvement_item_question ON advisory.improvement_item (plan_id, question_code)
  WHERE question_code IS NOT NULL;
CREATE UNIQUE INDEX uq_improvement_item_case ON advisory.improvement_item (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX ix_improvement_item_plan ON advisory.improvement_item (plan_id);
CREATE INDEX ix_improvement_item_factory_question ON advisory.improvement_item (factory_id, question_code);
CREATE TABLE advisory.improvement_item_move (
  id bigserial PRIMARY KEY,
  item_id uuid NOT NULL REFERENCES advisory.improvement_item (id),
  from_status text NOT NULL,
  to_status text NOT NULL,
  at timestamptz NOT NULL,
  by_subject text NOT NULL,
  reason text
);
CREATE INDEX ix_improvement_item_move_item ON advisory.improvement_item_move (item_id, id);
CREATE TABLE advisory.item_evidence (
  id uuid PRIMARY KEY,
  item_id uuid NOT NULL REFERENCES advisory.improvement_item (id),
  file_name text NOT NULL,
  content_type text NOT NULL,
  size_bytes integer NOT NULL,
  sha256 text NOT NULL,
  content bytea NOT NULL,
  uploaded_at timestamptz NOT NULL,
  uploaded_by text NOT NULL
);
CREATE INDEX ix_item_evidence_item ON advisory.item_evidence (item_id);
CREATE TABLE advisory.zero_tolerance_case (
  case_id uuid PRIMARY KEY,
  factory_id uuid NOT NULL,
  country text NOT NULL,
  category text NOT NULL,
  opened_at timestamptz NOT NULL,
  item_id uuid
);
CREATE INDEX ix_zero_tolerance_case_waiting ON advisory.zero_tolerance_case (factory_id) WHERE item_id IS NULL;
CREATE TABLE advisory.factory_ref (
  factory_id uuid PRIMARY KEY,
  version integer NOT NULL,
  name text NOT NULL,
  country text NOT NULL,
  status text NOT NULL DEFAULT 'registered',
  workers_total integer,
  workers_women integer,
  workers_men integer,
  merged_into uuid
);
CREATE TABLE advisory.report_access (
  buyer_id uuid NOT NULL,
  factory_id uuid NOT NULL,
  cycle integer NOT NULL,
  granted boolean NOT NULL,
  decided_at timestamptz NOT NULL,
  PRIMARY KEY (buyer_id, factory_id, cycle)
);
CREATE TABLE advisory.progress_report (
  id uuid PRIMARY KEY,
  plan_id uuid NOT NULL REFERENCES advisory.improvement_plan (id),
  factory_id uuid NOT NULL,
  country text NOT NULL,
  cycle integer NOT NULL,
  kind text NOT NULL CHECK (kind IN ('pr1', 'pr2')),
  due_date date NOT NULL,
  issued_at timestamptz NOT NULL,
  issued_by text NOT NULL,
  content jsonb NOT NULL,
  pdf bytea NOT NULL,
  sha256 text NOT NULL,
  CONSTRAINT uq_progress_report_kind UNIQUE (plan_id, kind)
);
CREATE INDEX ix_progress_report_factory ON advisory.progress_report (factory_id, issued_at);
"""

# An issued progress report never changes, whatever the code above the database does.
IMMUTABLE = (
    """CREATE FUNCTION advisory.progress_report_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'an issued progress report is immutable';
END $$""",
    """CREATE TRIGGER progress_report_immutable BEFORE UPDATE OR DELETE ON advisory.progress_report
  FOR EACH ROW EXECUTE FUNCTION advisory.progress_report_is_immutable()""",
)

TABLES = (
    "progress_report",
    "report_access",
    "factory_ref",
    "zero_tolerance_case",
    "item_evidence",
    "improvement_item_move",
    "improvement_item",
    "improvement_plan",
)


def upgrade() -> None:
    for statement in DDL.split(";"):
        if statement.strip():
            op.execute(statement)
    for statement in IMMUTABLE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER progress_report_immutable ON advisory.progress_report")
    op.execute("DROP FUNCTION advisory.progress_report_is_immutable()")
    for table in TABLES:
        op.execute(f"DROP TABLE advisory.{table}")
