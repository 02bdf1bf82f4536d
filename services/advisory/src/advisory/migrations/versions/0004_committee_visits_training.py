"""Committees (PICC) with members and meetings, advisory visits, the training catalogue, sessions,
pseudonymous participants, enrolments with completion, and xAPI statements received.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

DDL = """
CREATE TABLE advisory.committee_member (
  id uuid PRIMARY KEY,
  factory_id uuid NOT NULL,
  country text NOT NULL,
  display_name text NOT NULL,
  side text NOT NULL CHECK (side IN ('worker', 'management')),
  selection text NOT NULL CHECK (selection IN ('elected', 'appointed')),
  sex text NOT NULL CHECK (sex IN ('female', 'male', 'other')),
  role text NOT NULL,
  term_start date NOT NULL,
  term_end date,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL
);
CREATE INDEX ix_committee_member_factory ON advisory.committee_member (factory_id);
CREATE TABLE advisory.committee_meeting (
  id uuid PRIMARY KEY,
  factory_id uuid NOT NULL,
  country text NOT NULL,
  meeting_date date NOT NULL,
  attendee_ids uuid[] NOT NULL,
  decisions jsonb NOT NULL,
  recorded_at timestamptz NOT NULL,
  recorded_by text NOT NULL
);
CREATE INDEX ix_committee_meeting_factory ON advisory.committee_meeting (factory_id, meeting_date);
CREATE TABLE advisory.advisory_visit (
  id uuid PRIMARY KEY,
  factory_id uuid NOT NULL,
  country text NOT NULL,
  visit_date date NOT NULL,
  advisors text[] NOT NULL,
  mode text NOT NULL,
  topics text[] NOT NULL,
  item_ids uuid[] NOT NULL,
  follow_ups jsonb NOT NULL,
  recorded_at timestamptz NOT NULL,
  recorded_by text NOT NULL
);
CREATE INDEX ix_advisory_visit_factory ON advisory.advisory_visit (factory_id, visit_date);
CREATE TABLE advisory.course (
  id uuid PRIMARY KEY,
  country text NOT NULL,
  code text NOT NULL,
  title text NOT NULL,
  topic text NOT NULL,
  modules jsonb NOT NULL,
  hours numeric(6, 2) NOT NULL,
  languages text[] NOT NULL,
  completion_rule text NOT NULL,
  pass_score numeric(5, 2),
  created_at timestamptz NOT NULL,
  CONSTRAINT uq_course_code UNIQUE (country, code)
);
CREATE TABLE advisory.training_session (
  id uuid PRIMARY KEY,
  course_id uuid NOT NULL REFERENCES advisory.course (id),
  country text NOT NULL,
  factory_id uuid,
  session_date date NOT NULL,
  language text NOT NULL,
  trainer_organisation text NOT NULL,
  mode text NOT NULL,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL
);
CREATE INDEX ix_training_session_factory ON advisory.training_session (factory_id, session_date);
CREATE TABLE advisory.participant (
  id uuid PRIMARY KEY,
  country text NOT NULL,
  account text NOT NULL,
  role text NOT NULL,
  sex text NOT NULL CHECK (sex IN ('female', 'male', 'other')),
  nationality text,
  migrant boolean NOT NULL,
  factory_id uuid,
  buyer_id uuid,
  created_at timestamptz NOT NULL,
  CONSTRAINT uq_participant_account UNIQUE (country, account)
);
CREATE TABLE advisory.enrolment (
  session_id uuid NOT NULL REFERENCES advisory.training_session (id),
  participant_id uuid NOT NULL REFERENCES advisory.participant (id),
  attended boolean NOT NULL,
  completed boolean NOT NULL,
  passed boolean,
  score numeric(5, 2),
  evaluation smallint CHECK (evaluation BETWEEN 1 AND 5),
  waived_reason text,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (session_id, participant_id)
);
CREATE TABLE advisory.xapi_statement (
  id uuid PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES advisory.training_session (id),
  participant_id uuid NOT NULL REFERENCES advisory.participant (id),
  verb text NOT NULL,
  completion boolean,
  success boolean,
  score numeric(5, 2),
  at timestamptz NOT NULL,
  stored_at timestamptz NOT NULL,
  statement jsonb NOT NULL
);
CREATE INDEX ix_xapi_statement_session ON advisory.xapi_statement (session_id, stored_at);
"""

TABLES = (
    "xapi_statement",
    "enrolment",
    "participant",
    "training_session",
    "course",
    "advisory_visit",
    "committee_meeting",
    "committee_member",
)


def upgrade() -> None:
    for statement in DDL.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE advisory.{table}")
