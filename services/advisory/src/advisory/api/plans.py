"""Improvement plans over HTTP: plans and their items, item moves and descriptions, evidence, progress figures."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from advisory.domain.plan import Item, ItemStatus, Move, Plan, Progress
from advisory.domain.report import pr1_due
from advisory.service import evidence, plans
from servicekit.edge import AnyPrincipal, ReaderPrincipal, StrictInput, UnitOfWorkDep
from servicekit.errors import PROBLEM_RESPONSES, Unprocessable
from servicekit.pagination import Page, PageQuery

router = APIRouter(tags=["improvement plans"], responses=PROBLEM_RESPONSES)

Text = Annotated[str, Field(min_length=1, max_length=2000)]


class PlanCreate(StrictInput):
    factory_id: uuid.UUID
    cycle: int = Field(ge=1, le=100)


class PlanOut(BaseModel):
    id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    cycle: int
    assessment_id: uuid.UUID | None
    released_on: date | None
    pr1_due: date | None = Field(description="30 days after the report's release.")
    created_at: datetime

    @classmethod
    def of(cls, plan: Plan) -> PlanOut:
        return cls(
            id=plan.id,
            factory_id=plan.factory_id,
            country=plan.country,
            cycle=plan.cycle,
            assessment_id=plan.assessment_id,
            released_on=plan.released_on,
            pr1_due=pr1_due(plan.released_on) if plan.released_on else None,
            created_at=plan.created_at,
        )


class ItemDetailsIn(StrictInput):
    root_cause_category: (
        Literal["policy", "procedure", "training", "supervision", "equipment", "awareness", "resources", "other"] | None
    ) = None
    root_cause: Text | None = None
    corrective_action: Text | None = None
    preventive_action: Text | None = None
    owner: Annotated[str, Field(min_length=1, max_length=200, description="A committee member or a role.")] | None = (
        None
    )
    due_date: date | None = None

    def details(self) -> plans.ItemDetails:
        return plans.ItemDetails(**self.model_dump())


class SelfDiagnosisItemCreate(ItemDetailsIn):
    title: Annotated[str, Field(min_length=1, max_length=300)]
    publicly_reported: bool = False


class ItemMoveIn(StrictInput):
    to: ItemStatus
    reason: Text | None = None


class ItemOut(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    factory_id: uuid.UUID
    source: str
    title: str
    severity: str
    status: ItemStatus
    due_date: date
    overdue: bool
    behind_schedule: bool
    needs_verification: bool
    counts_as_fixed: bool
    assessment_id: uuid.UUID | None
    question_code: str | None
    case_id: uuid.UUID | None
    compliance_point: str | None
    cluster: str | None
    publicly_reported: bool
    gender_sensitive: bool
    zero_tolerance: bool
    workers_affected: int | None
    root_cause_category: str | None
    root_cause: str | None
    corrective_action: str | None
    preventive_action: str | None
    owner: str | None
    recurring: bool
    recurrences: int
    waived_reason: str | None
    waived_by: str | None
    verified_by: str | None
    verified_at: datetime | None
    version: int

    @classmethod
    def of(cls, item: Item) -> ItemOut:
        today = plans.today()
        return cls(
            **{
                k: getattr(item, k)
                for k in cls.model_fields
                if hasattr(item, k) and k not in ("overdue", "behind_schedule")
            },
            overdue=item.overdue(today),
            behind_schedule=item.behind_schedule(today),
        )


_COMPUTED = ("overdue", "behind_schedule")


class MoveOut(BaseModel):
    from_status: ItemStatus
    to_status: ItemStatus
    at: datetime
    by: str
    reason: str | None

    @classmethod
    def of(cls, move: Move) -> MoveOut:
        return cls(from_status=move.from_status, to_status=move.to_status, at=move.at, by=move.by, reason=move.reason)


class ItemDetail(ItemOut):
    history: list[MoveOut]
    evidence: list[evidence.EvidenceOut]


class ProgressOut(BaseModel):
    items: int = Field(description="Items counted (waived ones are left out).")
    weight: int = Field(description="Sum of severity weight (zero tolerance 3, publicly reported 2, other 1) "
                        "times workers affected (one at least).")  # fmt: skip
    reported_fixed_share: float
    verified_fixed_share: float
    fixed_share: float = Field(description="Counted as fixed: verified, or reported done where no verification "
                               "is needed (publicly reported and zero-tolerance items need it).")  # fmt: skip
    overdue: int
    behind_schedule: int
    recurring: int

    @classmethod
    def of(cls, p: Progress) -> ProgressOut:
        return cls(
            items=p.items,
            weight=p.weight,
            reported_fixed_share=p.reported_fixed,
            verified_fixed_share=p.verified_fixed,
            fixed_share=p.fixed,
            overdue=p.overdue,
            behind_schedule=p.behind_schedule,
            recurring=p.recurring,
        )


class EvidenceCreate(StrictInput):
    file_name: Annotated[str, Field(min_length=1, max_length=200)]
    content_type: Annotated[str, Field(min_length=3, max_length=100)]
    content_base64: Annotated[str, Field(min_length=1, max_length=evidence.MAX_FILE_BYTES * 4 // 3 + 8)]


@router.post("/v1/improvement-plans", status_code=201, summary="Open a plan for a cycle (a self-diagnosis)")
async def open_plan(body: PlanCreate, uow: UnitOfWorkDep, principal: ReaderPrincipal) -> PlanOut:
    """The factory itself or staff of its country; plans of released assessments open by themselves."""
    return PlanOut.of(await plans.open_plan(uow, principal=principal, factory_id=body.factory_id, cycle=body.cycle))


@router.get("/v1/improvement-plans", summary="Plans the caller may see")
async def list_plans(
    uow: UnitOfWorkDep, principal: ReaderPrincipal, page: PageQuery, factory_id: uuid.UUID | None = None
) -> Page[PlanOut]:
    found, cursor = await plans.list_plans(uow, principal=principal, factory_id=factory_id, page=page)
    return Page(items=[PlanOut.of(p) for p in found], next_cursor=cursor)


@router.get("/v1/improvement-plans/{plan_id}", summary="One plan")
async def get_plan(plan_id: uuid.UUID, uow: UnitOfWorkDep, principal: ReaderPrincipal) -> PlanOut:
    return PlanOut.of(await plans.readable_plan(uow, principal, plan_id))


@router.get("/v1/improvement-plans/{plan_id}/items", summary="A plan's items, soonest due first")
async def list_plan_items(
    plan_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: ReaderPrincipal,
    page: PageQuery,
    status: Annotated[ItemStatus | None, Query()] = None,
) -> Page[ItemOut]:
    found, cursor = await plans.plan_items(uow, principal=principal, plan_id=plan_id, status=status, page=page)
    return Page(items=[ItemOut.of(i) for i in found], next_cursor=cursor)


@router.post("/v1/improvement-plans/{plan_id}/items", status_code=201, summary="Add a self-diagnosis item")
async def add_self_diagnosis_item(
    plan_id: uuid.UUID, body: SelfDiagnosisItemCreate, uow: UnitOfWorkDep, principal: ReaderPrincipal
) -> ItemOut:
    item = await plans.add_self_diagnosis_item(
        uow,
        principal=principal,
        plan_id=plan_id,
        title=body.title,
        publicly_reported=body.publicly_reported,
        details=ItemDetailsIn.model_validate(body.model_dump(exclude={"title", "publicly_reported"})).details(),
    )
    return ItemOut.of(item)


@router.get("/v1/improvement-plans/{plan_id}/progress", summary="A plan's progress figures")
async def get_plan_progress(plan_id: uuid.UUID, uow: UnitOfWorkDep, principal: ReaderPrincipal) -> ProgressOut:
    _, figures = await plans.plan_progress(uow, principal=principal, plan_id=plan_id)
    return ProgressOut.of(figures)


class ProgressPoint(ProgressOut):
    day: date


def _series(points: list[tuple[date, Progress]]) -> list[ProgressPoint]:
    return [ProgressPoint(day=day, **ProgressOut.of(p).model_dump()) for day, p in points]


Since = Annotated[date, Query(alias="from", description="First day of the series.")]
Until = Annotated[date | None, Query(alias="to", description="Last day (default today).")]
Step = Annotated[int, Query(ge=1, le=366, description="Days between points.")]


@router.get("/v1/improvement-plans/{plan_id}/progress/history", summary="A plan's progress figures over time")
async def get_plan_progress_history(
    plan_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: ReaderPrincipal,
    since: Since,
    until: Until = None,
    every_days: Step = 7,
) -> list[ProgressPoint]:
    """The figures at the end of each day from `from` to `to`, every `every_days`, rebuilt from the items' moves."""
    days = plans.days_between(since, until or plans.today(), every_days)
    return _series(await plans.plan_progress_history(uow, principal=principal, plan_id=plan_id, days=days))


@router.get("/v1/progress/countries/{country}/history", summary="A country's progress figures over time")
async def get_country_progress_history(
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")],
    uow: UnitOfWorkDep,
    principal: AnyPrincipal,
    since: Since,
    until: Until = None,
    every_days: Step = 7,
) -> list[ProgressPoint]:
    days = plans.days_between(since, until or plans.today(), every_days)
    return _series(await plans.country_progress_history(uow, principal=principal, country=country, days=days))


@router.get("/v1/progress/countries/{country}", summary="A country's progress figures over every plan")
async def get_country_progress(
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")], uow: UnitOfWorkDep, principal: AnyPrincipal
) -> ProgressOut:
    """Staff of the country; constituents of the country see these aggregates too."""
    return ProgressOut.of(await plans.country_progress(uow, principal=principal, country=country))


@router.get("/v1/improvement-items/{item_id}", summary="One item with its history and evidence")
async def get_item(item_id: uuid.UUID, uow: UnitOfWorkDep, principal: ReaderPrincipal) -> ItemDetail:
    item, history = await plans.get_item(uow, principal=principal, item_id=item_id)
    files = await evidence.list_evidence(uow, principal=principal, item_id=item_id)
    return ItemDetail(**ItemOut.of(item).model_dump(), history=[MoveOut.of(m) for m in history], evidence=files)


@router.patch("/v1/improvement-items/{item_id}", summary="Write root cause, actions, owner (due date: advisors)")
async def describe_item(
    item_id: uuid.UUID, body: ItemDetailsIn, uow: UnitOfWorkDep, principal: ReaderPrincipal
) -> ItemOut:
    return ItemOut.of(await plans.describe_item(uow, principal=principal, item_id=item_id, details=body.details()))


@router.post("/v1/improvement-items/{item_id}/transitions", summary="Move an item through its lifecycle")
async def move_item(item_id: uuid.UUID, body: ItemMoveIn, uow: UnitOfWorkDep, principal: ReaderPrincipal) -> ItemOut:
    """The factory starts, reports done and disputes; advisors (staff of the country) verify, refuse a
    verification, waive (with reason) and reopen. 409 names the statuses the move is allowed from."""
    moved = await plans.move_item(uow, principal=principal, item_id=item_id, to=body.to, reason=body.reason)
    return ItemOut.of(moved)


@router.post(
    "/v1/improvement-items/{item_id}/evidence",
    status_code=201,
    summary="Attach evidence to an item",
    # a 2 MB file is about 2.8 MB as base64 inside JSON: above the platform's 1 MB default cap
    max_body_size=evidence.MAX_FILE_BYTES * 4 // 3 + 64 * 1024,
)
async def add_evidence(
    item_id: uuid.UUID, body: EvidenceCreate, uow: UnitOfWorkDep, principal: ReaderPrincipal
) -> evidence.EvidenceOut:
    """The factory or its advisors; at most 2 MB a file and 10 MB an item; kept with its SHA-256."""
    try:
        content = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Unprocessable("content_base64 is not valid base64.") from exc
    return await evidence.attach(
        uow,
        principal=principal,
        item_id=item_id,
        file_name=body.file_name,
        content_type=body.content_type,
        content=content,
    )


@router.get(
    "/v1/improvement-items/{item_id}/evidence/{evidence_id}",
    summary="Download a file of evidence",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def get_evidence(
    item_id: uuid.UUID, evidence_id: uuid.UUID, uow: UnitOfWorkDep, principal: ReaderPrincipal
) -> Response:
    meta, content = await evidence.evidence_file(uow, principal=principal, item_id=item_id, evidence_id=evidence_id)
    return Response(
        content,
        media_type=meta.content_type,
        headers={
            "content-disposition": f'attachment; filename="{meta.file_name.replace(chr(34), "")}"',
            "etag": f'"{meta.sha256}"',
            "x-content-type-options": "nosniff",
        },
    )
