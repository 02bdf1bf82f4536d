"""Zero-tolerance cases: opened by staff from outside an assessment, followed step by step; report access
projection from the partnerships service's decisions; SLCP import and export."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from assessments.adapters.tables import FACTORY_REF, FINDING, REPORT_ACCESS, SCHEMA, SLCP_IMPORT, ZT_CASE, ZT_CASE_STEP
from assessments.domain import slcp as slcp_rules
from assessments.domain.lifecycle import Result, Status
from assessments.domain.zero_tolerance import CaseError, CaseStatus, check_move, overdue_steps
from assessments.service import tools
from assessments.service.assessments import (
    _load,
    factory_ref,
    may_read_report,
    open_case,
)
from betterwork_contracts.events.assessments import ZeroToleranceCaseUpdated
from betterwork_contracts.events.partnerships import ReportAccessGranted, ReportAccessRevoked
from messaging.envelope import Envelope
from servicekit.audit import record_audit
from servicekit.auth import Principal, check_staff
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, NotFound, Unprocessable
from servicekit.pagination import PageParams, paginate, resolve_sort


def _now() -> datetime:
    return datetime.now(UTC)


async def report_case(
    uow: UnitOfWork,
    *,
    principal: Principal,
    factory_id: uuid.UUID,
    category: str,
    source: str,
    details: str | None,
) -> dict[str, Any]:
    """Staff report a zero-tolerance issue found outside an assessment (advisory visit, hotline, brand)."""
    factory = await factory_ref(uow, factory_id)
    check_staff(principal, factory["country"])
    try:
        case_id = await open_case(
            uow,
            principal=principal,
            factory_id=factory_id,
            country=factory["country"],
            category=category,
            source=source,
            assessment_id=None,
            question_code=None,
            details=details,
            now=_now(),
        )
    except CaseError as exc:
        raise Conflict(str(exc)) from exc
    assert case_id is not None
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="zero_tolerance.case_opened",
        entity_type="zero_tolerance_case",
        entity_id=str(case_id),
        details={"category": category, "source": source},
    )
    await uow.commit()
    return await get_case(uow, principal=principal, case_id=case_id)


def _case(row: Any, steps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    case = dict(row)
    case["overdue_steps"] = overdue_steps(CaseStatus(case["status"]), case["deadlines"], _now())
    case["overdue"] = bool(case["overdue_steps"])
    if steps is not None:
        case["steps"] = steps
    return case


async def get_case(uow: UnitOfWork, *, principal: Principal, case_id: uuid.UUID) -> dict[str, Any]:
    row = (await uow.session.execute(select(ZT_CASE).where(ZT_CASE.c.id == case_id))).mappings().first()
    if row is None or not principal.is_staff_of(row["country"]):
        raise NotFound(f"No zero-tolerance case {case_id}.")
    steps = await uow.session.execute(
        select(ZT_CASE_STEP).where(ZT_CASE_STEP.c.case_id == case_id).order_by(ZT_CASE_STEP.c.id)
    )
    return _case(row, [dict(s) for s in steps.mappings()])


async def list_cases(
    uow: UnitOfWork,
    *,
    principal: Principal,
    status: str | None,
    factory_id: uuid.UUID | None,
    overdue: bool | None,
    page: PageParams,
) -> tuple[list[dict[str, Any]], str | None]:
    check_staff(principal)
    order = resolve_sort(page.sort, {"opened_at": (ZT_CASE.c.opened_at, ZT_CASE.c.id)}, "-opened_at")
    conditions = []
    if not principal.is_admin:
        conditions.append(ZT_CASE.c.country == principal.country)
    if status:
        conditions.append(ZT_CASE.c.status == status)
    if factory_id:
        conditions.append(ZT_CASE.c.factory_id == factory_id)
    stmt = select(ZT_CASE).where(*conditions)
    rows, cursor = await paginate(uow.session, stmt, order, page)
    cases = [_case(r._mapping) for r in rows]
    if overdue is not None:
        cases = [c for c in cases if c["overdue"] is overdue]
    return cases, cursor


async def move_case(
    uow: UnitOfWork, *, principal: Principal, case_id: uuid.UUID, to: CaseStatus, note: str | None
) -> dict[str, Any]:
    row = (
        (await uow.session.execute(select(ZT_CASE).where(ZT_CASE.c.id == case_id).with_for_update())).mappings().first()
    )
    if row is None or not principal.is_staff_of(row["country"]):
        raise NotFound(f"No zero-tolerance case {case_id}.")
    check_staff(principal, row["country"])
    current = CaseStatus(row["status"])
    try:
        check_move(current, to, note)
    except CaseError as exc:
        raise Conflict(str(exc), current_status=current.value) from exc
    now = _now()
    await uow.session.execute(ZT_CASE.update().where(ZT_CASE.c.id == case_id).values(status=to.value, updated_at=now))
    await uow.session.execute(
        ZT_CASE_STEP.insert().values(
            case_id=case_id,
            from_status=current.value,
            to_status=to.value,
            at=now,
            by_subject=principal.subject,
            note=note,
        )
    )
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action=f"zero_tolerance.{to.value}",
        entity_type="zero_tolerance_case",
        entity_id=str(case_id),
        reason=note,
    )
    uow.emit(
        ZeroToleranceCaseUpdated(
            case_id=case_id,
            factory_id=row["factory_id"],
            country=row["country"],
            category=row["category"],
            status=to.value,
            previous_status=current.value,
            updated_at=now,
        ),
        country=row["country"],
    )
    await uow.commit()
    return await get_case(uow, principal=principal, case_id=case_id)


# ---- report access (projection of the partnerships service's decisions) --------------------------------------


async def _record_access(
    uow: UnitOfWork, factory_id: uuid.UUID, buyer_id: uuid.UUID, cycle: int, granted: bool, at: datetime
) -> None:
    """Latest decision wins (events of one factory arrive in order; an older one never overrides a newer)."""
    stmt = insert(REPORT_ACCESS).values(
        buyer_id=buyer_id, factory_id=factory_id, cycle=cycle, granted=granted, decided_at=at
    )
    await uow.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["buyer_id", "factory_id", "cycle"],
            set_={"granted": granted, "decided_at": at},
            where=REPORT_ACCESS.c.decided_at <= at,
        )
    )


async def record_access_granted(uow: UnitOfWork, event: ReportAccessGranted, envelope: Envelope) -> None:
    await _record_access(uow, event.factory_id, event.buyer_id, event.cycle, True, event.decided_at)


async def record_access_revoked(uow: UnitOfWork, event: ReportAccessRevoked, envelope: Envelope) -> None:
    await _record_access(uow, event.factory_id, event.buyer_id, event.cycle, False, event.decided_at)


# ---- SLCP -------------------------------------------------------------------------------------------------------


async def import_slcp(
    uow: UnitOfWork, *, principal: Principal, document: dict[str, Any], factory_id: uuid.UUID | None
) -> dict[str, Any]:
    """Store an SLCP assessment, map it onto the factory's current tool; VRF data is verified and immutable."""
    status = slcp_rules.SlcpStatus(document["status"])
    if factory_id is None:
        found = (
            await uow.session.execute(
                select(FACTORY_REF.c.factory_id).where(
                    FACTORY_REF.c.slcp_facility_id == document["facility_id"], FACTORY_REF.c.merged_into.is_(None)
                )
            )
        ).scalar()
        if found is None:
            raise Conflict(
                f"No factory carries SLCP facility id {document['facility_id']}; give `factory_id` or add the id "
                "to the factory in the registry."
            )
        factory_id = found
    factory = await factory_ref(uow, factory_id)
    check_staff(principal, factory["country"])
    earlier = (
        (
            await uow.session.execute(
                select(SLCP_IMPORT)
                .where(SLCP_IMPORT.c.slcp_assessment_id == document["assessment_id"], SLCP_IMPORT.c.verified.is_(True))
                .limit(1)
            )
        )
        .mappings()
        .first()
    )
    if earlier is not None:
        if earlier["document"]["answers"] != document["answers"] or status is not slcp_rules.SlcpStatus.VRF:
            raise Conflict(
                f"SLCP assessment {document['assessment_id']} was imported as verified (VRF) and cannot change.",
                import_id=str(earlier["id"]),
            )
        return {**dict(earlier), "repeat": True, "conflicts": []}
    tool_row = await tools.current(uow, factory["country"], document.get("sector") or "garment")
    _, tool = await tools.load_tool(uow, tool_row["id"])
    mapped = slcp_rules.map_answers(tool, document["answers"])
    row = {
        "id": uuid.uuid4(),
        "slcp_assessment_id": document["assessment_id"],
        "facility_id": document["facility_id"],
        "factory_id": factory_id,
        "status": status.value,
        "verified": status.verified,
        "tool_version_id": tool_row["id"],
        "document": document,
        "findings": {code: result.value for code, result in mapped.findings.items()},
        "unmapped": mapped.unmapped,
        "imported_at": _now(),
        "imported_by": principal.subject,
    }
    await uow.session.execute(SLCP_IMPORT.insert().values(**row))
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="slcp.imported",
        entity_type="slcp_import",
        entity_id=str(row["id"]),
        details={"status": status.value, "mapped": len(mapped.findings), "unmapped": len(mapped.unmapped)},
    )
    await uow.commit()
    return {**row, "conflicts": mapped.conflicts, "repeat": False}


async def get_import(uow: UnitOfWork, *, principal: Principal, import_id: uuid.UUID) -> dict[str, Any]:
    row = (await uow.session.execute(select(SLCP_IMPORT).where(SLCP_IMPORT.c.id == import_id))).mappings().first()
    if row is None:
        raise NotFound(f"No SLCP import {import_id}.")
    factory = await factory_ref(uow, row["factory_id"])
    if not principal.is_staff_of(factory["country"]):
        raise NotFound(f"No SLCP import {import_id}.")
    return {**dict(row), "conflicts": [], "repeat": False}


async def export_slcp(uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID) -> dict[str, Any]:
    assessment = await _load(uow, assessment_id)
    if not await may_read_report(uow, principal, assessment):
        raise NotFound(f"No assessment {assessment_id}.")
    if Status(assessment["status"]) not in (Status.RELEASED, Status.COMMENT_PERIOD, Status.FINALISED):
        raise Conflict("Only a released assessment is exported.", current_status=assessment["status"])
    _, tool = await tools.load_tool(uow, assessment["tool_version_id"])
    findings = (
        await uow.session.execute(
            select(FINDING.c.question_code, FINDING.c.result).where(FINDING.c.assessment_id == assessment_id)
        )
    ).all()
    facility = (
        await uow.session.execute(
            select(FACTORY_REF.c.slcp_facility_id).where(FACTORY_REF.c.factory_id == assessment["factory_id"])
        )
    ).scalar()
    if not facility:
        raise Unprocessable("The factory has no SLCP facility id in the registry; add it there first.")
    return {
        "format": slcp_rules.FORMAT,
        "assessment_id": f"BW-{assessment_id}",
        "facility_id": facility,
        "status": "VRF" if assessment["status"] == "finalised" else "VRC",
        "status_date": (assessment["finalised_at"] or assessment["released_at"]).date().isoformat(),
        "verifier": "Better Work",
        "sector": tool.sector,
        "answers": slcp_rules.export_answers(tool, {code: Result(result) for code, result in findings}),
    }
