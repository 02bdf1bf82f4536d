"""Use cases of the committee (PICC) and advisory visits: members and their composition by sex against the
workforce, meetings with attendance and decisions linked to plan items, visits with the items discussed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from advisory.adapters import committee as store
from advisory.adapters import references
from advisory.adapters.plans import PlanRepository
from advisory.adapters.references import FactoryRef
from advisory.domain import committee as rules
from advisory.domain.committee import CommitteeRuleError, Composition, Member, Selection, Sex, Side, VisitMode
from advisory.service.access import may_manage
from advisory.service.plans import now, today
from betterwork_contracts.events.advisory import AdvisoryVisitRecorded
from servicekit.auth import Principal
from servicekit.database import UnitOfWork
from servicekit.errors import NotFound, Unprocessable


async def _factory(uow: UnitOfWork, principal: Principal, factory_id: uuid.UUID, *, write: bool = False) -> FactoryRef:
    """The factory if the caller manages it (its own users, staff of its country); 404 otherwise. A write naming
    a merged id is 409 with the survivor; a read follows the merge."""
    factory = await references.factory(uow.session, factory_id)
    if factory is None or not may_manage(principal, factory_id=factory.factory_id, country=factory.country):
        raise NotFound(f"No factory {factory_id}.")
    return references.check_live(factory, factory_id) if write else factory


@dataclass(frozen=True)
class MemberIn:
    display_name: str
    side: Side
    selection: Selection
    sex: Sex
    role: str
    term_start: date
    term_end: date | None


async def add_member(uow: UnitOfWork, *, principal: Principal, factory_id: uuid.UUID, new: MemberIn) -> Member:
    factory = await _factory(uow, principal, factory_id, write=True)
    try:
        rules.check_member(new.side, new.selection, new.term_start, new.term_end)
    except CommitteeRuleError as exc:
        raise Unprocessable(str(exc)) from exc
    member = Member(uuid.uuid4(), factory.factory_id, factory.country, **new.__dict__)
    await store.add_member(uow.session, member, created_at=now(), created_by=principal.subject)
    await PlanRepository(uow.session).audit(
        principal,
        action="committee.member_added",
        entity_type="committee_member",
        entity_id=member.id,
        details={"factory_id": str(factory_id), "side": new.side.value, "sex": new.sex.value},
    )
    await uow.commit()
    return member


async def end_term(
    uow: UnitOfWork, *, principal: Principal, factory_id: uuid.UUID, member_id: uuid.UUID, term_end: date
) -> None:
    factory = await _factory(uow, principal, factory_id, write=True)
    if not await store.end_term(uow.session, member_id, factory.factory_id, term_end):
        raise NotFound(f"No committee member {member_id}.")
    await PlanRepository(uow.session).audit(
        principal, action="committee.term_ended", entity_type="committee_member", entity_id=member_id
    )
    await uow.commit()


async def committee(
    uow: UnitOfWork, *, principal: Principal, factory_id: uuid.UUID
) -> tuple[list[Member], Composition]:
    """Members (past ones too) and today's composition: by side and sex, women against the workforce."""
    factory = await _factory(uow, principal, factory_id)
    members = await store.members(uow.session, factory.factory_id)
    figures = rules.composition(
        members, today(), workforce_women=factory.workers_women, workforce_total=factory.workers_total
    )
    return members, figures


async def record_meeting(
    uow: UnitOfWork,
    *,
    principal: Principal,
    factory_id: uuid.UUID,
    meeting_date: date,
    attendee_ids: list[uuid.UUID],
    decisions: list[dict[str, Any]],
) -> dict[str, Any]:
    factory = await _factory(uow, principal, factory_id, write=True)
    members = await store.members(uow.session, factory.factory_id)
    try:
        rules.check_attendance(attendee_ids, members, meeting_date)
    except CommitteeRuleError as exc:
        raise Unprocessable(str(exc)) from exc
    linked = [uuid.UUID(str(d["item_id"])) for d in decisions if d.get("item_id")]
    if set(linked) - await store.items_of_factory(uow.session, factory.factory_id, linked):
        raise Unprocessable("A decision names an item that is not in this factory's improvement plans.")
    meeting_id = uuid.uuid4()
    row: dict[str, Any] = {
        "id": meeting_id,
        "factory_id": factory.factory_id,
        "country": factory.country,
        "meeting_date": meeting_date,
        "attendee_ids": attendee_ids,
        "decisions": [
            {"text": d["text"], "item_id": str(d["item_id"]) if d.get("item_id") else None} for d in decisions
        ],
        "recorded_at": now(),
        "recorded_by": principal.subject,
    }
    await store.add_meeting(uow.session, row)
    await PlanRepository(uow.session).audit(
        principal, action="committee.meeting_recorded", entity_type="committee_meeting", entity_id=meeting_id
    )
    await uow.commit()
    by_sex = rules.count_by_sex([m.sex for m in members if m.id in set(attendee_ids)])
    return {**row, "attended_women": by_sex.women, "attended_men": by_sex.men, "attended_other": by_sex.other}


async def meetings(uow: UnitOfWork, *, principal: Principal, factory_id: uuid.UUID) -> list[dict[str, Any]]:
    factory = await _factory(uow, principal, factory_id)
    sexes = {m.id: m.sex for m in await store.members(uow.session, factory.factory_id)}
    out = []
    for row in await store.meetings(uow.session, factory.factory_id, limit=200):
        by_sex = rules.count_by_sex([sexes[a] for a in row["attendee_ids"] if a in sexes])
        out.append({**row, "attended_women": by_sex.women, "attended_men": by_sex.men, "attended_other": by_sex.other})
    return out


async def record_visit(
    uow: UnitOfWork,
    *,
    principal: Principal,
    factory_id: uuid.UUID,
    visit_date: date,
    advisors: list[str],
    mode: VisitMode,
    topics: list[str],
    item_ids: list[uuid.UUID],
    follow_ups: list[dict[str, Any]],
) -> dict[str, Any]:
    """Staff of the factory's country log a visit; the items discussed must be the factory's."""
    factory = await references.factory(uow.session, factory_id)
    if factory is None or not principal.is_staff_of(factory.country):
        raise NotFound(f"No factory {factory_id}.")
    references.check_live(factory, factory_id)
    if set(item_ids) - await store.items_of_factory(uow.session, factory.factory_id, item_ids):
        raise Unprocessable("An item discussed is not in this factory's improvement plans.")
    at = now()
    visit_id = uuid.uuid4()
    discussed = list(dict.fromkeys(item_ids))
    row: dict[str, Any] = {
        "id": visit_id,
        "factory_id": factory.factory_id,
        "country": factory.country,
        "visit_date": visit_date,
        "advisors": advisors or [principal.subject],
        "mode": mode.value,
        "topics": topics,
        "item_ids": discussed,
        "follow_ups": follow_ups,
        "recorded_at": at,
        "recorded_by": principal.subject,
    }
    await store.add_visit(uow.session, row)
    await PlanRepository(uow.session).audit(
        principal, action="advisory_visit.recorded", entity_type="advisory_visit", entity_id=visit_id
    )
    uow.emit(
        AdvisoryVisitRecorded(
            visit_id=visit_id,
            factory_id=factory.factory_id,
            country=factory.country,
            visit_date=visit_date,
            mode=mode.value,
            topics=topics,
            items_discussed=len(discussed),
            recorded_at=at,
        ),
        country=factory.country,
    )
    await uow.commit()
    return row


async def visits(uow: UnitOfWork, *, principal: Principal, factory_id: uuid.UUID) -> list[dict[str, Any]]:
    factory = await _factory(uow, principal, factory_id)
    return await store.visits(uow.session, factory.factory_id, limit=200)
