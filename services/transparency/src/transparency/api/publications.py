"""The publication cycle over HTTP (staff of the country): compute a candidate, read its differences against the
last release, review, approve (a second person; this releases it), reject, rebuild from the log."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from servicekit.edge import StaffPrincipal, StrictInput, UnitOfWorkDep
from servicekit.errors import PROBLEM_RESPONSES
from servicekit.pagination import Page, PageQuery
from transparency.api.caching import cache_of
from transparency.domain.cycle import Publication
from transparency.service import publications

router = APIRouter(tags=["publications"], responses=PROBLEM_RESPONSES)


class PublicationCreate(StrictInput):
    country: str = Field(pattern=r"^[A-Z]{2}$")
    cut_off: date = Field(description="Facts that happened up to the end of this day (UTC) count.")


class PublicationReject(StrictInput):
    reason: str = Field(min_length=3, max_length=2000)


class PublicationOut(BaseModel):
    id: uuid.UUID
    country: str
    rule_set: str
    cut_off: date
    log_position: int
    status: str
    prepared_by: str
    prepared_at: datetime
    base_release: int | None
    content_hash: str
    factories_listed: int
    reviewed_by: str | None
    reviewed_at: datetime | None
    approved_by: str | None
    released_at: datetime | None
    release_number: int | None
    rejected_by: str | None
    reason: str | None

    @classmethod
    def of(cls, publication: Publication, factories_listed: int) -> PublicationOut:
        return cls(**publication.__dict__, factories_listed=factories_listed)


class DifferenceOut(BaseModel):
    factory_id: uuid.UUID
    name: str
    change: str
    details: list[str]


class RebuiltFileOut(BaseModel):
    name: str
    sha256: str
    same_bytes: bool


class RebuildOut(BaseModel):
    content_hash: str
    matches: bool
    files: list[RebuiltFileOut]


async def _out(uow: Any, staff: Any, publication: Publication) -> PublicationOut:
    _, listed = await publications.get(uow, principal=staff, publication_id=publication.id)
    return PublicationOut.of(publication, listed)


@router.post("/v1/publications", status_code=201, summary="Compute a candidate publication")
async def compute_publication(body: PublicationCreate, uow: UnitOfWorkDep, staff: StaffPrincipal) -> PublicationOut:
    """Staff of the country: the candidate is computed from the fact log under the country's current rule set,
    with its differences against the last release. Nothing is public until a second person approves it."""
    publication = await publications.compute_candidate(uow, principal=staff, country=body.country, cut_off=body.cut_off)
    return await _out(uow, staff, publication)


@router.get("/v1/publications", summary="Publications of the caller's country")
async def list_publications(
    uow: UnitOfWorkDep,
    staff: StaffPrincipal,
    page: PageQuery,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    status: Annotated[str | None, Query(pattern=r"^(candidate|reviewed|released|rejected)$")] = None,
) -> Page[PublicationOut]:
    found, cursor = await publications.list_publications(
        uow, principal=staff, params=page, country=country, status=status
    )
    return Page(items=[PublicationOut.of(p, n) for p, n in found], next_cursor=cursor)


@router.get("/v1/publications/{publication_id}", summary="One publication")
async def get_publication(publication_id: uuid.UUID, uow: UnitOfWorkDep, staff: StaffPrincipal) -> PublicationOut:
    publication, listed = await publications.get(uow, principal=staff, publication_id=publication_id)
    return PublicationOut.of(publication, listed)


@router.get("/v1/publications/{publication_id}/differences", summary="What changes against the last release")
async def publication_differences(
    publication_id: uuid.UUID, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> list[DifferenceOut]:
    """Per factory: listed, delisted, or changed (with what changed), against the release it was computed on."""
    diffs = await publications.differences_of(uow, principal=staff, publication_id=publication_id)
    return [DifferenceOut(**d) for d in diffs]


@router.post("/v1/publications/{publication_id}/review", summary="Mark the differences as reviewed")
async def review_publication(publication_id: uuid.UUID, uow: UnitOfWorkDep, staff: StaffPrincipal) -> PublicationOut:
    return await _out(uow, staff, await publications.review(uow, principal=staff, publication_id=publication_id))


@router.post("/v1/publications/{publication_id}/approve", summary="Approve and release (second person)")
async def approve_publication(
    publication_id: uuid.UUID, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> PublicationOut:
    """Someone other than who computed and who reviewed it (403 otherwise); 409 if it was not reviewed, or if
    another release of the country came out since it was computed. Emits `publication.released`."""
    released = await publications.approve(uow, principal=staff, publication_id=publication_id)
    cache_of(request).clear()
    return await _out(uow, staff, released)


@router.post("/v1/publications/{publication_id}/reject", summary="Reject a candidate")
async def reject_publication(
    publication_id: uuid.UUID, body: PublicationReject, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> PublicationOut:
    rejected = await publications.reject(uow, principal=staff, publication_id=publication_id, reason=body.reason)
    return await _out(uow, staff, rejected)


@router.post("/v1/publications/{publication_id}/rebuild", summary="Rebuild from the log and compare")
async def rebuild_publication(publication_id: uuid.UUID, uow: UnitOfWorkDep, staff: StaffPrincipal) -> RebuildOut:
    """Recomputes the files from the fact log (same position, cut-off and rule set version); changes nothing."""
    rebuilt = await publications.rebuild(uow, principal=staff, publication_id=publication_id)
    return RebuildOut(
        content_hash=rebuilt.content_hash,
        matches=rebuilt.matches,
        files=[RebuiltFileOut(name=n, sha256=s, same_bytes=m) for n, s, m in rebuilt.files],
    )
