"""The public JSON API and open data: no token. Only released publications are ever served.

Stable URLs: `/open-data/{country}/{number}/{file}` never changes once released (cached for a year);
`/open-data/{country}/latest/...` redirects to the newest number. Every answer has a strong ETag and answers
`If-None-Match` with 304."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from servicekit.edge import DatabaseDep
from servicekit.errors import PROBLEM_RESPONSES, NotFound
from servicekit.pagination import MAX_PAGE_SIZE, Page, PageParams
from transparency.api.caching import IMMUTABLE, cached
from transparency.domain.cycle import Publication
from transparency.service import public

# A release number: bounded so that nonsense is a 422, not an integer overflow in the database.
ReleaseNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]

router = APIRouter(tags=["public"], responses=PROBLEM_RESPONSES)

Country = Annotated[str, Path(pattern=r"^[A-Z]{2}$")]
FILE_NAMES = ("aggregates.csv", "datapackage.json", "factories.csv", "factories.json", "findings.csv", "microdata.csv")
JSON = "application/json"


class ReleaseFileOut(BaseModel):
    name: str
    url: str


class ReleaseOut(BaseModel):
    country: str
    release_number: int
    rule_set: str
    data_cut_off: date
    approved_by: str | None
    content_hash: str
    released_at: datetime | None
    previous_release_number: int | None
    url: str
    download_url: str
    dcat_url: str
    files: list[ReleaseFileOut]


class PublicIssueOut(BaseModel):
    question_code: str
    title: str
    cluster: str
    compliance_point: str
    result: str
    remediation: str
    reply: str
    reply_status: str


class PublicFactoryOut(BaseModel):
    factory_id: uuid.UUID
    name: str
    country: str
    province: str
    sector: str
    assessment_id: uuid.UUID
    cycle: int
    assessed_on: date
    assessments_counted: int
    low_compliance: bool
    compliance_rate: float | None
    non_compliant_issues: int
    issues: list[PublicIssueOut]


class ListingOut(BaseModel):
    release_number: int
    data_cut_off: date
    factory: PublicFactoryOut


class FactoryPageOut(BaseModel):
    factory_id: uuid.UUID
    listed: bool
    current: PublicFactoryOut | None
    latest_release: ReleaseOut
    history: list[ListingOut]


class ChangeOut(BaseModel):
    seq: int
    country: str
    release_number: int
    factory_id: uuid.UUID
    change: str
    released_at: datetime


class ChangeFeedOut(BaseModel):
    items: list[ChangeOut]
    next_since: int


def release_out(r: Publication) -> ReleaseOut:
    assert r.release_number is not None
    base = f"/open-data/{r.country}/{r.release_number}"
    return ReleaseOut(
        country=r.country,
        release_number=r.release_number,
        rule_set=r.rule_set,
        data_cut_off=r.cut_off,
        approved_by=r.approved_by,
        content_hash=r.content_hash,
        released_at=r.released_at,
        previous_release_number=r.release_number - 1 if r.release_number > 1 else None,
        url=f"/public/v1/countries/{r.country}/releases/{r.release_number}",
        download_url=f"{base}.zip",
        dcat_url=f"{base}/dcat.jsonld",
        files=[ReleaseFileOut(name=n, url=f"{base}/{n}") for n in FILE_NAMES],
    )


def _json(model: BaseModel) -> tuple[bytes, str]:
    return model.model_dump_json().encode(), JSON


def _page(limit: int, cursor: str | None) -> PageParams:
    return PageParams(limit=limit, cursor=cursor, sort=None)


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
Cursor = Annotated[str | None, Query(max_length=512)]


@router.get("/public/v1/releases", summary="Releases, newest first", response_model=Page[ReleaseOut])
async def list_releases(
    request: Request,
    database: DatabaseDep,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    async def produce() -> tuple[bytes, str]:
        async with database.unit_of_work() as uow:
            found, next_cursor = await public.releases(uow, params=_page(limit, cursor), country=country)
        return _json(Page[ReleaseOut](items=[release_out(r) for r in found], next_cursor=next_cursor))

    return await cached(request, produce)


@router.get("/public/v1/countries/{country}/releases/latest", summary="The newest release of a country")
async def latest_release(country: Country, database: DatabaseDep) -> RedirectResponse:
    async with database.unit_of_work() as uow:
        found = await public.release(uow, country=country, number=None)
    return RedirectResponse(f"/public/v1/countries/{country}/releases/{found.release_number}", status_code=307)


@router.get("/public/v1/countries/{country}/releases/{number}", summary="One release", response_model=ReleaseOut)
async def get_release(country: Country, number: ReleaseNumber, request: Request, database: DatabaseDep) -> Response:
    async def produce() -> tuple[bytes, str]:
        async with database.unit_of_work() as uow:
            return _json(release_out(await public.release(uow, country=country, number=number)))

    return await cached(request, produce, cache_control=IMMUTABLE)


@router.get("/public/v1/factories", summary="Search the listed factories", response_model=Page[PublicFactoryOut])
async def search_factories(
    request: Request,
    database: DatabaseDep,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Part of the factory's name.")] = None,
    province: Annotated[str | None, Query(max_length=200)] = None,
    issue: Annotated[str | None, Query(max_length=64, description="Non-compliant on this question code.")] = None,
    status: Annotated[str | None, Query(pattern=r"^(compliant|non_compliant)$")] = None,
    year: Annotated[int | None, Query(ge=1990, le=2100, description="Year of the latest assessment.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """Factories named by each country's latest release (of one country with `country`)."""

    async def produce() -> tuple[bytes, str]:
        async with database.unit_of_work() as uow:
            found, next_cursor = await public.search(
                uow,
                params=_page(limit, cursor),
                country=country,
                q=q,
                province=province,
                issue=issue,
                status=status,
                year=year,
            )
        return _json(Page[PublicFactoryOut](items=[PublicFactoryOut(**d) for d in found], next_cursor=next_cursor))

    return await cached(request, produce)


@router.get("/public/v1/factories/{factory_id}", summary="A factory as published", response_model=FactoryPageOut)
async def get_public_factory(factory_id: uuid.UUID, request: Request, database: DatabaseDep) -> Response:
    """What the latest release of its country shows (`current`, null once delisted) and every release that
    listed it (the history the old portal never had)."""

    async def produce() -> tuple[bytes, str]:
        async with database.unit_of_work() as uow:
            page = await public.factory(uow, factory_id=factory_id)
        return _json(
            FactoryPageOut(
                factory_id=factory_id,
                listed=page.document is not None,
                current=PublicFactoryOut(**page.document) if page.document else None,
                latest_release=release_out(page.release),
                history=[
                    ListingOut(
                        release_number=r.release_number or 0, data_cut_off=r.cut_off, factory=PublicFactoryOut(**d)
                    )
                    for r, d in page.history
                ],
            )
        )

    try:
        return await cached(request, produce)
    except public.MergedFactory as merged:
        return RedirectResponse(f"/public/v1/factories/{merged.survivor_id}", status_code=308)


@router.get("/public/v1/changes", summary="Change feed of published factories", response_model=ChangeFeedOut)
async def public_changes(
    request: Request,
    database: DatabaseDep,
    since: Annotated[int, Query(ge=0, description="`next_since` of the previous answer; 0 from the start.")] = 0,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    limit: Limit = 100,
) -> Response:
    """Factories listed, changed or delisted by each release, in order; poll with the last `next_since`."""

    async def produce() -> tuple[bytes, str]:
        async with database.unit_of_work() as uow:
            found = await public.changes(uow, since=since, limit=limit, country=country)
        items = [ChangeOut(**{k: row[k] for k in ChangeOut.model_fields}) for row in found]
        return _json(ChangeFeedOut(items=items, next_since=items[-1].seq if items else since))

    return await cached(request, produce)


@router.get("/open-data/{country}/latest/{name}", summary="A file of the newest release (redirect)")
async def latest_open_data_file(country: Country, name: str, database: DatabaseDep) -> RedirectResponse:
    async with database.unit_of_work() as uow:
        found = await public.release(uow, country=country, number=None)
    return RedirectResponse(f"/open-data/{country}/{found.release_number}/{name}", status_code=307)


@router.get("/open-data/{country}/latest.zip", summary="The newest release as one file (redirect)")
async def latest_open_data_zip(country: Country, database: DatabaseDep) -> RedirectResponse:
    async with database.unit_of_work() as uow:
        found = await public.release(uow, country=country, number=None)
    return RedirectResponse(f"/open-data/{country}/{found.release_number}.zip", status_code=307)


@router.get("/open-data/{country}/{number}.zip", summary="A whole release as one file (no quota)")
async def open_data_zip(country: Country, number: ReleaseNumber, request: Request, database: DatabaseDep) -> Response:
    async def produce() -> tuple[bytes, str]:
        async with database.unit_of_work() as uow:
            return await public.release_zip(uow, country=country, number=number), "application/zip"

    return await cached(request, produce, cache_control=IMMUTABLE)


@router.get("/open-data/{country}/{number}/dcat.jsonld", summary="DCAT entry of a release")
async def open_data_dcat(country: Country, number: ReleaseNumber, request: Request, database: DatabaseDep) -> Response:
    """A `dcat:Dataset` in the country's `dcat:DatasetSeries`, with `dcat:previousVersion` (DCAT 3)."""

    async def produce() -> tuple[bytes, str]:
        async with database.unit_of_work() as uow:
            found = await public.release(uow, country=country, number=number)
        return json.dumps(dcat(str(request.base_url).rstrip("/"), found), indent=2).encode(), "application/ld+json"

    return await cached(request, produce, cache_control=IMMUTABLE)


@router.get("/open-data/{country}/{number}/{name}", summary="One file of a release")
async def open_data_file(
    country: Country, number: ReleaseNumber, name: str, request: Request, database: DatabaseDep
) -> Response:
    if name not in FILE_NAMES:
        raise NotFound(f"A release has no file {name}.")

    async def produce() -> tuple[bytes, str]:
        async with database.unit_of_work() as uow:
            f = await public.release_file(uow, country=country, number=number, name=name)
        return f.content, f.media_type

    return await cached(request, produce, cache_control=IMMUTABLE)


def dcat(base: str, r: Publication) -> dict[str, Any]:
    url = f"{base}/open-data/{r.country}/{r.release_number}"
    entry: dict[str, Any] = {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "adms": "http://www.w3.org/ns/adms#",
        },
        "@id": url,
        "@type": "dcat:Dataset",
        "dct:title": f"Better Work public reporting, {r.country}, release {r.release_number}",
        "dct:issued": r.released_at.isoformat() if r.released_at else None,
        "dct:temporal": {"dcat:endDate": r.cut_off.isoformat()},
        "dct:license": "https://creativecommons.org/licenses/by/4.0/",
        "dcat:version": str(r.release_number),
        "adms:versionNotes": f"Rule set {r.rule_set}; content sha256 {r.content_hash}",
        "dcat:inSeries": {"@id": f"{base}/open-data/{r.country}", "@type": "dcat:DatasetSeries"},
        "dcat:distribution": [
            {"@type": "dcat:Distribution", "dcat:downloadURL": f"{url}.zip", "dcat:mediaType": "application/zip"},
            *(
                {
                    "@type": "dcat:Distribution",
                    "dcat:downloadURL": f"{url}/{n}",
                    "dcat:mediaType": "text/csv" if n.endswith(".csv") else "application/json",
                }
                for n in FILE_NAMES
            ),
        ],
    }
    if r.release_number and r.release_number > 1:
        entry["dcat:previousVersion"] = {"@id": f"{base}/open-data/{r.country}/{r.release_number - 1}"}
    return entry
