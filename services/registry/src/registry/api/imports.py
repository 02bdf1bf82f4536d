"""Factory lists over HTTP: upload a CSV as a background job, watch its progress, download per-row results."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from registry.api.schemas import ImportJob
from registry.service import imports
from registry.service.import_worker import ImportWorker
from registry.settings import RegistrySettings
from servicekit.downloads import content_disposition
from servicekit.edge import StaffPrincipal, UnitOfWorkDep, settings_of
from servicekit.errors import PROBLEM_RESPONSES, BadRequest
from servicekit.pagination import Page, PageQuery

router = APIRouter(prefix="/v1/factory-imports", tags=["factory lists"], responses=PROBLEM_RESPONSES)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


@router.post(
    "",
    status_code=202,
    summary="Upload a factory list (CSV)",
    max_body_size=MAX_UPLOAD_BYTES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
            "description": "Columns: country, name, address (required); sector, workers, os_id, "
            "external_reference, local_name, province, slcp_facility_id, national_registration, "
            "customs_list_entry (optional). UTF-8; comma, semicolon or tab separated.",
        }
    },
)
async def upload(
    request: Request,
    response: Response,
    uow: UnitOfWorkDep,
    staff: StaffPrincipal,
    filename: Annotated[str | None, Query(max_length=300)] = None,
    country: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2}$", description="Country of rows that leave it blank.")
    ] = None,
) -> ImportJob:
    """Every row is matched like a registration; the job runs in the background (watch `GET .../{id}`)."""
    if request.headers.get("content-type", "").split(";")[0].strip() not in ("text/csv", "application/csv"):
        raise BadRequest("Send the list as the request body with Content-Type: text/csv.")
    data = bytearray()
    async for chunk in request.stream():  # the unit of work takes a connection only at its first statement
        data.extend(chunk)
        if len(data) > MAX_UPLOAD_BYTES:
            raise BadRequest(f"The list is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; split it.")
    job = await imports.create_job(
        uow,
        principal=staff,
        settings=settings_of(request, RegistrySettings),
        data=bytes(data),
        filename=filename,
        default_country=country,
    )
    worker: ImportWorker | None = getattr(request.app.state, "import_worker", None)  # see workers.py
    if worker is not None:
        worker.wakeup.set()
    response.headers["Location"] = f"/v1/factory-imports/{job['id']}"
    return ImportJob(**job)


@router.get("", summary="Factory lists uploaded (newest first)")
async def list_imports(request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal, page: PageQuery) -> Page[ImportJob]:
    jobs, cursor = await imports.list_jobs(
        uow, principal=staff, settings=settings_of(request, RegistrySettings), page=page
    )
    return Page[ImportJob](items=[ImportJob(**j) for j in jobs], next_cursor=cursor)


@router.get("/{import_id}", summary="Progress of a factory list")
async def get_import(import_id: uuid.UUID, uow: UnitOfWorkDep, staff: StaffPrincipal) -> ImportJob:
    return ImportJob(**await imports.get_job(uow, principal=staff, job_id=import_id))


@router.get(
    "/{import_id}/results",
    summary="Per-row results as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "line, outcome, factory_id, score, review ..."}},
)
async def import_results(import_id: uuid.UUID, uow: UnitOfWorkDep, staff: StaffPrincipal) -> Response:
    """created, matched (to `factory_id`), needs_review (`review_id`, and its decision once made), rejected (`reason`).

    Rows not yet processed say `pending`.
    """
    body = await imports.results_csv(uow, principal=staff, job_id=import_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition(f"factory-import-{import_id}-results.csv")},
    )
