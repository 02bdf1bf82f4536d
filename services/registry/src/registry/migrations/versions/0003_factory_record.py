"""The full factory record, its names for matching and search, enrolment history, reviews, proposals, imports.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "registry"


def upgrade() -> None:
    # pg_trgm is created in this schema by provisioning (a service role cannot create extensions).
    add = [
        sa.Column("local_name", sa.String(300)),
        sa.Column("aliases", ARRAY(sa.String(300)), nullable=False, server_default="{}"),
        sa.Column("province", sa.String(200)),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("sector", sa.String(32)),
        sa.Column("factory_type", sa.String(32)),
        sa.Column("group_name", sa.String(300)),
        sa.Column("ownership", sa.String(32)),
        sa.Column("investor_country", sa.String(2)),
        sa.Column("workers_total", sa.Integer),
        sa.Column("workers_women", sa.Integer),
        sa.Column("workers_men", sa.Integer),
        sa.Column("workers_migrants", sa.Integer),
        sa.Column("union_present", sa.Boolean),
        sa.Column("committee_present", sa.Boolean),
        sa.Column("os_id", sa.String(15)),
        sa.Column("slcp_facility_id", sa.String(100)),
        sa.Column("national_registration", sa.String(100)),
        sa.Column("customs_list_entry", sa.String(100)),
        sa.Column("contacts", JSONB, nullable=False, server_default="[]"),
        sa.Column("status", sa.String(16), nullable=False, server_default="registered"),
        sa.Column("joined_via", sa.String(32), nullable=False, server_default="self"),
        sa.Column("service_package", sa.String(100)),
        sa.Column("start_date", sa.Date),
        sa.Column("merged_into", UUID(as_uuid=True)),
        sa.Column("former_external_ids", JSONB, nullable=False, server_default="[]"),
        sa.Column("search_text", sa.Text, nullable=False, server_default=""),
        sa.Column("address_key", sa.Text, nullable=False, server_default=""),
    ]
    for column in add:
        op.add_column("factory", column, schema=SCHEMA)
    op.execute("UPDATE registry.factory SET address = '' WHERE address IS NULL")
    op.alter_column("factory", "address", nullable=False, schema=SCHEMA)
    op.create_index("ix_factory_status", "factory", ["country", "status"], schema=SCHEMA)
    op.create_index("ix_factory_sector", "factory", ["sector"], schema=SCHEMA)
    op.create_index("ix_factory_group", "factory", ["group_name"], schema=SCHEMA)
    op.create_index("ix_factory_registered", "factory", ["registered_at", "id"], schema=SCHEMA)
    op.create_index("ix_factory_name_sort", "factory", ["name", "id"], schema=SCHEMA)
    op.create_index("ix_factory_merged_into", "factory", ["merged_into"], schema=SCHEMA)
    op.create_index("ux_factory_os_id", "factory", ["os_id"], unique=True, schema=SCHEMA)
    op.create_index("ux_factory_slcp", "factory", ["slcp_facility_id"], unique=True, schema=SCHEMA)
    op.create_index(
        "ux_factory_national_registration", "factory", ["country", "national_registration"], unique=True, schema=SCHEMA
    )
    op.create_index("ix_factory_customs", "factory", ["customs_list_entry"], schema=SCHEMA)
    op.execute("CREATE INDEX ix_factory_former_ids ON registry.factory USING gin (former_external_ids jsonb_path_ops)")
    op.execute("CREATE INDEX ix_factory_search ON registry.factory USING gin (search_text gin_trgm_ops)")

    op.create_table(
        "factory_name",
        sa.Column("factory_id", UUID(as_uuid=True), sa.ForeignKey("registry.factory.id"), primary_key=True),
        sa.Column("name_key", sa.Text, primary_key=True),
        sa.Column("country", sa.String(2), nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_factory_name_exact", "factory_name", ["country", "name_key"], schema=SCHEMA)
    # Candidate search for matching: each name filed under its blocking keys (domain/matching.py).
    op.create_table(
        "factory_key",
        sa.Column("country", sa.String(2), primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("factory_id", UUID(as_uuid=True), sa.ForeignKey("registry.factory.id"), primary_key=True),
        schema=SCHEMA,
    )
    op.create_index("ix_factory_key_factory", "factory_key", ["factory_id"], schema=SCHEMA)

    op.create_table(
        "factory_status_change",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("factory_id", UUID(as_uuid=True), sa.ForeignKey("registry.factory.id"), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=False),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_subject", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("suspension_reason", sa.String(32)),
        sa.Column("service_package", sa.String(100)),
        sa.Column("start_date", sa.Date),
        schema=SCHEMA,
    )
    op.create_index("ix_status_change_factory", "factory_status_change", ["factory_id", "id"], schema=SCHEMA)

    op.create_table(
        "match_review",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("submitted", JSONB, nullable=False),
        sa.Column("candidate_id", UUID(as_uuid=True), sa.ForeignKey("registry.factory.id"), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("alternatives", JSONB, nullable=False, server_default="[]"),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("import_job_id", UUID(as_uuid=True)),
        sa.Column("import_line", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("decision_note", sa.Text),
        sa.Column("factory_id", UUID(as_uuid=True), sa.ForeignKey("registry.factory.id")),
        schema=SCHEMA,
    )
    op.create_index("ix_match_review_open", "match_review", ["country", "status", "created_at", "id"], schema=SCHEMA)

    op.create_table(
        "change_proposal",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("factory_id", UUID(as_uuid=True), sa.ForeignKey("registry.factory.id"), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("proposed", JSONB, nullable=False),
        sa.Column("based_on_version", sa.Integer, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("proposed_by", sa.String(200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("decision_note", sa.Text),
        schema=SCHEMA,
    )
    op.create_index("ix_change_proposal", "change_proposal", ["country", "status", "proposed_at", "id"], schema=SCHEMA)
    op.create_index("ix_change_proposal_factory", "change_proposal", ["factory_id"], schema=SCHEMA)

    op.create_table(
        "import_job",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("filename", sa.String(300)),
        sa.Column("default_country", sa.String(2)),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("processed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created", sa.Integer, nullable=False, server_default="0"),
        sa.Column("matched", sa.Integer, nullable=False, server_default="0"),
        sa.Column("needs_review", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
        sa.Column("principal", JSONB, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        schema=SCHEMA,
    )
    op.create_index("ix_import_job_created", "import_job", ["created_at", "id"], schema=SCHEMA)
    op.create_table(
        "import_row",
        sa.Column("job_id", UUID(as_uuid=True), sa.ForeignKey("registry.import_job.id"), primary_key=True),
        sa.Column("line", sa.Integer, primary_key=True),
        sa.Column("raw", JSONB, nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.Column("factory_id", UUID(as_uuid=True)),
        sa.Column("review_id", UUID(as_uuid=True)),
        sa.Column("score", sa.Float),
        sa.Column("reason", sa.Text),
        schema=SCHEMA,
    )
    op.execute("CREATE INDEX ix_import_row_pending ON registry.import_row (job_id, line) WHERE outcome IS NULL")


def downgrade() -> None:
    for table in (
        "import_row",
        "import_job",
        "change_proposal",
        "match_review",
        "factory_status_change",
        "factory_name",
    ):
        op.drop_table(table, schema=SCHEMA)
    for index in ("ix_factory_search", "ix_factory_former_ids"):
        op.execute(f"DROP INDEX registry.{index}")
    for index in (
        "ix_factory_customs",
        "ux_factory_national_registration",
        "ux_factory_slcp",
        "ux_factory_os_id",
        "ix_factory_merged_into",
        "ix_factory_name_sort",
        "ix_factory_registered",
        "ix_factory_group",
        "ix_factory_sector",
        "ix_factory_status",
    ):
        op.drop_index(index, "factory", schema=SCHEMA)
    op.alter_column("factory", "address", nullable=True, schema=SCHEMA)
    for column in [
        "local_name",
        "aliases",
        "province",
        "latitude",
        "longitude",
        "sector",
        "factory_type",
        "group_name",
        "ownership",
        "investor_country",
        "workers_total",
        "workers_women",
        "workers_men",
        "workers_migrants",
        "union_present",
        "committee_present",
        "os_id",
        "slcp_facility_id",
        "national_registration",
        "customs_list_entry",
        "contacts",
        "status",
        "joined_via",
        "service_package",
        "start_date",
        "merged_into",
        "former_external_ids",
        "search_text",
        "address_key",
    ]:
        op.drop_column("factory", column, schema=SCHEMA)
