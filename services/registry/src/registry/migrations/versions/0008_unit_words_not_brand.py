"""Matching (issue 13): "unit", "units" and "plant" are no longer part of a factory's brand but words that introduce
its unit number, like "factory" ("X Unit 2" = "X Factory 2" = "X 2"), so two companies whose names both say "Unit 2"
no longer look alike for it. Every factory is filed anew: its cleaned names, search text, search keys and matching
profile (`PROFILE_VERSION` 2; a profile of version 1 is recomputed on read until then).

The downgrade files them again the same way: what the rules of the running code make of them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from alembic import op

from registry.adapters.refile import refile

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    refile(op.get_bind())


def downgrade() -> None:
    refile(op.get_bind())
