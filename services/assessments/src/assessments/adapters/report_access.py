"""SQL of the report-access projection: the partnerships service's latest decision per buyer, factory, cycle."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from assessments.adapters.tables import REPORT_ACCESS
from messaging.read_model import record_latest


async def record(
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


async def granted(session: AsyncSession, *, buyer_id: uuid.UUID, factory_id: uuid.UUID, cycle: int) -> bool:
    found = await session.scalar(
        select(REPORT_ACCESS.c.granted).where(
            REPORT_ACCESS.c.buyer_id == buyer_id,
            REPORT_ACCESS.c.factory_id == factory_id,
            REPORT_ACCESS.c.cycle == cycle,
        )
    )
    return bool(found)
