"""The fact log (append-only) and the registry's factories as a versioned read model."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.read_model import VersionedReadModel
from transparency.adapters.tables import FACT, FACTORY_REF
from transparency.domain.facts import Fact

FACTORIES = VersionedReadModel(FACTORY_REF, key="factory_id", what="factory")


@dataclass(frozen=True)
class FactoryRef:
    factory_id: uuid.UUID
    name: str
    country: str
    status: str
    merged_into: uuid.UUID | None


async def factory(session: AsyncSession, factory_id: uuid.UUID) -> FactoryRef | None:
    """The factory as the registry last said, following merges to the survivor."""
    seen: set[uuid.UUID] = set()
    current = factory_id
    while current not in seen:
        seen.add(current)
        row = (
            (await session.execute(sa.select(FACTORY_REF).where(FACTORY_REF.c.factory_id == current)))
            .mappings()
            .first()
        )
        if row is None:
            return None
        if row["merged_into"] is None:
            return FactoryRef(**{k: row[k] for k in FactoryRef.__dataclass_fields__})
        current = row["merged_into"]
    return None


async def merged_into(session: AsyncSession, survivor: uuid.UUID) -> list[uuid.UUID]:
    """The ids merged into `survivor`, directly or through other merged records."""
    found: list[uuid.UUID] = []
    frontier = [survivor]
    while frontier:
        rows = await session.execute(
            sa.select(FACTORY_REF.c.factory_id).where(
                FACTORY_REF.c.merged_into.in_(frontier), FACTORY_REF.c.factory_id.not_in([survivor, *found])
            )
        )
        frontier = list(rows.scalars())
        found.extend(frontier)
    return found


async def record(
    session: AsyncSession, *, source_id: str, kind: str, country: str | None, at: datetime, payload: dict[str, Any]
) -> bool:
    """Append a fact once (False when this source was recorded already: a redelivery)."""
    stmt = (
        insert(FACT)
        .values(source_id=source_id, kind=kind, country=country, occurred_at=at, payload=payload)
        .on_conflict_do_nothing(index_elements=["source_id"])
        .returning(FACT.c.seq)
    )
    return (await session.execute(stmt)).first() is not None


async def position(session: AsyncSession) -> int:
    """The newest fact's position in the log (0 when empty)."""
    return int(await session.scalar(sa.select(sa.func.coalesce(sa.func.max(FACT.c.seq), 0))) or 0)


async def facts_up_to(session: AsyncSession, log_position: int, country: str) -> list[Fact]:
    """The country's facts up to `log_position`, in log order: the input of its release (a factory, its merges,
    assessments, verifications and replies all carry the factory's country)."""
    result = await session.execute(
        sa.select(FACT.c.seq, FACT.c.kind, FACT.c.occurred_at, FACT.c.payload)
        .where(FACT.c.country == country, FACT.c.seq <= log_position)
        .order_by(FACT.c.seq)
    )
    return [Fact(seq, kind, at, payload) for seq, kind, at, payload in result]
