"""Matching that holds on real lists (issue 13): every factory filed anew under the new search keys, its cleaned names
and search text written again (names in Khmer, Arabic or Bengali are transliterated now, not folded to nothing);
review items keep the explanation of their score.

Search keys (`registry.domain.matching.search_keys`) are now phonetic keys of the brand words and of the whole brand
(that one also by halves), plus the address's numbers. Until now a factory was filed only when
its names changed, so a factory registered or imported was found by its exact cleaned name alone.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from registry.domain.matching import normalise_address, normalise_name, search_keys

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "registry"
CHUNK = 5000


def upgrade() -> None:
    op.add_column("match_review", sa.Column("explanation", JSONB), schema=SCHEMA)
    op.create_index("ix_factory_customs_country", "factory", ["country", "customs_list_entry"], schema=SCHEMA)
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM registry.factory_key"))
    rows = (
        bind.execute(
            sa.text(
                "SELECT id, country, name, local_name, aliases, address, search_text, address_key, merged_into"
                " FROM registry.factory"
            )
        )
        .mappings()
        .all()
    )
    insert = sa.text("INSERT INTO registry.factory_key (country, key, factory_id) VALUES (:country, :key, :factory_id)")
    insert_name = sa.text(
        "INSERT INTO registry.factory_name (factory_id, name_key, country) VALUES (:factory_id, :name_key, :country)"
    )
    pending: list[dict[str, object]] = []
    for row in rows:
        names = [n for n in (row["name"], row["local_name"], *(row["aliases"] or ())) if n]
        # Names in another script folded to "" before anyascii: cleaned names, search text and address key are
        # written anew wherever they changed.
        folded = list(dict.fromkeys(normalise_name(n) for n in names))
        search_text, address_key = "\n".join(folded), normalise_address(row["address"] or "")
        if (search_text, address_key) != (row["search_text"], row["address_key"]):
            bind.execute(
                sa.text("UPDATE registry.factory SET search_text = :s, address_key = :a WHERE id = :id"),
                {"s": search_text, "a": address_key, "id": row["id"]},
            )
        if row["merged_into"] is not None:  # a merged record is no candidate any more
            continue
        bind.execute(sa.text("DELETE FROM registry.factory_name WHERE factory_id = :id"), {"id": row["id"]})
        name_rows = [{"factory_id": row["id"], "name_key": k, "country": row["country"]} for k in folded if k]
        if name_rows:
            bind.execute(insert_name, name_rows)
        keys = {k for name in names for k in search_keys(name, row["address"])}
        pending.extend({"country": row["country"], "key": k, "factory_id": row["id"]} for k in sorted(keys))
        if len(pending) >= CHUNK:
            bind.execute(insert, pending)
            pending = []
    if pending:
        bind.execute(insert, pending)


def downgrade() -> None:
    op.drop_index("ix_factory_customs_country", "factory", schema=SCHEMA)
    op.drop_column("match_review", "explanation", schema=SCHEMA)
