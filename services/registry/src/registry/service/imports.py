"""Factory lists as jobs: upload one (stored whole, run in the background by `service/import_worker.py`),
watch its progress, read its per-row results."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from registry.adapters import imports as jobs
from registry.adapters.tables import SCHEMA
from registry.service.access import check_staff
from registry.service.import_csv import parse_csv, results_file
from registry.settings import RegistrySettings
from servicekit.audit import record_audits
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import NotFound
from servicekit.pagination import PageParams


async def create_job(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: RegistrySettings,
    data: bytes,
    filename: str | None,
    default_country: str | None,
) -> dict[str, Any]:
    check_staff(principal, settings.country)
    country = default_country.strip().upper() if default_country else None
    parsed = parse_csv(data, default_country=country, max_rows=settings.import_max_rows)
    job_id, now = uuid.uuid4(), datetime.now(UTC)
    job = {
        "id": job_id,
        "status": "queued",
        "filename": filename,
        "default_country": country,
        "total": len(parsed.rows),
        "principal": principal.as_public_dict(),
        "created_by": principal.subject,
        "created_at": now,
    }
    await jobs.insert_job(uow.session, job, parsed.rows)
    await record_audits(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        entries=[
            {
                "action": "factory_import.created",
                "entity_type": "factory_import",
                "entity_id": str(job_id),
                "details": {"filename": filename, "rows": len(parsed.rows), "ignored_columns": parsed.ignored_columns},
            }
        ],
    )
    await uow.commit()
    return await get_job(uow, principal=principal, job_id=job_id) | {"ignored_columns": parsed.ignored_columns}


async def get_job(uow: UnitOfWork, *, principal: Principal, job_id: uuid.UUID) -> dict[str, Any]:
    job = await jobs.load_job(uow.session, job_id)
    if job is None or not _may_see(principal, job):
        raise NotFound(f"No import {job_id}.")
    return _with_progress(job)


def _may_see(principal: Principal, job: dict[str, Any]) -> bool:
    if principal.is_admin:
        return True
    return Role.STAFF in principal.roles and job["principal"].get("country") == principal.country


def _with_progress(job: dict[str, Any]) -> dict[str, Any]:
    job = {k: v for k, v in job.items() if k != "principal"}
    total, processed = job["total"], job["processed"]
    job["percent"] = round(100 * processed / total, 1) if total else 100.0
    rate = None
    if job.get("started_at") and processed:
        end = job.get("finished_at") or datetime.now(UTC)
        elapsed = max((end - job["started_at"]).total_seconds(), 1e-3)
        rate = round(processed / elapsed, 1)
    job["rows_per_second"] = rate
    return job


async def list_jobs(
    uow: UnitOfWork, *, principal: Principal, settings: RegistrySettings, page: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    check_staff(principal, settings.country)
    country = None if principal.is_admin else principal.country
    found, cursor = await jobs.job_page(uow.session, country=country, page=page)
    return [_with_progress(job) for job in found], cursor


async def results_csv(uow: UnitOfWork, *, principal: Principal, job_id: uuid.UUID) -> str:
    """One line per row: created, matched to id, needs review (with the decision once made), rejected and why."""
    await get_job(uow, principal=principal, job_id=job_id)
    return results_file(await jobs.result_rows(uow.session, job_id))
