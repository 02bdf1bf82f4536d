"""What invoicing knows of factories (from the registry's versioned events) and buyers (from partnerships)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from invoicing.adapters.tables import BUYER_REF, FACTORY_REF
from messaging.read_model import VersionedReadModel

FACTORIES = VersionedReadModel(FACTORY_REF, key="factory_id", what="factory")


@dataclass(frozen=True)
class FactoryRef:
    factory_id: uuid.UUID
    name: str
    country: str
    address: str | None
    group_name: str | None
    status: str
    merged_into: uuid.UUID | None
    group_id: uuid.UUID | None = None


@dataclass(frozen=True)
class BuyerRef:
    buyer_id: uuid.UUID
    name: str
    country: str


def _factory(row: Mapping[Any, Any]) -> FactoryRef:
    return FactoryRef(
        factory_id=row["factory_id"],
        name=row["name"],
        country=row["country"],
        address=row["address"],
        group_name=row["group_name"],
        status=row["status"],
        merged_into=row["merged_into"],
        group_id=row["group_id"],
    )


async def factory(session: AsyncSession, factory_id: uuid.UUID) -> FactoryRef | None:
    """The factory, or the one it was merged into."""
    row = (await session.execute(select(FACTORY_REF).where(FACTORY_REF.c.factory_id == factory_id))).mappings().first()
    if row is not None and row["merged_into"] is not None:
        return await factory(session, row["merged_into"])
    return _factory(row) if row is not None else None


async def group_size(session: AsyncSession, factory: FactoryRef | None) -> int:
    """Live factories of the factory's manufacturing group: the group discount counts them.

    A factory whose events carry the group's id counts every live factory with that id, in every country (a
    group is one group wherever its factories are), and those of its country still known only by the group's
    name (events written before the id). A factory known only by the name counts by the name (any case) in its
    own country, as names are not unique across countries.
    """
    if factory is None or not (factory.group_id or factory.group_name):
        return 0
    by_name = (
        (FACTORY_REF.c.country == factory.country)
        & (func.lower(FACTORY_REF.c.group_name) == factory.group_name.lower())
        if factory.group_name
        else None
    )
    if factory.group_id is not None:
        same = FACTORY_REF.c.group_id == factory.group_id
        if by_name is not None:
            same = same | (FACTORY_REF.c.group_id.is_(None) & by_name)
    else:
        assert by_name is not None
        same = by_name
    count: int = (
        await session.execute(
            select(func.count()).where(
                same,
                FACTORY_REF.c.merged_into.is_(None),
                FACTORY_REF.c.status != "exited",
            )
        )
    ).scalar_one()
    return count


async def record_buyer(session: AsyncSession, buyer_id: uuid.UUID, name: str, country: str) -> None:
    await session.execute(
        pg_insert(BUYER_REF).values(buyer_id=buyer_id, name=name, country=country).on_conflict_do_nothing()
    )


async def buyer(session: AsyncSession, buyer_id: uuid.UUID) -> BuyerRef | None:
    row = (await session.execute(select(BUYER_REF).where(BUYER_REF.c.buyer_id == buyer_id))).mappings().first()
    return BuyerRef(row["buyer_id"], row["name"], row["country"]) if row is not None else None
