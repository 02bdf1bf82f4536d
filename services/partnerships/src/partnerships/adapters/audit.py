"""The audit trail of partnerships: who changed what, written in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from partnerships.adapters.tables import SCHEMA
from servicekit.audit import record_audit
from servicekit.auth import Principal


class AuditTrail:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        actor: Principal,
        *,
        action: str,
        entity_type: str,
        entity_id: object,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        country: str | None = None,
    ) -> None:
        """One audit row; `country` (default: the actor's) is the programme whose staff may read it."""
        await record_audit(
            self.session,
            schema=SCHEMA,
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            reason=reason,
            details=details,
            country=country,
        )
