"""The factory read model, the fact log, publications with their files, published factories, the change feed.

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
CREATE TABLE transparency.factory_ref (
  factory_id uuid PRIMARY KEY,
  version integer NOT NULL,
  name text NOT NULL,
  country text NOT NULL,
  status text NOT NULL,
  merged_into uuid
);
CREATE TABLE transparency.fact (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source_id text NOT NULL UNIQUE,
  kind text NOT NULL,
  country text,
  occurred_at timestamptz NOT NULL,
  payload jsonb NOT NULL
);
CREATE INDEX ix_fact_country ON transparency.fact (country, seq);
CREATE TABLE transparency.publication (
  id uuid PRIMARY KEY,
  country text NOT NULL,
  rule_set text NOT NULL,
  cut_off date NOT NULL,
  log_position bigint NOT NULL,
  status text NOT NULL CHECK (status IN ('candidate', 'reviewed', 'released', 'rejected')),
  prepared_by text NOT NULL,
  prepared_at timestamptz NOT NULL,
  base_release integer,
  content_hash text NOT NULL,
  factories_listed integer NOT NULL,
  differences jsonb NOT NULL,
  reviewed_by text,
  reviewed_at timestamptz,
  approved_by text,
  released_at timestamptz,
  release_number integer,
  rejected_by text,
  reason text,
  lock_version integer NOT NULL,
  CONSTRAINT uq_publication_release UNIQUE (country, release_number),
  CONSTRAINT ck_released_has_number CHECK ((status = 'released') = (release_number IS NOT NULL))
);
CREATE INDEX ix_publication_country ON transparency.publication (country, prepared_at);
CREATE TABLE transparency.publication_file (
  publication_id uuid NOT NULL REFERENCES transparency.publication (id),
  name text NOT NULL,
  media_type text NOT NULL,
  sha256 text NOT NULL,
  content bytea NOT NULL,
  PRIMARY KEY (publication_id, name)
);
CREATE TABLE transparency.published_factory (
  publication_id uuid NOT NULL REFERENCES transparency.publication (id),
  factory_id uuid NOT NULL,
  country text NOT NULL,
  name text NOT NULL,
  province text NOT NULL,
  non_compliant integer NOT NULL,
  issue_codes text[] NOT NULL,
  assessed_year integer NOT NULL,
  document jsonb NOT NULL,
  PRIMARY KEY (publication_id, factory_id)
);
CREATE INDEX ix_published_factory_id ON transparency.published_factory (factory_id);
CREATE TABLE transparency.public_change (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  publication_id uuid NOT NULL REFERENCES transparency.publication (id),
  country text NOT NULL,
  release_number integer NOT NULL,
  factory_id uuid NOT NULL,
  change text NOT NULL CHECK (change IN ('listed', 'changed', 'delisted')),
  released_at timestamptz NOT NULL
);
"""

# A release is immutable: its row, files and factories can be neither changed nor removed once it is public.
IMMUTABLE = [
    """CREATE FUNCTION transparency.refuse_change_of_release() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM transparency.publication p WHERE p.id = OLD.publication_id AND p.status = 'released') THEN
    RAISE EXCEPTION 'release % is immutable', OLD.publication_id;
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$""",
    """CREATE TRIGGER tg_publication_file_immutable BEFORE UPDATE OR DELETE ON transparency.publication_file
  FOR EACH ROW EXECUTE FUNCTION transparency.refuse_change_of_release()""",
    """CREATE TRIGGER tg_published_factory_immutable BEFORE UPDATE OR DELETE ON transparency.published_factory
  FOR EACH ROW EXECUTE FUNCTION transparency.refuse_change_of_release()""",
    """CREATE FUNCTION transparency.refuse_change_of_released_publication() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'released' THEN
    RAISE EXCEPTION 'release % is immutable', OLD.id;
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$""",
    """CREATE TRIGGER tg_publication_immutable BEFORE UPDATE OR DELETE ON transparency.publication
  FOR EACH ROW EXECUTE FUNCTION transparency.refuse_change_of_released_publication()""",
]


def upgrade() -> None:
    for statement in DDL.split(";"):
        if statement.strip():
            op.execute(statement)
    for statement in IMMUTABLE:
        op.execute(statement)


def downgrade() -> None:
    for table in ("public_change", "published_factory", "publication_file", "publication", "fact", "factory_ref"):
        op.execute(f"DROP TABLE transparency.{table}")
    op.execute("DROP FUNCTION transparency.refuse_change_of_release()")
    op.execute("DROP FUNCTION transparency.refuse_change_of_released_publication()")
