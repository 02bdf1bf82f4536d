"""SLCP exchange: import an SLCP assessment onto the factory's current tool (VRF data is verified and
immutable; the document's facility must be the factory's), and export a released assessment as Better Work
data mapped onto SLCP ids. Staff, and service clients of the country with `slcp:write` / `slcp:read`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from assessments.adapters import factory_refs, slcp_imports
from assessments.adapters.assessments import AssessmentRepository
from assessments.adapters.audit import audit
from assessments.adapters.findings import FindingRepository
from assessments.domain import slcp as rules
from assessments.domain.assessment import FactoryRef
from assessments.domain.lifecycle import VISIBLE_TO_FACTORY, Status
from assessments.domain.slcp import SlcpError, SlcpExport, SlcpImport, SlcpStatus
from assessments.service import tools
from assessments.service.factory_refs import known_factory
from assessments.service.scheduling import load, readable
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, Forbidden, NotFound, Unprocessable


@dataclass(frozen=True)
class ImportResult:
    imported: SlcpImport
    conflicts: list[str]  # tool questions two SLCP answers disagreed on (left out)
    repeat: bool  # the same verified document was imported before; nothing changed


SLCP_WRITE = "slcp:write"  # a service client that pushes SLCP assessments
SLCP_READ = "slcp:read"  # a service client that pulls exports of released assessments


def _service_client(principal: Principal) -> bool:
    return Role.SERVICE in principal.roles and not principal.is_admin and Role.STAFF not in principal.roles


def _check_scope(principal: Principal) -> None:
    """A service client imports only with `slcp:write` (403, whatever the document names)."""
    if _service_client(principal) and not principal.has_scopes(SLCP_WRITE):
        raise Forbidden(f"An SLCP import needs the scope {SLCP_WRITE}.")


def _may_import_for(principal: Principal, country: str) -> bool:
    """Staff of the factory's country, or a service client of that country (its scope checked before)."""
    if _service_client(principal):
        return principal.country == country
    return principal.is_staff_of(country)


async def _factory_of(
    uow: UnitOfWork, principal: Principal, document: dict[str, Any], factory_id: uuid.UUID | None
) -> FactoryRef:
    """The factory named, or else the one carrying the document's facility id as its SLCP facility id; a factory
    the caller may not import for is answered as one that does not exist."""
    if factory_id is not None:
        factory = await known_factory(uow, factory_id)
        if not _may_import_for(principal, factory.country):
            raise Conflict(
                f"Factory {factory_id} is not known here yet (the registry's events may still be on their way)."
            )
        return factory
    found = await factory_refs.carrying_slcp_facility(uow.session, document["facility_id"])
    carrier = await known_factory(uow, found) if found is not None else None
    if carrier is None or not _may_import_for(principal, carrier.country):
        raise Conflict(
            f"No factory carries SLCP facility id {document['facility_id']}; give `factory_id` or add the id "
            "to the factory in the registry."
        )
    return carrier


async def import_slcp(
    uow: UnitOfWork, *, principal: Principal, document: dict[str, Any], factory_id: uuid.UUID | None
) -> ImportResult:
    """Store an SLCP assessment, map it onto the factory's current tool; VRF data is verified and immutable."""
    status = SlcpStatus(document["status"])
    _check_scope(principal)
    factory = await _factory_of(uow, principal, document, factory_id)
    if factory.slcp_facility_id != document["facility_id"]:
        raise Conflict(
            f"The document is about SLCP facility {document['facility_id']}, but factory {factory.factory_id} "
            + (
                f"carries {factory.slcp_facility_id} in the registry."
                if factory.slcp_facility_id
                else "has no SLCP facility id in the registry; add it there first."
            ),
            facility_id=document["facility_id"],
            factory_slcp_facility_id=factory.slcp_facility_id,
        )
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
    client_of_country = (
        _service_client(principal)
        and principal.country == factory.country
        and (principal.has_scopes(SLCP_WRITE) or principal.has_scopes(SLCP_READ))
    )
    if not (principal.is_staff_of(factory.country) or client_of_country):
        raise NotFound(f"No SLCP import {import_id}.")
    return ImportResult(imported, [], repeat=False)


async def export_slcp(uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID) -> SlcpExport:
    """A released assessment as answers to SLCP questions, saying it is Better Work data, not SLCP-verified. Read
    by whoever may read the report, and by service clients of the country holding `slcp:read`."""
    if _service_client(principal):
        assessment = await load(AssessmentRepository(uow.session), assessment_id)
        if not (principal.has_scopes(SLCP_READ) and principal.country == assessment.country):
            raise NotFound(f"No assessment {assessment_id}.")
        if assessment.status not in VISIBLE_TO_FACTORY:
            raise NotFound(f"No assessment {assessment_id}.")
    else:
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
    answers = rules.export_answers(tool, results)
    return SlcpExport(
        assessment_id=f"BW-{assessment_id}",
        facility_id=factory.slcp_facility_id,
        assessment_status="finalised" if finalised else "released",
        status_date=when.date(),
        sector=tool.sector,
        answers=answers,
        unconfirmed_question_ids=[a["question_id"] for a in answers if not a["id_confirmed"]],
    )
