"""Matching (issue 13): addresses are compared by their streets, zones and localities, read between the commas of
the address as it was written, which the cleaned address no longer shows; ordinal words are numbers ("Third
Industrial Zone" = "3rd Industrial Zone"), which changes the address keys of a factory whose address has one. Every
factory is filed anew: its matching profile (`PROFILE_VERSION` 3; a profile of version 2 is recomputed on read until
then) and its search keys.

The downgrade files them again the same way: what the rules of the running code make of them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from alembic import op

from registry.adapters.refile import refile

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    refile(op.get_bind())


def downgrade() -> None:
    refile(op.get_bind())
