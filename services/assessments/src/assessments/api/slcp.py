"""SLCP exchange over HTTP: import an SLCP assessment, read an import, export a released assessment."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from assessments.api.schemas import SlcpDocument, SlcpImportIn, SlcpImportOut
from assessments.service import slcp
from servicekit.edge import AnyPrincipal, StaffPrincipal, UnitOfWorkDep
from servicekit.errors import PROBLEM_RESPONSES

router = APIRouter(responses=PROBLEM_RESPONSES)


def _import_out(result: slcp.ImportResult) -> SlcpImportOut:
    imported = result.imported
    return SlcpImportOut(
        id=imported.id,
        slcp_assessment_id=imported.slcp_assessment_id,
        facility_id=imported.facility_id,
        factory_id=imported.factory_id,
        status=imported.status,
        verified=imported.verified,
        tool_version_id=imported.tool_version_id,
        findings=imported.findings,
        unmapped=imported.unmapped,
        conflicts=result.conflicts,
        repeat=result.repeat,
        imported_at=imported.imported_at,
    )


@router.post("/v1/slcp/imports", status_code=201, tags=["SLCP"], summary="Import an SLCP assessment")
async def import_slcp(body: SlcpImportIn, uow: UnitOfWorkDep, staff: StaffPrincipal) -> SlcpImportOut:
    document = body.model_dump(mode="json", exclude={"factory_id"})
    return _import_out(await slcp.import_slcp(uow, principal=staff, document=document, factory_id=body.factory_id))


@router.get("/v1/slcp/imports/{import_id}", tags=["SLCP"], summary="One SLCP import")
async def get_slcp_import(import_id: uuid.UUID, uow: UnitOfWorkDep, staff: StaffPrincipal) -> SlcpImportOut:
    return _import_out(await slcp.get_import(uow, principal=staff, import_id=import_id))


@router.get("/v1/assessments/{assessment_id}/slcp", tags=["SLCP"], summary="A released assessment in SLCP format")
async def export_slcp(assessment_id: uuid.UUID, uow: UnitOfWorkDep, principal: AnyPrincipal) -> SlcpDocument:
    return SlcpDocument.of(await slcp.export_slcp(uow, principal=principal, assessment_id=assessment_id))
