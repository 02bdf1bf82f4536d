"""The factory read model: what assessments knows of each factory, kept from the registry's events.

Every change goes through one `VersionedReadModel` (messaging's rule: the next version applies, a repeat is
skipped, a gap or an unknown factory waits), which logs it to `factory_ref_change` in the same statement:
one statement per event in the common case (bench/consumer_throughput.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from assessments.adapters.tables import FACTORY_REF, FACTORY_REF_CHANGE
from assessments.domain.assessment import FactoryRef
from messaging.read_model import Apply, VersionedReadModel

READ_MODEL = VersionedReadModel(
    FACTORY_REF, key="factory_id", what="factory", changelog=FACTORY_REF_CHANGE, copied=("name",)
)


def _log(event_id: str, change: str | None) -> dict[str, Any]:
    logged: dict[str, Any] = {"event_id": event_id, "applied_at": datetime.now(UTC)}
    if change is not None:
        logged["change"] = change
    return logged


async def register(
    session: AsyncSession, factory_id: uuid.UUID, version: int, values: Mapping[str, Any], *, event_id: str
) -> Apply:
    """A factory's first event: its copy is created (a copy already there makes the event a repeat)."""
    return await READ_MODEL.register(session, factory_id, version, values, log_values=_log(event_id, None))


async def apply(
    session: AsyncSession,
    factory_id: uuid.UUID,
    version: int,
    values: Mapping[str, Any],
    *,
    event_id: str,
    change: str | None = None,
) -> Apply:
    """A later event of the factory; `change` names it in the log (None for a field update)."""
    return await READ_MODEL.apply(session, factory_id, version, values, log_values=_log(event_id, change))


def _factory_of(row: Any) -> FactoryRef:
    return FactoryRef(
        factory_id=row["factory_id"],
        name=row["name"],
        country=row["country"],
        version=row["version"],
        status=row["status"],
        merged_into=row["merged_into"],
        slcp_facility_id=row["slcp_facility_id"],
    )


async def load(session: AsyncSession, factory_id: uuid.UUID) -> FactoryRef | None:
    row = (await session.execute(select(FACTORY_REF).where(FACTORY_REF.c.factory_id == factory_id))).mappings().first()
    return _factory_of(row) if row is not None else None


async def carrying_slcp_facility(session: AsyncSession, facility_id: str) -> uuid.UUID | None:
    """The live factory carrying `facility_id` as its SLCP facility id."""
    found: uuid.UUID | None = (
        await session.execute(
            select(FACTORY_REF.c.factory_id).where(
                FACTORY_REF.c.slcp_facility_id == facility_id, FACTORY_REF.c.merged_into.is_(None)
            )
        )
    ).scalar()
    return found
