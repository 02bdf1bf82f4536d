"""SLCP exchange: import an SLCP assessment onto the factory's current tool (VRF data is verified and
immutable), and export a released assessment in the same format."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from assessments.adapters import factory_refs, slcp_imports
from assessments.adapters.audit import audit
from assessments.adapters.findings import FindingRepository
from assessments.domain import slcp as rules
from assessments.domain.lifecycle import VISIBLE_TO_FACTORY, Status
from assessments.domain.slcp import SlcpError, SlcpExport, SlcpImport, SlcpStatus
from assessments.service import tools
from assessments.service.factory_refs import known_factory
from assessments.service.scheduling import readable
from servicekit.auth import Principal, check_staff
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, NotFound, Unprocessable


@dataclass(frozen=True)
class ImportResult:
    imported: SlcpImport
    conflicts: list[str]  # tool questions two SLCP answers disagreed on (left out)
    repeat: bool  # the same verified document was imported before; nothing changed


async def _factory_of(uow: UnitOfWork, document: dict[str, Any], factory_id: uuid.UUID | None) -> uuid.UUID:
    """The factory named, or else the one carrying the document's facility id as its SLCP facility id."""
    if factory_id is not None:
        return factory_id
    found = await factory_refs.carrying_slcp_facility(uow.session, document["facility_id"])
    if found is None:
        raise Conflict(
            f"No factory carries SLCP facility id {document['facility_id']}; give `factory_id` or add the id "
            "to the factory in the registry."
        )
    return found


async def import_slcp(
    uow: UnitOfWork, *, principal: Principal, document: dict[str, Any], factory_id: uuid.UUID | None
) -> ImportResult:
    """Store an SLCP assessment, map it onto the factory's current tool; VRF data is verified and immutable."""
    status = SlcpStatus(document["status"])
    factory = await known_factory(uow, await _factory_of(uow, document, factory_id))
    check_staff(principal, factory.country)
    earlier = await slcp_imports.verified(uow.session, document["assessment_id"])
    if earlier is not None:
        try:
            rules.check_reimport(earlier, document)
        except SlcpError as exc:
            raise Conflict(str(exc), import_id=str(earlier.id)) from exc
        return ImportResult(earlier, [], repeat=True)
    version = await tools.current(uow, factory.country, document.get("sector") or "garment")
    _, tool = await tools.load_tool(uow, version.id)
    mapped = rules.map_answers(tool, document["answers"])
    imported = SlcpImport(
        id=uuid.uuid4(),
        slcp_assessment_id=document["assessment_id"],
        facility_id=document["facility_id"],
        factory_id=factory.factory_id,
        status=status,
        verified=status.verified,
        tool_version_id=version.id,
        document=document,
        findings=mapped.findings,
        unmapped=mapped.unmapped,
        imported_at=datetime.now(UTC),
        imported_by=principal.subject,
    )
    await slcp_imports.add(uow.session, imported)
    await audit(
        uow.session,
        principal,
        action="slcp.imported",
        entity_type="slcp_import",
        entity_id=str(imported.id),
        details={"status": status.value, "mapped": len(mapped.findings), "unmapped": len(mapped.unmapped)},
    )
    await uow.commit()
    return ImportResult(imported, mapped.conflicts, repeat=False)


async def get_import(uow: UnitOfWork, *, principal: Principal, import_id: uuid.UUID) -> ImportResult:
    imported = await slcp_imports.load(uow.session, import_id)
    if imported is None:
        raise NotFound(f"No SLCP import {import_id}.")
    factory = await known_factory(uow, imported.factory_id)
    if not principal.is_staff_of(factory.country):
        raise NotFound(f"No SLCP import {import_id}.")
    return ImportResult(imported, [], repeat=False)


async def export_slcp(uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID) -> SlcpExport:
    """A released assessment as SLCP answers: VRC once released, VRF once finalised."""
    assessment = await readable(uow, principal, assessment_id)
    if assessment.status not in VISIBLE_TO_FACTORY:
        raise Conflict("Only a released assessment is exported.", current_status=assessment.status.value)
    _, tool = await tools.load_tool(uow, assessment.tool_version_id)
    results = (await FindingRepository(uow.session).results_of([assessment_id]))[assessment_id]
    factory = await factory_refs.load(uow.session, assessment.factory_id)
    if factory is None or not factory.slcp_facility_id:
        raise Unprocessable("The factory has no SLCP facility id in the registry; add it there first.")
    finalised = assessment.status is Status.FINALISED
    when = assessment.finalised_at if finalised else assessment.released_at
    assert when is not None
    return SlcpExport(
        assessment_id=f"BW-{assessment_id}",
        facility_id=factory.slcp_facility_id,
        status="VRF" if finalised else "VRC",
        status_date=when.date(),
        verifier="Better Work",
        sector=tool.sector,
        answers=rules.export_answers(tool, results),
    )
