"""SQL of a factory merge: the relationships of the retired record moved to the survivor (links folded to one
open link per buyer, consents, entitlements and published access decisions re-keyed by the new cycles)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from partnerships.adapters.consents import _consent
from partnerships.adapters.links import _link, _values
from partnerships.adapters.tables import CONSENT, ENTITLEMENT, REPORT_ACCESS, SCHEMA, SOURCING_LINK
from partnerships.domain.merge import LinkFold
from partnerships.domain.relationships import Consent, SourcingLink
from servicekit.audit import audit_table


async def links_of(session: AsyncSession, factory_ids: list[uuid.UUID]) -> list[SourcingLink]:
    rows = await session.execute(
        sa.select(SOURCING_LINK).where(SOURCING_LINK.c.factory_id.in_(factory_ids)).with_for_update()
    )
    return [_link(r) for r in rows.mappings()]


async def save_links(session: AsyncSession, retired: uuid.UUID, survivor: uuid.UUID, fold: LinkFold) -> None:
    """Folded links go (the kept one stands for them), kept ones are saved, ended ones move to the survivor."""
    if fold.folded:
        await session.execute(sa.delete(SOURCING_LINK).where(SOURCING_LINK.c.id.in_(fold.folded)))
    for link in fold.kept:  # ended links of the survivor first make room: the open-link index ignores them
        values = _values(link)
        del values["id"]
        await session.execute(sa.update(SOURCING_LINK).where(SOURCING_LINK.c.id == link.id).values(**values))
    await session.execute(
        sa.update(SOURCING_LINK).where(SOURCING_LINK.c.factory_id == retired).values(factory_id=survivor)
    )


async def consents_of(session: AsyncSession, factory_ids: list[uuid.UUID]) -> list[Consent]:
    rows = await session.execute(sa.select(CONSENT).where(CONSENT.c.factory_id.in_(factory_ids)).with_for_update())
    return [_consent(r) for r in rows.mappings()]


async def move_consents(
    session: AsyncSession, retired: uuid.UUID, survivor: uuid.UUID, closed: list[uuid.UUID], *, now: datetime
) -> None:
    if closed:
        await session.execute(
            sa.update(CONSENT)
            .where(CONSENT.c.id.in_(closed))
            .values(revoked_at=now, revoked_by="partnerships:factory-merge", revoke_reason="merged")
        )
    await session.execute(sa.update(CONSENT).where(CONSENT.c.factory_id == retired).values(factory_id=survivor))


async def buyers_of(session: AsyncSession, factory_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Every buyer with a link, consent, entitlement or published decision for either record."""
    union = sa.union(
        *(sa.select(t.c.buyer_id).where(t.c.factory_id.in_(factory_ids))
          for t in (SOURCING_LINK, CONSENT, ENTITLEMENT, REPORT_ACCESS))
    )  # fmt: skip
    return set((await session.execute(union)).scalars())


def _cycle(moves: Mapping[tuple[uuid.UUID, int], int], factory_id: uuid.UUID, cycle: int) -> int:
    return moves.get((factory_id, cycle), cycle)


async def rekey_entitlements(
    session: AsyncSession, retired: uuid.UUID, survivor: uuid.UUID, moves: Mapping[tuple[uuid.UUID, int], int]
) -> int:
    """Entitlements of both records under the survivor and its new cycle numbers; where two meet, the earlier
    grant is kept. Returns how many were folded."""
    taken = await session.execute(
        sa.delete(ENTITLEMENT).where(ENTITLEMENT.c.factory_id.in_([retired, survivor])).returning(*ENTITLEMENT.c)
    )
    rows: list[Any] = sorted(taken, key=lambda r: r.granted_at)
    folded = 0
    for row in rows:
        values = dict(row._mapping)
        values.update(factory_id=survivor, cycle=_cycle(moves, row.factory_id, row.cycle))
        stmt = insert(ENTITLEMENT).values(**values).on_conflict_do_nothing().returning(ENTITLEMENT.c.id)
        if (await session.execute(stmt)).first() is None:
            folded += 1
    return folded


async def rekey_published(
    session: AsyncSession, retired: uuid.UUID, survivor: uuid.UUID, moves: Mapping[tuple[uuid.UUID, int], int]
) -> None:
    """The decisions last published, re-keyed as assessments re-keyed its copy of them (the later one holds)."""
    taken = await session.execute(
        sa.delete(REPORT_ACCESS).where(REPORT_ACCESS.c.factory_id.in_([retired, survivor])).returning(*REPORT_ACCESS.c)
    )
    for row in sorted(taken, key=lambda r: r.decided_at):
        stmt = insert(REPORT_ACCESS).values(
            buyer_id=row.buyer_id, factory_id=survivor, cycle=_cycle(moves, row.factory_id, row.cycle),
            granted=row.granted, decided_at=row.decided_at, progress_granted=row.progress_granted,
        )  # fmt: skip
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["buyer_id", "factory_id", "cycle"],
                set_={
                    "granted": stmt.excluded.granted,
                    "decided_at": stmt.excluded.decided_at,
                    "progress_granted": stmt.excluded.progress_granted,
                },
            )
        )


async def renumbering_recorded(session: AsyncSession, retired: uuid.UUID) -> bool:
    """Whether the cycles of this merge were re-keyed already (its audit row is the record of it)."""
    audit = audit_table(SCHEMA)
    found = await session.scalar(
        sa.select(sa.literal(1)).where(
            audit.c.action == "factory.cycles_renumbered", audit.c.entity_type == "factory",
            audit.c.entity_id == str(retired),
        )
    )  # fmt: skip
    return found is not None
