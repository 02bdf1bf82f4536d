"""Tables of the transparency schema, defined once (the migrations create the same)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from servicekit.tables import timestamp

SCHEMA = "transparency"
metadata = sa.MetaData(schema=SCHEMA)


# The registry's factories as its versioned events left them (merges followed through `merged_into`).
FACTORY_REF = sa.Table(
    "factory_ref",
    metadata,
    sa.Column("factory_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("merged_into", UUID(as_uuid=True)),
)

# Append-only: every fact a release may be computed from, in the order it was learnt.
FACT = sa.Table(
    "fact",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("source_id", sa.Text, nullable=False, unique=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("country", sa.Text),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("payload", JSONB, nullable=False),
)

PUBLICATION = sa.Table(
    "publication",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("rule_set", sa.Text, nullable=False),
    sa.Column("cut_off", sa.Date, nullable=False),
    sa.Column("log_position", sa.BigInteger, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("prepared_by", sa.Text, nullable=False),
    timestamp("prepared_at"),
    sa.Column("base_release", sa.Integer),
    sa.Column("content_hash", sa.Text, nullable=False),
    sa.Column("factories_listed", sa.Integer, nullable=False),
    sa.Column("differences", JSONB, nullable=False),
    sa.Column("reviewed_by", sa.Text),
    timestamp("reviewed_at", True),
    sa.Column("approved_by", sa.Text),
    timestamp("released_at", True),
    sa.Column("release_number", sa.Integer),
    sa.Column("rejected_by", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("lock_version", sa.Integer, nullable=False),
    sa.UniqueConstraint("country", "release_number", name="uq_publication_release"),
)

PUBLICATION_FILE = sa.Table(
    "publication_file",
    metadata,
    sa.Column("publication_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("media_type", sa.Text, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
)

# The listed factories of every publication, as served (documents are the release's public JSON).
PUBLISHED_FACTORY = sa.Table(
    "published_factory",
    metadata,
    sa.Column("publication_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("factory_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("province", sa.Text, nullable=False),
    sa.Column("non_compliant", sa.Integer, nullable=False),
    sa.Column("issue_codes", sa.ARRAY(sa.Text), nullable=False),
    sa.Column("assessed_year", sa.Integer, nullable=False),
    sa.Column("document", JSONB, nullable=False),
)

# The public change feed: one row per factory listed, changed or delisted by a release.
PUBLIC_CHANGE = sa.Table(
    "public_change",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("publication_id", UUID(as_uuid=True), nullable=False),
    sa.Column("country", sa.Text, nullable=False),
    sa.Column("release_number", sa.Integer, nullable=False),
    sa.Column("factory_id", UUID(as_uuid=True), nullable=False),
    sa.Column("change", sa.Text, nullable=False),
    timestamp("released_at"),
)
