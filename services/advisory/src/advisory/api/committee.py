"""The committee (PICC) and advisory visits over HTTP, per factory."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from advisory.domain.committee import Member, Selection, Sex, Side, VisitMode
from advisory.service import committee
from advisory.service.plans import today
from servicekit.edge import ReaderPrincipal, StaffPrincipal, StrictInput, UnitOfWorkDep
from servicekit.errors import PROBLEM_RESPONSES

router = APIRouter(tags=["committee and visits"], responses=PROBLEM_RESPONSES)

Short = Annotated[str, Field(min_length=1, max_length=200)]


class MemberCreate(StrictInput):
    display_name: Short = Field(description="How the committee knows the member (no other personal data).")
    side: Side
    selection: Selection
    sex: Sex
    role: Short = Field(description="chair, secretary, member, ...")
    term_start: date
    term_end: date | None = None


class TermEnd(StrictInput):
    term_end: date


class MemberOut(BaseModel):
    id: uuid.UUID
    display_name: str
    side: Side
    selection: Selection
    sex: Sex
    role: str
    term_start: date
    term_end: date | None
    serving: bool

    @classmethod
    def of(cls, m: Member, today: date) -> MemberOut:
        return cls(**{k: getattr(m, k) for k in cls.model_fields if k != "serving"}, serving=m.serving(today))


class BySexOut(BaseModel):
    women: int
    men: int
    other: int
    total: int


class CommitteeOut(BaseModel):
    members: list[MemberOut]
    worker_members: BySexOut
    management_members: BySexOut
    women_share_of_worker_members: float | None
    women_share_of_workforce: float | None
    women_under_represented: bool | None = Field(
        description="True when women's share of the worker members is below their share of the workforce."
    )


class Decision(StrictInput):
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    item_id: uuid.UUID | None = None


class MeetingCreate(StrictInput):
    meeting_date: date
    attendee_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)
    decisions: list[Decision] = Field(default=[], max_length=100)


class MeetingOut(BaseModel):
    id: uuid.UUID
    meeting_date: date
    attendee_ids: list[uuid.UUID]
    attended_women: int
    attended_men: int
    attended_other: int
    decisions: list[dict[str, Any]]
    recorded_at: datetime
    recorded_by: str


class FollowUp(StrictInput):
    action: Annotated[str, Field(min_length=1, max_length=1000)]
    owner: Short | None = None
    due_date: date | None = None


class VisitCreate(StrictInput):
    visit_date: date
    advisors: list[Short] = Field(default=[], max_length=10, description="Defaults to the caller.")
    mode: VisitMode
    topics: list[Short] = Field(default=[], max_length=50)
    item_ids: list[uuid.UUID] = Field(default=[], max_length=500, description="Plan items discussed.")
    follow_ups: list[FollowUp] = Field(default=[], max_length=50)


class VisitOut(BaseModel):
    id: uuid.UUID
    factory_id: uuid.UUID
    visit_date: date
    advisors: list[str]
    mode: VisitMode
    topics: list[str]
    item_ids: list[uuid.UUID]
    follow_ups: list[dict[str, Any]]
    recorded_at: datetime
    recorded_by: str


@router.post("/v1/factories/{factory_id}/committee/members", status_code=201, summary="Add a committee member")
async def add_committee_member(
    factory_id: uuid.UUID, body: MemberCreate, uow: UnitOfWorkDep, principal: ReaderPrincipal
) -> MemberOut:
    """The factory itself or staff of its country. Worker members are elected (422 otherwise)."""
    member = await committee.add_member(
        uow, principal=principal, factory_id=factory_id, new=committee.MemberIn(**body.model_dump())
    )
    return MemberOut.of(member, today())


@router.post("/v1/factories/{factory_id}/committee/members/{member_id}/end-term", summary="End a member's term")
async def end_committee_term(
    factory_id: uuid.UUID, member_id: uuid.UUID, body: TermEnd, uow: UnitOfWorkDep, principal: ReaderPrincipal
) -> CommitteeOut:
    await committee.end_term(
        uow, principal=principal, factory_id=factory_id, member_id=member_id, term_end=body.term_end
    )
    return await get_committee(factory_id, uow, principal)


@router.get("/v1/factories/{factory_id}/committee", summary="The committee and its composition by sex")
async def get_committee(factory_id: uuid.UUID, uow: UnitOfWorkDep, principal: ReaderPrincipal) -> CommitteeOut:
    members, figures = await committee.committee(uow, principal=principal, factory_id=factory_id)
    on = today()

    def by_sex(b: Any) -> BySexOut:
        return BySexOut(women=b.women, men=b.men, other=b.other, total=b.total)

    return CommitteeOut(
        members=[MemberOut.of(m, on) for m in members],
        worker_members=by_sex(figures.workers),
        management_members=by_sex(figures.management),
        women_share_of_worker_members=figures.women_share_of_worker_members,
        women_share_of_workforce=figures.women_share_of_workforce,
        women_under_represented=figures.women_under_represented,
    )


@router.post("/v1/factories/{factory_id}/committee/meetings", status_code=201, summary="Record a committee meeting")
async def record_committee_meeting(
    factory_id: uuid.UUID, body: MeetingCreate, uow: UnitOfWorkDep, principal: ReaderPrincipal
) -> MeetingOut:
    """Attendees are members serving on the day; decisions may name the plan items they concern."""
    row = await committee.record_meeting(
        uow,
        principal=principal,
        factory_id=factory_id,
        meeting_date=body.meeting_date,
        attendee_ids=body.attendee_ids,
        decisions=[d.model_dump() for d in body.decisions],
    )
    return MeetingOut.model_validate(row)


@router.get("/v1/factories/{factory_id}/committee/meetings", summary="Committee meetings, latest first")
async def list_committee_meetings(
    factory_id: uuid.UUID, uow: UnitOfWorkDep, principal: ReaderPrincipal
) -> list[MeetingOut]:
    return [
        MeetingOut.model_validate(r) for r in await committee.meetings(uow, principal=principal, factory_id=factory_id)
    ]


@router.post("/v1/factories/{factory_id}/advisory-visits", status_code=201, summary="Log an advisory visit")
async def record_advisory_visit(
    factory_id: uuid.UUID, body: VisitCreate, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> VisitOut:
    """Staff of the factory's country."""
    row = await committee.record_visit(
        uow,
        principal=staff,
        factory_id=factory_id,
        visit_date=body.visit_date,
        advisors=body.advisors,
        mode=body.mode,
        topics=body.topics,
        item_ids=body.item_ids,
        follow_ups=[f.model_dump(mode="json") for f in body.follow_ups],
    )
    return VisitOut.model_validate(row)


@router.get("/v1/factories/{factory_id}/advisory-visits", summary="Advisory visits, latest first")
async def list_advisory_visits(factory_id: uuid.UUID, uow: UnitOfWorkDep, principal: ReaderPrincipal) -> list[VisitOut]:
    """Staff of the country and the factory itself."""
    return [VisitOut.model_validate(r) for r in await committee.visits(uow, principal=principal, factory_id=factory_id)]
