"""Column helpers the services' table definitions share."""

from __future__ import annotations

import sqlalchemy as sa


def timestamp(name: str, nullable: bool = False) -> sa.Column[object]:
    """A `timestamptz` column: every instant a service stores carries its time zone."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)
