"""SLCP exchange over HTTP: import an SLCP assessment, read an import, export a released assessment."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter

from assessments.api.slcp_schemas import SlcpExportOut, SlcpImportIn, SlcpImportOut
from assessments.service import slcp
from servicekit.auth import Principal, Role
from servicekit.edge import AnyPrincipal, UnitOfWorkDep, principal_with
from servicekit.errors import PROBLEM_RESPONSES

router = APIRouter(responses=PROBLEM_RESPONSES)

# staff of the country, or a service client (an SLCP integration) of it holding `slcp:write` / `slcp:read`
StaffOrSlcpClient = Annotated[Principal, principal_with(Role.STAFF, Role.SERVICE)]


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
async def import_slcp(body: SlcpImportIn, uow: UnitOfWorkDep, caller: StaffOrSlcpClient) -> SlcpImportOut:
    """Staff, or a service client with `slcp:write`, of the factory's country. The document's `facility_id` must
    be the factory's SLCP facility id in the registry (409 otherwise)."""
    document = body.model_dump(mode="json", exclude={"factory_id"})
    return _import_out(await slcp.import_slcp(uow, principal=caller, document=document, factory_id=body.factory_id))


@router.get("/v1/slcp/imports/{import_id}", tags=["SLCP"], summary="One SLCP import")
async def get_slcp_import(import_id: uuid.UUID, uow: UnitOfWorkDep, caller: StaffOrSlcpClient) -> SlcpImportOut:
    return _import_out(await slcp.get_import(uow, principal=caller, import_id=import_id))


@router.get("/v1/assessments/{assessment_id}/slcp", tags=["SLCP"], summary="A released assessment mapped onto SLCP ids")
async def export_slcp(assessment_id: uuid.UUID, uow: UnitOfWorkDep, principal: AnyPrincipal) -> SlcpExportOut:
    """Whoever may read the report, and service clients of the country with `slcp:read`. Better Work data, not
    an SLCP-verified assessment (`slcp_verified: false`); answers follow each question's polarity; unverified
    SLCP ids are listed in `unconfirmed_question_ids`."""
    return SlcpExportOut.of(await slcp.export_slcp(uow, principal=principal, assessment_id=assessment_id))
