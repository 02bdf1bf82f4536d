"""Training over HTTP: the catalogue, sessions, participants, attendance and completion, delivery, a factory's
training days, and xAPI statements in and out."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from advisory.domain.committee import Sex
from advisory.domain.training import CompletionRule, SessionMode
from advisory.service import training
from advisory.settings import AdvisorySettings
from servicekit.auth import Principal, Role
from servicekit.edge import (
    AnyPrincipal,
    ReaderPrincipal,
    StaffPrincipal,
    StrictInput,
    UnitOfWorkDep,
    principal_with,
    settings_of,
)
from servicekit.errors import PROBLEM_RESPONSES

router = APIRouter(tags=["training"], responses=PROBLEM_RESPONSES)

Short = Annotated[str, Field(min_length=1, max_length=200)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}$", description="ISO 639 code: en, km, vi, ...")]
StatementWriter = Annotated[Principal, principal_with(Role.STAFF, Role.SERVICE)]


class Module(StrictInput):
    title: Short
    hours: Decimal = Field(gt=0, le=200)


class CourseCreate(StrictInput):
    country: Country
    code: Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9-]{1,30}$")]
    title: Short
    topic: Annotated[
        str,
        Field(
            pattern=r"^[a-z_]{2,50}$",
            description="supervisory_skills, sexual_harassment_prevention, osh, industrial_relations, ...",
        ),
    ]
    modules: list[Module] = Field(min_length=1, max_length=50)
    languages: list[Language] = Field(min_length=1, max_length=10)
    completion_rule: CompletionRule
    pass_score: Decimal | None = Field(default=None, ge=0, le=100)


class CourseOut(BaseModel):
    id: uuid.UUID
    country: str
    code: str
    title: str
    topic: str
    modules: list[dict[str, Any]]
    hours: Decimal
    languages: list[str]
    completion_rule: CompletionRule
    pass_score: Decimal | None


class SessionCreate(StrictInput):
    course_id: uuid.UUID
    factory_id: uuid.UUID | None = Field(default=None, description="In-factory sessions name the factory.")
    session_date: date
    language: Language
    trainer_organisation: Short
    mode: SessionMode


class ParticipantCreate(StrictInput):
    country: Country
    account: Annotated[str, Field(min_length=3, max_length=100, description="A pseudonymous account, never an e-mail.")]
    role: Short = Field(description="worker, supervisor, manager, HR, brand staff, ...")
    sex: Sex
    nationality: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    migrant: bool = False
    factory_id: uuid.UUID | None = None
    buyer_id: uuid.UUID | None = None


class ParticipantOut(BaseModel):
    id: uuid.UUID
    country: str
    account: str
    role: str
    sex: Sex
    nationality: str | None
    migrant: bool
    factory_id: uuid.UUID | None
    buyer_id: uuid.UUID | None


class Enrolment(StrictInput):
    participant_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)


class OutcomeIn(StrictInput):
    participant_id: uuid.UUID
    attended: bool
    completed: bool = False
    passed: bool | None = Field(default=None, description="Left out: follows the score and the course's pass score.")
    score: Decimal | None = Field(default=None, ge=0, le=100)
    evaluation: int | None = Field(default=None, ge=1, le=5, description="The participant's rating of the session.")
    waived_reason: Annotated[str, Field(min_length=1, max_length=500)] | None = None


class Outcomes(StrictInput):
    outcomes: list[OutcomeIn] = Field(min_length=1, max_length=500)


class CountOut(BaseModel):
    women: int
    men: int
    other: int
    total: int


class SessionOut(BaseModel):
    id: uuid.UUID
    course_id: uuid.UUID
    course_code: str
    course_title: str
    country: str
    factory_id: uuid.UUID | None
    session_date: date
    language: str
    trainer_organisation: str
    mode: SessionMode
    delivered_at: datetime | None
    completion_rule: CompletionRule
    hours: Decimal
    enrolled: CountOut
    attended: CountOut
    completed: CountOut = Field(description="Completed by the course's rule (a waiver with reason counts).")
    attendance_rate: float | None
    average_evaluation: float | None
    participants: list[dict[str, Any]]


class FactoryTrainingOut(BaseModel):
    factory_id: uuid.UUID
    year: int
    entitled_days: int | None = Field(description="The country's figure; None where none is set.")
    used_days: Decimal
    attended: CountOut


class StatementsIn(StrictInput):
    statements: list[dict[str, Any]] = Field(min_length=1, max_length=training.MAX_STATEMENTS)


class ImportOut(BaseModel):
    accepted: int = Field(description="New statements stored and applied.")
    repeats: int = Field(description="Statements already received (by id): nothing changed.")
    rejected: list[dict[str, Any]]


@router.post("/v1/training/courses", status_code=201, summary="Add a course to a country's catalogue")
async def create_course(body: CourseCreate, uow: UnitOfWorkDep, staff: StaffPrincipal) -> CourseOut:
    row = body.model_dump(mode="json")
    row["hours"] = sum((m.hours for m in body.modules), Decimal(0))
    row["pass_score"] = body.pass_score
    return CourseOut.model_validate(await training.create_course(uow, principal=staff, row=row))


@router.get("/v1/training/courses", summary="A country's training catalogue")
async def list_courses(
    uow: UnitOfWorkDep, principal: AnyPrincipal, country: Annotated[Country, Query()]
) -> list[CourseOut]:
    return [CourseOut.model_validate(c) for c in await training.courses(uow, country=country)]


@router.post("/v1/training/sessions", status_code=201, summary="Plan a training session")
async def create_training_session(body: SessionCreate, uow: UnitOfWorkDep, staff: StaffPrincipal) -> SessionOut:
    created = await training.create_session(uow, principal=staff, **body.model_dump())
    return SessionOut.model_validate(await training.summary(uow, principal=staff, session_id=created["id"]))


@router.get("/v1/training/sessions/{session_id}", summary="A session with its figures split by sex")
async def get_training_session(session_id: uuid.UUID, uow: UnitOfWorkDep, principal: ReaderPrincipal) -> SessionOut:
    """Staff of the country; the factory for sessions held at it."""
    return SessionOut.model_validate(await training.summary(uow, principal=principal, session_id=session_id))


@router.post("/v1/training/participants", status_code=201, summary="Register a pseudonymous participant")
async def register_participant(
    body: ParticipantCreate, uow: UnitOfWorkDep, principal: ReaderPrincipal
) -> ParticipantOut:
    """Staff of the country for anyone (brand staff included); a factory for its own people."""
    new = training.ParticipantIn(**body.model_dump(exclude={"country"}))
    return ParticipantOut.model_validate(
        await training.register_participant(uow, principal=principal, country=body.country, new=new)
    )


@router.post("/v1/training/sessions/{session_id}/enrolments", summary="Enrol participants")
async def enrol_participants(
    session_id: uuid.UUID, body: Enrolment, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> SessionOut:
    await training.enrol(uow, principal=staff, session_id=session_id, participant_ids=body.participant_ids)
    return SessionOut.model_validate(await training.summary(uow, principal=staff, session_id=session_id))


@router.put("/v1/training/sessions/{session_id}/outcomes", summary="Record attendance, completion, scores")
async def record_training_outcomes(
    session_id: uuid.UUID, body: Outcomes, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> SessionOut:
    await training.record_outcomes(
        uow, principal=staff, session_id=session_id, outcomes=[o.model_dump() for o in body.outcomes]
    )
    return SessionOut.model_validate(await training.summary(uow, principal=staff, session_id=session_id))


@router.post("/v1/training/sessions/{session_id}/delivered", summary="Mark a session delivered (publishes it)")
async def deliver_training_session(session_id: uuid.UUID, uow: UnitOfWorkDep, staff: StaffPrincipal) -> SessionOut:
    return SessionOut.model_validate(await training.deliver(uow, principal=staff, session_id=session_id))


@router.get("/v1/factories/{factory_id}/training", summary="A factory's training days and people trained")
async def get_factory_training(
    factory_id: uuid.UUID,
    request: Request,
    uow: UnitOfWorkDep,
    principal: ReaderPrincipal,
    year: Annotated[int, Query(ge=2000, le=2100)],
) -> FactoryTrainingOut:
    settings = settings_of(request, AdvisorySettings)
    return FactoryTrainingOut.model_validate(
        await training.factory_training(uow, principal=principal, settings=settings, factory_id=factory_id, year=year)
    )


class TopicFiguresOut(BaseModel):
    sessions: int
    attended: CountOut
    completed: CountOut


class CountryTrainingOut(BaseModel):
    country: str
    year: int
    topics: dict[str, TopicFiguresOut]


@router.get("/v1/training/countries/{country}/figures", summary="A country's training per topic, split by sex")
async def get_country_training_figures(
    country: Country, uow: UnitOfWorkDep, principal: AnyPrincipal, year: Annotated[int, Query(ge=2000, le=2100)]
) -> CountryTrainingOut:
    """Staff of the country and its constituents: aggregates only, no participant."""
    return CountryTrainingOut.model_validate(
        await training.country_figures(uow, principal=principal, country=country, year=year)
    )


@router.post("/v1/xapi/statements", summary="Import xAPI statements (idempotent by statement id)")
async def import_xapi_statements(body: StatementsIn, uow: UnitOfWorkDep, principal: StatementWriter) -> ImportOut:
    """Staff of the country, or a service client (a learning record store) of it. Actors are accounts; a
    statement with an e-mail address is rejected."""
    return ImportOut.model_validate(
        await training.import_statements(uow, principal=principal, statements=body.statements)
    )


@router.get("/v1/training/sessions/{session_id}/xapi", summary="A session's outcomes as xAPI statements")
async def export_xapi_statements(
    session_id: uuid.UUID, uow: UnitOfWorkDep, principal: ReaderPrincipal
) -> list[dict[str, Any]]:
    return await training.export_statements(uow, principal=principal, session_id=session_id)
