"""Factory lists over HTTP: upload a CSV as a background job, watch its progress, download per-row results."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from pydantic import BaseModel, Field

from registry.api.factories import settings_of
from registry.service import imports
from servicekit.auth import Principal, Role, require
from servicekit.database import database_of
from servicekit.errors import PROBLEM_RESPONSES, BadRequest
from servicekit.pagination import Page, PageQuery

router = APIRouter(prefix="/v1/factory-imports", tags=["factory lists"], responses=PROBLEM_RESPONSES)

StaffPrincipal = Annotated[Principal, Depends(require(Role.STAFF))]
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class ImportJob(BaseModel):
    id: uuid.UUID
    status: str = Field(description="queued, running or completed.")
    filename: str | None
    default_country: str | None
    total: int = Field(description="Rows in the list.")
    processed: int
    percent: float
    created: int
    matched: int
    needs_review: int
    rejected: int
    rows_per_second: float | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int = Field(description="Runs it took (more than 1 after an interruption).")
    ignored_columns: list[str] | None = Field(default=None, description="Columns of the upload that are not used.")


@router.post(
    "",
    status_code=202,
    summary="Upload a factory list (CSV)",
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
    principal: StaffPrincipal,
    filename: Annotated[str | None, Query(max_length=300)] = None,
    country: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2}$", description="Country of rows that leave it blank.")
    ] = None,
) -> ImportJob:
    """Every row is matched like a registration; the job runs in the background (watch `GET .../{id}`)."""
    if request.headers.get("content-type", "").split(";")[0].strip() not in ("text/csv", "application/csv"):
        raise BadRequest("Send the list as the request body with Content-Type: text/csv.")
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_UPLOAD_BYTES:
            raise BadRequest(f"The list is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; split it.")
    async with database_of(request).unit_of_work() as uow:
        job = await imports.create_job(
            uow,
            principal=principal,
            settings=settings_of(request),
            data=bytes(data),
            filename=filename,
            default_country=country,
        )
    worker: imports.ImportWorker | None = getattr(request.app.state, "import_worker", None)
    if worker is not None:
        worker.wakeup.set()
    response.headers["Location"] = f"/v1/factory-imports/{job['id']}"
    return ImportJob(**job)


@router.get("", summary="Factory lists uploaded (newest first)")
async def list_imports(request: Request, principal: StaffPrincipal, page: PageQuery) -> Page[ImportJob]:
    async with database_of(request).unit_of_work() as uow:
        jobs, cursor = await imports.list_jobs(uow, principal=principal, settings=settings_of(request), page=page)
    return Page[ImportJob](items=[ImportJob(**j) for j in jobs], next_cursor=cursor)


@router.get("/{import_id}", summary="Progress of a factory list")
async def get_import(import_id: uuid.UUID, request: Request, principal: StaffPrincipal) -> ImportJob:
    async with database_of(request).unit_of_work() as uow:
        return ImportJob(**await imports.get_job(uow, principal=principal, job_id=import_id))


@router.get(
    "/{import_id}/results",
    summary="Per-row results as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "line, outcome, factory_id, score, review ..."}},
)
async def import_results(import_id: uuid.UUID, request: Request, principal: StaffPrincipal) -> Response:
    """created, matched (to `factory_id`), needs_review (`review_id`, and its decision once made), rejected (`reason`).

    Rows not yet processed say `pending`.
    """
    async with database_of(request).unit_of_work() as uow:
        body = await imports.results_csv(uow, principal=principal, job_id=import_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="factory-import-{import_id}-results.csv"'},
    )


@contextlib.asynccontextmanager
async def import_worker(app: FastAPI) -> AsyncIterator[None]:
    """Lifespan hook: the background worker that runs uploaded lists (and resumes interrupted ones)."""
    worker = imports.ImportWorker(app.state.database, app.state.settings)
    app.state.import_worker = worker
    await worker.start()
    try:
        yield
    finally:
        await worker.stop()
