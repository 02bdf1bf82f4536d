"""The factory read model: what partnerships knows of each factory, kept from the registry's events.

Every change goes through messaging's `VersionedReadModel` (the next version applies, a repeat is skipped, a
gap or a factory never registered here waits and is retried): one statement per event in the common case.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.read_model import Apply, VersionedReadModel
from partnerships.adapters.tables import FACTORY_REF
from partnerships.domain.relationships import FactoryRef

READ_MODEL = VersionedReadModel(FACTORY_REF, key="factory_id", what="factory")


async def register(session: AsyncSession, factory_id: uuid.UUID, version: int, values: Mapping[str, Any]) -> Apply:
    """A factory's first event: its copy is created (a copy already there makes the event a repeat)."""
    return await READ_MODEL.register(session, factory_id, version, {**values, "updated_at": datetime.now(UTC)})


async def apply(session: AsyncSession, factory_id: uuid.UUID, version: int, values: Mapping[str, Any]) -> Apply:
    """A later event of the factory: applied if it is the next version (see `VersionedReadModel.apply`)."""
    return await READ_MODEL.apply(session, factory_id, version, {**values, "updated_at": datetime.now(UTC)})


async def load(session: AsyncSession, factory_id: uuid.UUID) -> FactoryRef | None:
    row = (await session.execute(select(FACTORY_REF).where(FACTORY_REF.c.factory_id == factory_id))).mappings().first()
    if row is None:
        return None
    return FactoryRef(
        factory_id=row["factory_id"],
        name=row["name"],
        country=row["country"],
        status=row["status"],
        merged_into=row["merged_into"],
        version=row["version"],
    )


def of_country(country: str) -> Any:
    """The ids of a country's factories, as a subquery (what staff of that country see)."""
    return select(FACTORY_REF.c.factory_id).where(FACTORY_REF.c.country == country)
