"""A factory merge in partnerships: the retired record's sourcing links, consents, entitlements and access
decisions follow the survivor, so buyers linked through the retired id are alerted of the survivor's cases and
keep the reports they were entitled to.

Two events carry it: the registry's `factory.merged` (links and consents) and assessments' `cycles.renumbered`
(entitlements and published decisions, which are keyed by cycle and the cycles were numbered again). They may
arrive in either order; each ends by deciding access again for every buyer concerned, so the decisions settle
on the same answer whichever came first. Each runs in the transaction of its inbox record.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from betterwork_contracts.events.assessments import AssessmentCyclesRenumbered
from betterwork_contracts.events.registry import FactoryMerged
from messaging.read_model import Apply
from partnerships.adapters import factory_refs, merges
from partnerships.adapters.audit import AuditTrail
from partnerships.domain.merge import consents_closed_by_merge, fold_links
from partnerships.service.report_access import recompute_access
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork

MERGES = Principal(subject="partnerships:factory-merge", roles=frozenset({Role.SERVICE}))


async def factory_merged(uow: UnitOfWork, event: FactoryMerged) -> None:
    """Links folded to one open link per buyer under the survivor, consents moved (the factory's latest word per
    buyer kept); a repeat of the event changes nothing."""
    applied = await factory_refs.apply(uow.session, event.factory_id, event.version, {"merged_into": event.survivor_id})
    if applied is not Apply.APPLY:
        return
    retired, survivor, now = event.factory_id, event.survivor_id, datetime.now(UTC)
    both = [retired, survivor]
    buyers = await merges.buyers_of(uow.session, both)
    fold = fold_links(await merges.links_of(uow.session, both), survivor=survivor, now=now)
    await merges.save_links(uow.session, retired, survivor, fold)
    closed = consents_closed_by_merge(await merges.consents_of(uow.session, both))
    await merges.move_consents(uow.session, retired, survivor, closed, now=now)
    await AuditTrail(uow.session).record(
        MERGES, action="factory.merged", entity_type="factory", entity_id=retired, country=event.country,
        details={"survivor_id": str(survivor), "links_folded": [str(i) for i in fold.folded],
                 "consents_closed": [str(i) for i in closed]},
    )  # fmt: skip
    await _decide_again(uow, buyers, survivor, now)


async def cycles_renumbered(uow: UnitOfWork, event: AssessmentCyclesRenumbered) -> None:
    """Entitlements and published decisions of both records under the survivor's new cycle numbers. A repeat
    finds nothing left under the retired id and the survivor's cycles already moved, so it must not move them
    again: it is recognised by the audit row of the first."""
    retired, survivor, now = event.retired_id, event.factory_id, datetime.now(UTC)
    if await merges.renumbering_recorded(uow.session, retired):
        return
    moves = {(m.factory_id, m.from_cycle): m.to_cycle for m in event.moves}
    buyers = await merges.buyers_of(uow.session, [retired, survivor])
    folded = await merges.rekey_entitlements(uow.session, retired, survivor, moves)
    await merges.rekey_published(uow.session, retired, survivor, moves)
    await AuditTrail(uow.session).record(
        MERGES, action="factory.cycles_renumbered", entity_type="factory", entity_id=retired, country=event.country,
        details={"survivor_id": str(survivor), "entitlements_folded": folded,
                 "moves": [m.model_dump(mode="json") for m in event.moves]},
    )  # fmt: skip
    await _decide_again(uow, buyers, survivor, now)


async def _decide_again(uow: UnitOfWork, buyers: set[uuid.UUID], survivor: uuid.UUID, now: datetime) -> None:
    for buyer_id in sorted(buyers, key=str):
        await recompute_access(uow, buyer_id=buyer_id, factory_id=survivor, now=now)
