"""Per-assessment charges: an invoice (and its credit notes) links to the assessment it charges, one charge per
assessment; refunds due to a customer whose paid invoice was credited (a cancelled assessment). An invoice
credited in full after payment holds more paid and credited than its total: the difference is owed back.

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-20
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

DDL = """
ALTER TABLE invoicing.invoice ADD COLUMN assessment_id uuid;
ALTER TABLE invoicing.invoice DROP CONSTRAINT ck_invoice_amounts;
ALTER TABLE invoicing.invoice ADD CONSTRAINT ck_invoice_amounts CHECK (
  amount_paid >= 0 AND amount_credited >= 0 AND amount_paid <= total AND amount_credited <= total
  AND (amount_paid + amount_credited <= total OR amount_credited = total)
);
CREATE UNIQUE INDEX uq_invoice_assessment ON invoicing.invoice (assessment_id)
  WHERE doc_type = 'invoice' AND assessment_id IS NOT NULL;
CREATE TABLE invoicing.refund_due (
  id uuid PRIMARY KEY,
  invoice_id uuid NOT NULL REFERENCES invoicing.invoice (id),
  credit_note_id uuid NOT NULL UNIQUE REFERENCES invoicing.invoice (id),
  customer_kind text NOT NULL,
  customer_id uuid NOT NULL,
  country text NOT NULL,
  currency text NOT NULL,
  amount bigint NOT NULL,
  reason text NOT NULL,
  status text NOT NULL DEFAULT 'open',
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  CONSTRAINT ck_refund_due_amount CHECK (amount > 0)
);
CREATE INDEX ix_refund_due_customer ON invoicing.refund_due (customer_kind, customer_id)
"""


def upgrade() -> None:
    for statement in DDL.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    op.execute("ALTER TABLE invoicing.invoice DROP CONSTRAINT ck_invoice_amounts")
    op.execute(
        "ALTER TABLE invoicing.invoice ADD CONSTRAINT ck_invoice_amounts CHECK (amount_paid >= 0"
        " AND amount_credited >= 0 AND amount_paid + amount_credited <= total)"
    )
    op.execute("DROP TABLE invoicing.refund_due")
    op.execute("DROP INDEX invoicing.uq_invoice_assessment")
    op.execute("ALTER TABLE invoicing.invoice DROP COLUMN assessment_id")
