"""SQL of consents: load and save one, the consents between a buyer and a factory, those due to expire, pages."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, any_, literal, or_, select

from partnerships.adapters.audit import AuditTrail
from partnerships.adapters.links import visible_rows
from partnerships.adapters.tables import CONSENT
from partnerships.domain.relationships import Consent, ConsentState, Scope
from servicekit.auth import Principal
from servicekit.pagination import PageParams, paginate, resolve_sort


def _consent(row: Mapping[Any, Any]) -> Consent:
    return Consent(
        id=row["id"],
        factory_id=row["factory_id"],
        buyer_id=row["buyer_id"],
        scopes=[Scope(s) for s in row["scopes"]],
        granted_at=row["granted_at"],
        granted_by=row["granted_by"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        revoked_by=row["revoked_by"],
        revoke_reason=row["revoke_reason"],
    )


def _live(now: datetime) -> Any:
    return and_(CONSENT.c.revoked_at.is_(None), or_(CONSENT.c.expires_at.is_(None), CONSENT.c.expires_at > now))


class ConsentRepository(AuditTrail):
    """The consents of one unit of work (and the audit trail their changes write to)."""

    async def load(self, consent_id: uuid.UUID, *, for_update: bool = False) -> Consent | None:
        stmt = select(CONSENT).where(CONSENT.c.id == consent_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self.session.execute(stmt)).mappings().first()
        return _consent(row) if row is not None else None

    async def add(self, consent: Consent) -> None:
        await self.session.execute(
            CONSENT.insert().values(
                id=consent.id,
                factory_id=consent.factory_id,
                buyer_id=consent.buyer_id,
                scopes=[s.value for s in consent.scopes],
                granted_at=consent.granted_at,
                granted_by=consent.granted_by,
                expires_at=consent.expires_at,
            )
        )

    async def save_revocation(self, consent: Consent) -> None:
        await self.session.execute(
            CONSENT.update()
            .where(CONSENT.c.id == consent.id)
            .values(revoked_at=consent.revoked_at, revoked_by=consent.revoked_by, revoke_reason=consent.revoke_reason)
        )

    async def states_between(self, buyer_id: uuid.UUID, factory_id: uuid.UUID) -> list[ConsentState]:
        """Every consent the factory gave the buyer, current or not (the access decision reads them all)."""
        rows = await self.session.execute(
            select(CONSENT.c.scopes, CONSENT.c.expires_at, CONSENT.c.revoked_at).where(
                CONSENT.c.buyer_id == buyer_id, CONSENT.c.factory_id == factory_id
            )
        )
        return [ConsentState(frozenset(Scope(s) for s in r.scopes), r.expires_at, r.revoked_at) for r in rows]

    async def due_to_expire(self, now: datetime, *, limit: int) -> list[uuid.UUID]:
        """Consents not revoked whose time ran out."""
        rows = await self.session.execute(
            select(CONSENT.c.id).where(CONSENT.c.revoked_at.is_(None), CONSENT.c.expires_at <= now).limit(limit)
        )
        return list(rows.scalars())

    async def alert_buyers(self, factory_id: uuid.UUID, now: datetime) -> set[uuid.UUID]:
        """Buyers the factory currently consents to alert of zero-tolerance cases."""
        rows = await self.session.execute(
            select(CONSENT.c.buyer_id).where(
                CONSENT.c.factory_id == factory_id,
                _live(now),
                literal(Scope.ZERO_TOLERANCE_ALERTS.value) == any_(CONSENT.c.scopes),
            )
        )
        return set(rows.scalars())

    async def page(
        self,
        principal: Principal,
        page: PageParams,
        *,
        factory_id: uuid.UUID | None,
        buyer_id: uuid.UUID | None,
        current: bool | None,
        now: datetime,
    ) -> tuple[list[Consent], str | None]:
        order = resolve_sort(page.sort, {"granted_at": (CONSENT.c.granted_at, CONSENT.c.id)}, "-granted_at")
        conditions = [visible_rows(principal, CONSENT)]
        if factory_id:
            conditions.append(CONSENT.c.factory_id == factory_id)
        if buyer_id:
            conditions.append(CONSENT.c.buyer_id == buyer_id)
        if current is not None:
            conditions.append(_live(now) if current else ~_live(now))
        rows, cursor = await paginate(self.session, select(CONSENT).where(*conditions), order, page)
        return [_consent(r._mapping) for r in rows], cursor
