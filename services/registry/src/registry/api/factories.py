"""Factories over HTTP: register (with matching), read, search, change, move through the enrolment, merge."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import RedirectResponse

from registry.api.schemas import (
    FactoryBasic,
    FactoryCreate,
    FactoryFull,
    FactoryPatch,
    MatchNote,
    MergeIn,
    RegistrationResult,
    StatusChangeIn,
    StatusChangeOut,
    basic_of,
    flat_values,
    full_of,
)
from registry.domain.enrolment import Status
from registry.domain.factory import Factory, Sector
from registry.service import factories
from registry.service.access import View
from registry.settings import RegistrySettings
from servicekit.auth import Principal
from servicekit.database import Database, UnitOfWork, database_of
from servicekit.edge import ReaderPrincipal, StaffPrincipal, UnitOfWorkDep, settings_of
from servicekit.errors import PROBLEM_RESPONSES, BadRequest
from servicekit.hot import HotRead, HotWrite
from servicekit.pagination import Page, PageQuery

router = APIRouter(prefix="/v1/factories", tags=["factories"], responses=PROBLEM_RESPONSES)

IfMatch = Annotated[
    str | None, Header(description='Version the change is based on, e.g. `"3"`; a stale one is refused with 409.')
]


def expected_version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise BadRequest('If-Match takes the factory version in quotes, e.g. "3".')
    return int(text)


def render(factory: Factory, view: View) -> dict[str, Any]:
    return full_of(factory) if view is View.FULL else basic_of(factory)


def _etag(factory: Factory) -> dict[str, str]:
    return {"ETag": f'"{factory.version}"'}


@router.post(
    "",
    status_code=201,
    summary="Register a factory (matched against the registry first)",
    response_model=RegistrationResult,
    responses={
        200: {"model": RegistrationResult, "description": "The registry already holds this factory."},
        202: {"model": RegistrationResult, "description": "A possible duplicate: a person will decide."},
    },
)
async def create_factory(body: FactoryCreate, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal) -> Response:
    """Normalise, then match on external ids, exact cleaned name and address, and a fuzzy score.

    A strong match answers 200 with the existing factory (so retrying a registration is safe); a weak
    one answers 202 with a review item; otherwise the factory is created (201, `factory.registered`).
    A match on a factory that left the programme says so (`match.exited`) and where to re-enrol it.
    """
    return await registration_answer(uow, staff, settings_of(request, RegistrySettings), body)


async def registration_answer(
    uow: UnitOfWork, staff: Principal, settings: RegistrySettings, body: FactoryCreate
) -> Response:
    """`POST /v1/factories`, answered by the route above and by the edge (`HOT_WRITES`)."""
    result = await factories.register(
        uow, principal=staff, settings=settings, country=body.country, values=flat_values(body)
    )
    status = {"created": 201, "matched": 200, "needs_review": 202}[result.outcome.value]
    headers = {"Location": f"/v1/factories/{result.factory.id}"} if result.factory is not None else None
    answer = RegistrationResult(
        outcome=result.outcome.value,
        factory=FactoryFull(**full_of(result.factory)) if result.factory else None,
        score=result.score,
        matched_on=result.matched_on,
        review_id=result.review_id,
        candidate_id=result.candidate_id,
        match=match_note(result.factory) if result.outcome.value == "matched" and result.factory else None,
    )
    # Serialised once, here: the model was built from the record, so FastAPI's second validation would add nothing.
    return Response(answer.model_dump_json(), status_code=status, headers=headers, media_type="application/json")


def match_note(factory: Factory) -> MatchNote:
    """What a registrar should know of the factory its registration matched: an exited one stays exited."""
    if factory.status is not Status.EXITED:
        return MatchNote(status=factory.status, exited=False)
    return MatchNote(
        status=factory.status,
        exited=True,
        hint=(
            "This factory left the programme. Registering it again does not bring it back: re-enrol it "
            "(a new enrolment period; its history is kept)."
        ),
        re_enrol=f"/v1/factories/{factory.id}/status-changes",
    )


@router.get("", summary="Search and list factories")
async def list_factories(
    uow: UnitOfWorkDep,
    reader: ReaderPrincipal,
    page: PageQuery,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    sector: Sector | None = None,
    status: Status | None = None,
    group: Annotated[str | None, Query(max_length=300, description="Manufacturing group (case-insensitive).")] = None,
    group_id: Annotated[uuid.UUID | None, Query(description="Members of this manufacturing group.")] = None,
    external_id: Annotated[
        str | None, Query(max_length=100, description="OS ID, SLCP id, registration or customs entry.")
    ] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in any name or alias.")] = None,
    include_merged: Annotated[bool, Query(description="Also list merged (retired) ids.")] = False,
) -> Page[FactoryFull | FactoryBasic]:
    """Sort by `name` (default), `registered_at` or `updated_at`, `-` for descending; cursor pages."""
    filters = factories.FactoryFilters(
        country=country,
        sector=sector.value if sector else None,
        status=status.value if status else None,
        group=group,
        group_id=group_id,
        external_id=external_id,
        q=q,
        include_merged=include_merged,
    )
    found, cursor, view = await factories.search(uow, principal=reader, filters=filters, page=page)
    model = FactoryFull if view is View.FULL else FactoryBasic
    return Page[FactoryFull | FactoryBasic](items=[model(**render(f, view)) for f in found], next_cursor=cursor)


@router.get(
    "/{factory_id}",
    summary="One factory",
    response_model=FactoryFull | FactoryBasic,
    responses={308: {"description": "The factory was merged; `Location` is the surviving factory."}},
)
async def get_factory(factory_id: uuid.UUID, request: Request, reader: ReaderPrincipal) -> Response:
    """The full record for staff of its country and its own users; the basic profile for buyers and services."""
    return await factory_answer(database_of(request), reader, factory_id, request.url.query)


async def factory_answer(database: Database, reader: Principal, factory_id: uuid.UUID, query: str) -> Response:
    """`GET /v1/factories/{id}`, answered by the route above and by the edge (`HOT_READS`): one read-only
    statement (`Database.read_one`), no unit of work; the body is serialised once, here."""
    factory, view = await factories.get(database, principal=reader, factory_id=factory_id)
    if factory.merged_into is not None:
        location = f"/v1/factories/{factory.merged_into}"
        if query:
            location += f"?{query}"
        return RedirectResponse(location, status_code=308)
    model = FactoryFull if view is View.FULL else FactoryBasic
    body = model(**render(factory, view)).model_dump_json().encode()
    return Response(body, media_type="application/json", headers=_etag(factory))


# Registration is the write of every list and integration: the edge answers it without FastAPI's routing too.
HOT_WRITES = [
    HotWrite(
        "/v1/factories",
        FactoryCreate,
        lambda call, body, uow: registration_answer(
            uow, call.principal, settings_of(call.connection, RegistrySettings), body
        ),
    )
]

# The factory by id is read by every caller of the platform: the edge answers it without FastAPI's routing.
HOT_READS = [
    HotRead(
        "/v1/factories/{factory_id}",
        lambda call: factory_answer(call.database, call.principal, call.path_uuid("factory_id"), call.query_string),
    )
]


@router.patch("/{factory_id}", summary="Change a factory's record")
async def update_factory(
    factory_id: uuid.UUID,
    body: FactoryPatch,
    request: Request,
    uow: UnitOfWorkDep,
    staff: StaffPrincipal,
    if_match: IfMatch = None,
) -> FactoryFull:
    """Only the fields sent change; `null` clears one. `factory.updated` carries the changed fields only."""
    factory = await factories.update(
        uow,
        principal=staff,
        settings=settings_of(request, RegistrySettings),
        factory_id=factory_id,
        values=flat_values(body),
        expected_version=expected_version(if_match),
        reason=body.reason,
    )
    return FactoryFull(**full_of(factory))


@router.post("/{factory_id}/status-changes", status_code=201, summary="Move a factory through its enrolment")
async def change_status(
    factory_id: uuid.UUID,
    body: StatusChangeIn,
    request: Request,
    uow: UnitOfWorkDep,
    staff: StaffPrincipal,
    if_match: IfMatch = None,
) -> FactoryFull:
    """registered → enrolled → active ⇄ suspended; exited from any state but exited; exited → re_enrolled (a new
    enrolment period, `factory.status_changed` with `re_enrolment: true`). Others: 409."""
    factory, _ = await factories.change_status(
        uow,
        principal=staff,
        settings=settings_of(request, RegistrySettings),
        factory_id=factory_id,
        change=body.change,
        service_package=getattr(body, "service_package", None),
        start_date=getattr(body, "start_date", None),
        suspension_reason=getattr(body, "suspension_reason", None),
        reason=getattr(body, "reason", None),
        expected_version=expected_version(if_match),
    )
    return FactoryFull(**full_of(factory))


@router.get("/{factory_id}/status-changes", summary="Enrolment history (who, when, why)")
async def status_history(factory_id: uuid.UUID, uow: UnitOfWorkDep, reader: ReaderPrincipal) -> list[StatusChangeOut]:
    """Oldest first; includes the history of factories merged into this one."""
    rows = await factories.history(uow, principal=reader, factory_id=factory_id)
    return [StatusChangeOut(**{**row, "by": row["by_subject"]}) for row in rows]


@router.post("/{factory_id}/merges", summary="Merge a duplicate into this factory")
async def merge_factory(
    factory_id: uuid.UUID, body: MergeIn, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> FactoryFull:
    """The duplicate's names become aliases, its external ids move here, its id redirects (308) here forever."""
    survivor = await factories.merge(
        uow,
        principal=staff,
        settings=settings_of(request, RegistrySettings),
        survivor_id=factory_id,
        merged_id=body.merged_id,
        reason=body.reason,
    )
    return FactoryFull(**full_of(survivor))
