"""Registration speed (issue 13): every factory keeps its matching profile (`registry.domain.matching.Profile`: each
name cleaned and split into brand, product lines and unit numbers, and the address cleaned), written with the record,
so that matching a submission against its candidates cleans no candidate's name again.

Existing factories get theirs here; a factory written afterwards gets it from `tables.factory_values`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from registry.domain.matching import profile

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "registry"
CHUNK = 5000


def upgrade() -> None:
    op.add_column("factory", sa.Column("match_profile", JSONB), schema=SCHEMA)
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, name, local_name, aliases, address FROM registry.factory WHERE merged_into IS NULL")
    ).all()
    fill = sa.text(
        "UPDATE registry.factory f SET match_profile = CAST(p.profile AS jsonb)"
        " FROM unnest(CAST(:ids AS uuid[]), CAST(:profiles AS text[])) AS p(id, profile) WHERE f.id = p.id"
    )
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        profiles = [
            json.dumps(profile(name, [n for n in (local_name, *(aliases or ())) if n], address).as_json())
            for _, name, local_name, aliases, address in chunk
        ]
        bind.execute(fill, {"ids": [row[0] for row in chunk], "profiles": profiles})


def downgrade() -> None:
    op.drop_column("factory", "match_profile", schema=SCHEMA)
