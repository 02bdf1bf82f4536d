"""Tables of the invoicing schema, defined once (the migrations create the same)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from servicekit.tables import timestamp

SCHEMA = "invoicing"
metadata = sa.MetaData(schema=SCHEMA)


PRICE_LIST = sa.Table(
    "price_list_version",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("effective_from", sa.Date, nullable=False),
    sa.Column("items", JSONB, nullable=False),
    sa.Column("group_discount_bps", sa.Integer, nullable=False),
    sa.Column("group_min_factories", sa.Integer, nullable=False),
    sa.Column("reduced_tariffs", JSONB, nullable=False),
    timestamp("created_at"),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.UniqueConstraint("country", "currency", "effective_from", name="uq_price_list_version_day"),
)

# One row per (issuer, document type, year): the last number used. Advanced with UPDATE ... RETURNING in the
# transaction that issues, so the row lock orders issuers' numbers and a rollback gives the number back.
DOCUMENT_COUNTER = sa.Table(
    "document_counter",
    metadata,
    sa.Column("issuer", sa.Text, primary_key=True),
    sa.Column("doc_type", sa.Text, primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("last_number", sa.Integer, nullable=False),
)

INVOICE = sa.Table(
    "invoice",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("doc_type", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("issuer", sa.Text, nullable=False),
    sa.Column("customer_kind", sa.Text, nullable=False),
    sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
    sa.Column("customer_name", sa.Text, nullable=False),
    sa.Column("customer_country", sa.Text, nullable=False),
    sa.Column("customer_address", sa.Text),
    sa.Column("lines", JSONB, nullable=False),
    sa.Column("total", sa.BigInteger, nullable=False),
    sa.Column("amount_paid", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("amount_credited", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("terms_days", sa.Integer, nullable=False),
    sa.Column("number", sa.Text, unique=True),
    sa.Column("issue_date", sa.Date),
    sa.Column("due_date", sa.Date),
    sa.Column("document", JSONB),
    sa.Column("document_hash", sa.Text),
    sa.Column("preceding_invoice_id", UUID(as_uuid=True)),
    sa.Column("preceding_number", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("cycle", sa.Integer),
    sa.Column("price_list_id", UUID(as_uuid=True)),
    sa.Column("assessment_id", UUID(as_uuid=True)),  # a per-assessment charge (and its credit notes)
    sa.Column("merged_from", UUID(as_uuid=True)),  # the retired factory a merge moved it from
    sa.Column("version", sa.Integer, nullable=False),
    timestamp("created_at"),
    sa.Column("created_by", sa.Text, nullable=False),
    timestamp("updated_at"),
    sa.Index("ix_invoice_customer", "customer_kind", "customer_id", "created_at"),
    sa.Index("ix_invoice_open_due", "due_date", postgresql_where=sa.text("status IN ('issued', 'partially_paid')")),
    sa.Index("ix_invoice_created", "created_at", "id"),
    # One charge per assessment, however often its `assessment.scheduled` arrives.
    sa.Index(
        "uq_invoice_assessment",
        "assessment_id",
        unique=True,
        postgresql_where=sa.text("doc_type = 'invoice' AND assessment_id IS NOT NULL"),
    ),
)

# What a customer paid on an invoice that was then credited (a cancelled assessment): owed back to it, to be
# refunded or set off against a later invoice by finance staff.
REFUND_DUE = sa.Table(
    "refund_due",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("invoice_id", UUID(as_uuid=True), sa.ForeignKey("invoice.id"), nullable=False),
    sa.Column("credit_note_id", UUID(as_uuid=True), sa.ForeignKey("invoice.id"), nullable=False, unique=True),
    sa.Column("customer_kind", sa.Text, nullable=False),
    sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="open"),  # open, refunded, set_off
    timestamp("created_at"),
    sa.Column("created_by", sa.Text, nullable=False),
    timestamp("settled_at", nullable=True),
    sa.Column("settled_by", sa.Text),
    sa.Column("refunded_on", sa.Date),
    sa.Column("method", sa.Text),
    sa.Column("reference", sa.Text),
    sa.Column("set_off_invoice_id", UUID(as_uuid=True), sa.ForeignKey("invoice.id")),
    sa.Column("payment_id", UUID(as_uuid=True), sa.ForeignKey("payment.id")),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.CheckConstraint("amount > 0", name="ck_refund_due_amount"),
    sa.CheckConstraint("status IN ('open', 'refunded', 'set_off')", name="ck_refund_due_status"),
    sa.Index("ix_refund_due_customer", "customer_kind", "customer_id"),
    sa.Index("ix_refund_due_country_created", "country", "created_at", "id"),
)

# The payment terms this service applies per country, written at start (the country pack's, or the setting), so
# an invoice issued from an event (no settings there) is due as one issued over HTTP.
PAYMENT_TERMS = sa.Table(
    "payment_terms",
    metadata,
    sa.Column("country", sa.Text, primary_key=True),
    sa.Column("days", sa.Integer, nullable=False),
    timestamp("set_at"),
)

PAYMENT = sa.Table(
    "payment",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("unallocated", sa.BigInteger, nullable=False),
    sa.Column("customer_kind", sa.Text, nullable=False),
    sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
    sa.Column("received_on", sa.Date, nullable=False),
    sa.Column("reference", sa.Text),
    timestamp("recorded_at"),
    sa.Column("recorded_by", sa.Text, nullable=False),
)

PAYMENT_ALLOCATION = sa.Table(
    "payment_allocation",
    metadata,
    sa.Column("payment_id", UUID(as_uuid=True), sa.ForeignKey("payment.id"), primary_key=True),
    sa.Column("invoice_id", UUID(as_uuid=True), sa.ForeignKey("invoice.id"), primary_key=True),
    sa.Column("amount", sa.BigInteger, nullable=False),
)

# The row every spend of a buyer locks first: spends of one buyer happen one after the other.
CREDIT_WALLET = sa.Table(
    "credit_wallet",
    metadata,
    sa.Column("buyer_id", UUID(as_uuid=True), primary_key=True),
    timestamp("created_at"),
)

CREDIT_LOT = sa.Table(
    "credit_lot",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("buyer_id", UUID(as_uuid=True), sa.ForeignKey("credit_wallet.buyer_id"), nullable=False),
    sa.Column("invoice_id", UUID(as_uuid=True), sa.ForeignKey("invoice.id"), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("remaining", sa.Integer, nullable=False),
    sa.Column("unit_price", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("tier", sa.Text),
    sa.Column("expires_on", sa.Date),
    sa.Column("spendable", sa.Boolean, nullable=False),
    timestamp("created_at"),
    timestamp("spendable_at", nullable=True),
    sa.CheckConstraint("remaining >= 0 AND remaining <= quantity", name="ck_credit_lot_remaining"),
    sa.Index("ix_credit_lot_buyer", "buyer_id", "expires_on"),
)

CREDIT_ENTRY = sa.Table(
    "credit_entry",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("buyer_id", UUID(as_uuid=True), nullable=False),
    sa.Column("lot_id", UUID(as_uuid=True), sa.ForeignKey("credit_lot.id"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("factory_id", UUID(as_uuid=True)),
    sa.Column("cycle", sa.Integer),
    sa.Column("entitlement_id", UUID(as_uuid=True)),
    sa.Column("reverses", sa.BigInteger, unique=True),
    sa.Column("merged_from", UUID(as_uuid=True)),  # the retired factory a merge moved the spend from
    timestamp("at"),
    sa.Column("by_subject", sa.Text, nullable=False),
    sa.Index("ix_credit_entry_buyer", "buyer_id", "factory_id", "cycle"),
)

DUNNING_STEP = sa.Table(
    "dunning_step",
    metadata,
    sa.Column("invoice_id", UUID(as_uuid=True), sa.ForeignKey("invoice.id"), primary_key=True),
    sa.Column("step", sa.Integer, primary_key=True),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("days_past_due", sa.Integer, nullable=False),
    timestamp("taken_at"),
)

# What invoicing knows of factories, from the registry's versioned events (VersionedReadModel).
FACTORY_REF = sa.Table(
    "factory_ref",
    metadata,
    sa.Column("factory_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("address", sa.Text),
    sa.Column("group_name", sa.Text),
    sa.Column("group_id", UUID(as_uuid=True)),  # the manufacturing group, the same in every country
    sa.Column("status", sa.Text, nullable=False, server_default="registered"),
    sa.Column("service_package", sa.Text),
    sa.Column("merged_into", UUID(as_uuid=True)),
    sa.Index("ix_factory_ref_group", "country", sa.text("lower(group_name)")),
    sa.Index("ix_factory_ref_group_id", "group_id", postgresql_where=sa.text("group_id IS NOT NULL")),
)

# What invoicing knows of buyers, from partnerships' `buyer.registered` (unversioned: the first one wins).
BUYER_REF = sa.Table(
    "buyer_ref",
    metadata,
    sa.Column("buyer_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("country", sa.Text, nullable=False),
)

PROGRAMME_COST = sa.Table(
    "programme_cost",
    metadata,
    sa.Column("country", sa.Text, primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("note", sa.Text),
    timestamp("entered_at"),
    sa.Column("entered_by", sa.Text, nullable=False),
)

EXCHANGE_RATE = sa.Table(
    "exchange_rate",
    metadata,
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("currency", sa.Text, primary_key=True),
    sa.Column("to_currency", sa.Text, primary_key=True),
    sa.Column("rate", sa.Numeric(24, 10), nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    timestamp("entered_at"),
    sa.Column("entered_by", sa.Text, nullable=False),
)
