"""What advisory knows from other services: factories (registry's versioned events), report access
(partnerships' decisions) and zero-tolerance cases (assessments), each as its own small projection."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from advisory.adapters.tables import FACTORY_REF, REPORT_ACCESS, ZT_CASE
from messaging.read_model import VersionedReadModel, record_latest
from servicekit.errors import merged_factory

FACTORIES = VersionedReadModel(FACTORY_REF, key="factory_id", what="factory")


@dataclass(frozen=True)
class FactoryRef:
    factory_id: uuid.UUID
    name: str
    country: str
    status: str
    workers_total: int | None
    workers_women: int | None
    workers_men: int | None
    merged_into: uuid.UUID | None


async def factory(session: AsyncSession, factory_id: uuid.UUID) -> FactoryRef | None:
    """The factory as the registry last said, following a merge to the survivor."""
    row = (await session.execute(select(FACTORY_REF).where(FACTORY_REF.c.factory_id == factory_id))).mappings().first()
    if row is None:
        return None
    if row["merged_into"] is not None and row["merged_into"] != factory_id:
        return await factory(session, row["merged_into"])
    return FactoryRef(**{k: row[k] for k in FactoryRef.__dataclass_fields__})


def check_live(factory: FactoryRef, named: uuid.UUID) -> FactoryRef:
    """A write names the live factory: `factory` (looked up by `named`, merges followed) being another id means
    `named` was merged into it, answered 409 with the survivor's id (`survivor_id`). Reads follow the merge."""
    if factory.factory_id != named:
        raise merged_factory(named, factory.factory_id)
    return factory


async def record_access(
    session: AsyncSession, *, buyer_id: uuid.UUID, factory_id: uuid.UUID, cycle: int, granted: bool, at: datetime
) -> None:
    """Latest decision wins (events of one factory arrive in order; an older one never overrides a newer)."""
    await record_latest(
        session,
        REPORT_ACCESS,
        key={"buyer_id": buyer_id, "factory_id": factory_id, "cycle": cycle},
        values={"granted": granted},
        at_column="decided_at",
        at=at,
    )


async def access_granted(session: AsyncSession, *, buyer_id: uuid.UUID, factory_id: uuid.UUID, cycle: int) -> bool:
    found = await session.scalar(
        select(REPORT_ACCESS.c.granted).where(
            REPORT_ACCESS.c.buyer_id == buyer_id,
            REPORT_ACCESS.c.factory_id == factory_id,
            REPORT_ACCESS.c.cycle == cycle,
        )
    )
    return bool(found)


async def granted_cycles(session: AsyncSession, buyer_id: uuid.UUID) -> list[tuple[uuid.UUID, int]]:
    rows = await session.execute(
        select(REPORT_ACCESS.c.factory_id, REPORT_ACCESS.c.cycle).where(
            REPORT_ACCESS.c.buyer_id == buyer_id, REPORT_ACCESS.c.granted.is_(True)
        )
    )
    return [(r[0], r[1]) for r in rows]


@dataclass(frozen=True)
class CaseRef:
    case_id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    category: str
    opened_at: datetime


async def record_case(session: AsyncSession, case: CaseRef) -> bool:
    """Remember the case (False if it was known already)."""
    stmt = insert(ZT_CASE).values(**case.__dict__).on_conflict_do_nothing(index_elements=["case_id"])
    return (await session.execute(stmt.returning(ZT_CASE.c.case_id))).first() is not None


async def waiting_cases(session: AsyncSession, factory_id: uuid.UUID) -> list[CaseRef]:
    """Cases of the factory no plan item follows yet (opened before the factory had a plan)."""
    rows = await session.execute(
        select(ZT_CASE).where(ZT_CASE.c.factory_id == factory_id, ZT_CASE.c.item_id.is_(None)).with_for_update()
    )
    return [CaseRef(**{k: r[k] for k in CaseRef.__dataclass_fields__}) for r in rows.mappings()]


async def attach_case(session: AsyncSession, case_id: uuid.UUID, item_id: uuid.UUID) -> None:
    await session.execute(ZT_CASE.update().where(ZT_CASE.c.case_id == case_id).values(item_id=item_id))
