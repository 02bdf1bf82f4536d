"""Manufacturing groups as records, production stages, workforce nationalities, enrolment periods (issue 12).

- `manufacturing_group`: one row per group, its id derived from its folded name (`registry.domain.groups`), so a
  group is one group in every country; `factory.group_id` points at it. Every group name already on a factory
  becomes a group (the earliest registered spelling names it).
- `factory.production_stages` (a controlled list) and `factory.workers_nationalities` (head count per ISO code).
- `factory.enrolment_periods`: each stay in the programme (enrolment or re-enrolment to exit), written from the
  status history for the factories there are.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import json
import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from registry.domain.groups import GROUP_NAMESPACE, GroupRuleError, group_key

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMA = "registry"


def upgrade() -> None:
    op.create_table(
        "manufacturing_group",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("key", sa.String(300), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.add_column(
        "factory",
        sa.Column("group_id", UUID(as_uuid=True), sa.ForeignKey("registry.manufacturing_group.id")),
        schema=SCHEMA,
    )
    op.add_column(
        "factory",
        sa.Column("production_stages", ARRAY(sa.String(32)), nullable=False, server_default="{}"),
        schema=SCHEMA,
    )
    op.add_column(
        "factory", sa.Column("workers_nationalities", JSONB, nullable=False, server_default="{}"), schema=SCHEMA
    )
    op.add_column("factory", sa.Column("enrolment_periods", JSONB, nullable=False, server_default="[]"), schema=SCHEMA)
    op.create_index("ix_factory_group_id", "factory", ["group_id"], schema=SCHEMA)
    bind = op.get_bind()
    _groups_from_names(bind)
    _periods_from_history(bind)


def _groups_from_names(bind: sa.engine.Connection) -> None:
    rows = bind.execute(
        sa.text(
            "SELECT group_name, min(registered_at) AS first FROM registry.factory"
            " WHERE group_name IS NOT NULL AND group_name <> '' GROUP BY group_name ORDER BY min(registered_at)"
        )
    ).mappings()
    groups: dict[str, dict[str, object]] = {}
    members: list[dict[str, object]] = []
    for row in rows:
        try:
            key = group_key(row["group_name"])
        except GroupRuleError:  # a name with no letter or digit names no group
            continue
        group = groups.setdefault(
            key,
            {"id": uuid.uuid5(GROUP_NAMESPACE, key), "name": row["group_name"], "key": key, "created_at": row["first"]},
        )
        members.append({"id": group["id"], "name": row["group_name"]})
    if groups:  # the groups before the factories that point at them
        bind.execute(
            sa.text(
                "INSERT INTO registry.manufacturing_group (id, name, key, created_at)"
                " VALUES (:id, :name, :key, :created_at)"
            ),
            list(groups.values()),
        )
        bind.execute(sa.text("UPDATE registry.factory SET group_id = :id WHERE group_name = :name"), members)


def _periods_from_history(bind: sa.engine.Connection) -> None:
    rows = bind.execute(
        sa.text(
            "SELECT factory_id, change, at, by_subject, reason, service_package, start_date"
            " FROM registry.factory_status_change ORDER BY factory_id, at, id"
        )
    ).mappings()
    periods: dict[uuid.UUID, list[dict[str, object]]] = {}
    for row in rows:
        mine = periods.setdefault(row["factory_id"], [])
        if row["change"] in ("enrolled", "re_enrolled") and row["service_package"] and row["start_date"]:
            mine.append(
                {
                    "number": len(mine) + 1,
                    "service_package": row["service_package"],
                    "start_date": row["start_date"].isoformat(),
                    "enrolled_at": row["at"].isoformat(),
                    "enrolled_by": row["by_subject"],
                    "ended_at": None,
                    "ended_by": None,
                    "end_reason": None,
                }
            )
        elif row["change"] == "exited" and mine and mine[-1]["ended_at"] is None:
            mine[-1].update(ended_at=row["at"].isoformat(), ended_by=row["by_subject"], end_reason=row["reason"])
    for factory_id, found in periods.items():
        if found:
            bind.execute(
                sa.text("UPDATE registry.factory SET enrolment_periods = CAST(:p AS jsonb) WHERE id = :id"),
                {"p": json.dumps(found), "id": factory_id},
            )


def downgrade() -> None:
    op.drop_index("ix_factory_group_id", "factory", schema=SCHEMA)
    for column in ("enrolment_periods", "workers_nationalities", "production_stages", "group_id"):
        op.drop_column("factory", column, schema=SCHEMA)
    op.drop_table("manufacturing_group", schema=SCHEMA)
