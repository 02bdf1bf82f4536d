"""A report was released: the buyers who may read it are told by webhook (`assessment.released`).

Filtered by authorization when queued: only buyers whose published access decision for that factory and cycle is
granted (a current consent covering assessment reports and an entitlement) get it; a buyer granted access later is
told by `report_access.granted` instead.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from partnerships.adapters import delivery_queue
from partnerships.adapters.report_access import AccessRepository
from servicekit.database import UnitOfWork

RELEASED = "assessment.released"


async def announce_release(
    uow: UnitOfWork,
    *,
    assessment_id: uuid.UUID,
    factory_id: uuid.UUID,
    country: str,
    cycle: int,
    released_at: datetime,
) -> int:
    """Queue the release for the endpoints of the buyers with access; how many messages were queued."""
    buyers = await AccessRepository(uow.session).buyers_granted(factory_id, cycle)
    if not buyers:
        return 0
    data = {
        "assessment_id": str(assessment_id),
        "factory_id": str(factory_id),
        "country": country,
        "cycle": cycle,
        "released_at": released_at.isoformat(),
    }
    return await delivery_queue.enqueue(uow.session, event_type=RELEASED, data=data, buyer_ids=buyers)
