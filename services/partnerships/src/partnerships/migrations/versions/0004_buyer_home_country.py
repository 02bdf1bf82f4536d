"""A buyer's home programme: the country whose staff registered it and manage it (agreement, contacts, tier).

Buyers registered before are given the country of the staff member who registered them, as the audit trail
recorded it; a buyer without such a row keeps none (admins manage it).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "partnerships"


def upgrade() -> None:
    op.add_column("buyer", sa.Column("home_country", sa.String(2)), schema=SCHEMA)
    op.execute(
        "UPDATE partnerships.buyer AS b SET home_country = upper(a.details->>'_country')"
        " FROM partnerships.audit_event AS a"
        " WHERE a.action = 'buyer.registered' AND a.entity_type = 'buyer' AND a.entity_id = b.id::text"
        " AND length(a.details->>'_country') = 2"
    )


def downgrade() -> None:
    op.drop_column("buyer", "home_country", schema=SCHEMA)
