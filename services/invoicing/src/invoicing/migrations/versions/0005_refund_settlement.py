"""Refunds due are settled (refunded, or set off against another invoice of the customer as a payment); the
payment terms invoicing applies per country are stored at start, so invoices issued from events use them too;
factories carry the id of their manufacturing group (the group discount counts by it, across countries);
invoices and credit entries moved by a merge remember the retired factory they came from, so the assessments'
renumbering of that factory's cycles finds them whichever of the two events comes first.

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-21
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

DDL = """
ALTER TABLE invoicing.refund_due
  ADD COLUMN settled_at timestamptz,
  ADD COLUMN settled_by text,
  ADD COLUMN refunded_on date,
  ADD COLUMN method text,
  ADD COLUMN reference text,
  ADD COLUMN set_off_invoice_id uuid REFERENCES invoicing.invoice (id),
  ADD COLUMN payment_id uuid REFERENCES invoicing.payment (id),
  ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE invoicing.refund_due ADD CONSTRAINT ck_refund_due_status
  CHECK (status IN ('open', 'refunded', 'set_off'));
CREATE INDEX ix_refund_due_country_created ON invoicing.refund_due (country, created_at, id);
CREATE TABLE invoicing.payment_terms (
  country text PRIMARY KEY,
  days integer NOT NULL CHECK (days >= 0),
  set_at timestamptz NOT NULL
);
ALTER TABLE invoicing.factory_ref ADD COLUMN group_id uuid;
CREATE INDEX ix_factory_ref_group_id ON invoicing.factory_ref (group_id) WHERE group_id IS NOT NULL;
ALTER TABLE invoicing.invoice ADD COLUMN merged_from uuid;
ALTER TABLE invoicing.credit_entry ADD COLUMN merged_from uuid
"""


def upgrade() -> None:
    for statement in DDL.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    op.execute("ALTER TABLE invoicing.credit_entry DROP COLUMN merged_from")
    op.execute("ALTER TABLE invoicing.invoice DROP COLUMN merged_from")
    op.execute("DROP INDEX invoicing.ix_factory_ref_group_id")
    op.execute("ALTER TABLE invoicing.factory_ref DROP COLUMN group_id")
    op.execute("DROP TABLE invoicing.payment_terms")
    op.execute("DROP INDEX invoicing.ix_refund_due_country_created")
    op.execute("ALTER TABLE invoicing.refund_due DROP CONSTRAINT ck_refund_due_status")
    for column in ("version", "payment_id", "set_off_invoice_id", "reference", "method", "refunded_on"):
        op.execute(f"ALTER TABLE invoicing.refund_due DROP COLUMN {column}")
    op.execute("ALTER TABLE invoicing.refund_due DROP COLUMN settled_by")
    op.execute("ALTER TABLE invoicing.refund_due DROP COLUMN settled_at")
