"""SQL of SLCP imports."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from assessments.adapters.tables import SLCP_IMPORT
from assessments.domain.lifecycle import Result
from assessments.domain.slcp import SlcpImport, SlcpStatus


def _import_of(row: Any) -> SlcpImport:
    return SlcpImport(
        id=row["id"],
        slcp_assessment_id=row["slcp_assessment_id"],
        facility_id=row["facility_id"],
        factory_id=row["factory_id"],
        status=SlcpStatus(row["status"]),
        verified=row["verified"],
        tool_version_id=row["tool_version_id"],
        document=row["document"],
        findings={code: Result(result) for code, result in (row["findings"] or {}).items()},
        unmapped=list(row["unmapped"] or ()),
        imported_at=row["imported_at"],
        imported_by=row["imported_by"],
    )


async def load(session: AsyncSession, import_id: uuid.UUID) -> SlcpImport | None:
    row = (await session.execute(select(SLCP_IMPORT).where(SLCP_IMPORT.c.id == import_id))).mappings().first()
    return _import_of(row) if row is not None else None


async def verified(session: AsyncSession, slcp_assessment_id: str) -> SlcpImport | None:
    """The verified (VRF) import of an SLCP assessment, if there is one."""
    stmt = (
        select(SLCP_IMPORT)
        .where(SLCP_IMPORT.c.slcp_assessment_id == slcp_assessment_id, SLCP_IMPORT.c.verified.is_(True))
        .limit(1)
    )
    row = (await session.execute(stmt)).mappings().first()
    return _import_of(row) if row is not None else None


async def add(session: AsyncSession, imported: SlcpImport) -> None:
    await session.execute(
        SLCP_IMPORT.insert().values(
            id=imported.id,
            slcp_assessment_id=imported.slcp_assessment_id,
            facility_id=imported.facility_id,
            factory_id=imported.factory_id,
            status=imported.status.value,
            verified=imported.verified,
            tool_version_id=imported.tool_version_id,
            document=imported.document,
            findings={code: result.value for code, result in imported.findings.items()},
            unmapped=imported.unmapped,
            imported_at=imported.imported_at,
            imported_by=imported.imported_by,
        )
    )
