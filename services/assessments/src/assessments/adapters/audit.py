"""The audit trail of the assessments schema: who did what to which record, in the transaction of the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from assessments.adapters.tables import SCHEMA
from servicekit.audit import record_audit
from servicekit.auth import Principal


async def audit(
    session: AsyncSession,
    actor: Principal,
    *,
    action: str,
    entity_type: str,
    entity_id: str,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await record_audit(
        session,
        schema=SCHEMA,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        reason=reason,
        details=details,
    )
