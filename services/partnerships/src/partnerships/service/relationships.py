"""Use cases of buyers, sourcing links, consent, entitlements and the access decision they add up to.

Every change that can open or close a buyer's view of a factory ends in `recompute_access`, which
compares the decision with the one last published and publishes `report_access.granted` or
`report_access.revoked` for each cycle that changed, in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, any_, literal, or_, select
from sqlalchemy.dialects.postgresql import insert

from betterwork_contracts.events.partnerships import (
    BuyerRegistered,
    BuyerTierChanged,
    ConsentGranted,
    ConsentRevoked,
    ReportAccessGranted,
    ReportAccessRevoked,
    SourcingLinkChanged,
)
from partnerships.adapters.tables import (
    BUYER,
    BUYER_TIER_CHANGE,
    CONSENT,
    ENTITLEMENT,
    FACTORY_REF,
    REPORT_ACCESS,
    SCHEMA,
    SOURCING_LINK,
)
from partnerships.domain.relationships import (
    ConsentState,
    LinkStatus,
    RuleError,
    Scope,
    Side,
    Tier,
    check_confirmation,
    check_consent,
    check_end,
    check_tier_change,
    may_read_reports,
)
from servicekit.audit import record_audit
from servicekit.auth import Principal, Role, check_staff
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, Forbidden, NotFound
from servicekit.pagination import PageParams, paginate, resolve_sort


def _now() -> datetime:
    return datetime.now(UTC)


# ---- who is asking ------------------------------------------------------------------------------------------------


async def factory(uow: UnitOfWork, factory_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        (await uow.session.execute(select(FACTORY_REF).where(FACTORY_REF.c.factory_id == factory_id)))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def visible_factory(uow: UnitOfWork, principal: Principal, factory_id: uuid.UUID) -> dict[str, Any]:
    """The factory if the caller may act on its relationships: staff of its country, or the factory itself."""
    found = await factory(uow, factory_id)
    if found is not None and (
        principal.is_admin
        or principal.staff_country == found["country"]
        or principal.organisation(Role.FACTORY) == factory_id
    ):
        return found
    if found is not None and principal.organisation(Role.BUYER) is not None:
        return found  # buyers name factories to link to; what they then see is their own link only
    raise NotFound(f"No factory {factory_id}.")


# ---- buyers -------------------------------------------------------------------------------------------------------


async def register_buyer(uow: UnitOfWork, *, principal: Principal, values: dict[str, Any]) -> dict[str, Any]:
    check_staff(principal)
    now = _now()
    row = {
        "id": uuid.uuid4(),
        "name": values["name"],
        "headquarters_country": values["headquarters_country"],
        "tier": values["tier"],
        "agreement_signed_on": values.get("agreement_signed_on"),
        "agreement_commitments": values.get("agreement_commitments") or [],
        "agreement_review_date": values.get("agreement_review_date"),
        "contacts": values.get("contacts") or [],
        "version": 1,
        "created_at": now,
        "created_by": principal.subject,
        "updated_at": now,
    }
    await uow.session.execute(BUYER.insert().values(**row))
    await uow.session.execute(
        BUYER_TIER_CHANGE.insert().values(
            buyer_id=row["id"],
            from_tier=None,
            to_tier=row["tier"],
            at=now,
            by_subject=principal.subject,
            reason="registered",
        )
    )
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="buyer.registered",
        entity_type="buyer",
        entity_id=str(row["id"]),
    )
    uow.emit(
        BuyerRegistered.model_validate(
            {
                "buyer_id": row["id"],
                "name": row["name"],
                "headquarters_country": row["headquarters_country"],
                "tier": row["tier"],
                "registered_at": now,
            }
        )
    )
    await uow.commit()
    return row


async def get_buyer(uow: UnitOfWork, *, principal: Principal, buyer_id: uuid.UUID) -> dict[str, Any]:
    """Staff see every buyer; a buyer's users see their own organisation; anyone else is told there is none."""
    if not (principal.is_admin or principal.staff_country or principal.organisation(Role.BUYER) == buyer_id):
        raise NotFound(f"No buyer {buyer_id}.")
    row = (await uow.session.execute(select(BUYER).where(BUYER.c.id == buyer_id))).mappings().first()
    if row is None:
        raise NotFound(f"No buyer {buyer_id}.")
    history = await uow.session.execute(
        select(BUYER_TIER_CHANGE).where(BUYER_TIER_CHANGE.c.buyer_id == buyer_id).order_by(BUYER_TIER_CHANGE.c.id)
    )
    return {**dict(row), "tier_history": [dict(h) for h in history.mappings()]}


async def list_buyers(
    uow: UnitOfWork, *, principal: Principal, tier: str | None, page: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    order = resolve_sort(page.sort, {"name": (BUYER.c.name, BUYER.c.id)}, "name")
    conditions = []
    if not (principal.is_admin or principal.staff_country):
        own = principal.organisation(Role.BUYER)
        if own is None:
            raise Forbidden("Only staff and buyers list buyers.")
        conditions.append(BUYER.c.id == own)
    if tier:
        conditions.append(BUYER.c.tier == tier)
    rows, cursor = await paginate(uow.session, select(BUYER).where(*conditions), order, page)
    return [dict(r._mapping) for r in rows], cursor


async def update_buyer(
    uow: UnitOfWork, *, principal: Principal, buyer_id: uuid.UUID, values: dict[str, Any]
) -> dict[str, Any]:
    check_staff(principal)
    row = (await uow.session.execute(select(BUYER).where(BUYER.c.id == buyer_id).with_for_update())).mappings().first()
    if row is None:
        raise NotFound(f"No buyer {buyer_id}.")
    changes = {k: v for k, v in values.items() if k != "tier"}
    now = _now()
    if "tier" in values and values["tier"] != row["tier"]:
        try:
            check_tier_change(Tier(row["tier"]), Tier(values["tier"]))
        except RuleError as exc:
            raise Conflict(str(exc)) from exc
        changes["tier"] = values["tier"]
        await uow.session.execute(
            BUYER_TIER_CHANGE.insert().values(
                buyer_id=buyer_id,
                from_tier=row["tier"],
                to_tier=values["tier"],
                at=now,
                by_subject=principal.subject,
                reason=values.get("tier_reason"),
            )
        )
        uow.emit(
            BuyerTierChanged.model_validate(
                {"buyer_id": buyer_id, "tier": values["tier"], "previous_tier": row["tier"], "changed_at": now}
            )
        )
    changes.pop("tier_reason", None)
    if changes:
        await uow.session.execute(
            BUYER.update().where(BUYER.c.id == buyer_id).values(**changes, version=row["version"] + 1, updated_at=now)
        )
        await record_audit(
            uow.session,
            schema=SCHEMA,
            actor=principal,
            action="buyer.updated",
            entity_type="buyer",
            entity_id=str(buyer_id),
            reason=values.get("tier_reason"),
            details={"changed": sorted(changes)},
        )
    await uow.commit()
    return await get_buyer(uow, principal=principal, buyer_id=buyer_id)


# ---- sourcing links -----------------------------------------------------------------------------------------------


def _side(principal: Principal, buyer_id: uuid.UUID, factory_id: uuid.UUID, factory_country: str) -> Side:
    """Which side the caller speaks for on this link; anyone else may not touch it."""
    if principal.organisation(Role.BUYER) == buyer_id:
        return Side.BUYER
    if principal.organisation(Role.FACTORY) == factory_id:
        return Side.FACTORY
    if principal.is_admin or principal.staff_country == factory_country:
        return Side.STAFF
    raise NotFound("No such sourcing link.")


def _link_event(link: dict[str, Any], now: datetime) -> SourcingLinkChanged:
    return SourcingLinkChanged.model_validate(
        {
            "link_id": link["id"],
            "buyer_id": link["buyer_id"],
            "factory_id": link["factory_id"],
            "status": link["status"],
            "start_date": link["start_date"],
            "end_date": link["end_date"],
            "changed_at": now,
        }
    )


async def declare_link(
    uow: UnitOfWork, *, principal: Principal, buyer_id: uuid.UUID, factory_id: uuid.UUID, start_date: date | None
) -> dict[str, Any]:
    found = await visible_factory(uow, principal, factory_id)
    side = _side(principal, buyer_id, factory_id, found["country"])
    if (await uow.session.execute(select(BUYER.c.id).where(BUYER.c.id == buyer_id))).first() is None:
        raise NotFound(f"No buyer {buyer_id}.")
    now = _now()
    link = {
        "id": uuid.uuid4(),
        "buyer_id": buyer_id,
        "factory_id": factory_id,
        "status": LinkStatus.CONFIRMED.value if side is Side.STAFF else LinkStatus.DECLARED.value,
        "declared_by": side.value,
        "declared_by_subject": principal.subject,
        "confirmed_by": Side.STAFF.value if side is Side.STAFF else None,
        "confirmed_by_subject": principal.subject if side is Side.STAFF else None,
        "confirmed_at": now if side is Side.STAFF else None,
        "start_date": start_date,
        "end_date": None,
        "created_at": now,
        "updated_at": now,
    }
    open_link = await uow.session.execute(
        select(SOURCING_LINK.c.id).where(
            SOURCING_LINK.c.buyer_id == buyer_id,
            SOURCING_LINK.c.factory_id == factory_id,
            SOURCING_LINK.c.status != "ended",
        )
    )
    existing = open_link.scalar()
    if existing is not None:
        raise Conflict(
            f"Buyer {buyer_id} and factory {factory_id} already have link {existing}.", link_id=str(existing)
        )
    await uow.session.execute(SOURCING_LINK.insert().values(**link))
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action=f"sourcing_link.{link['status']}",
        entity_type="sourcing_link",
        entity_id=str(link["id"]),
    )
    uow.emit(_link_event(link, now))
    await uow.commit()
    return link


async def _load_link(uow: UnitOfWork, principal: Principal, link_id: uuid.UUID) -> tuple[dict[str, Any], Side]:
    row = (
        (await uow.session.execute(select(SOURCING_LINK).where(SOURCING_LINK.c.id == link_id).with_for_update()))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"No sourcing link {link_id}.")
    found = await factory(uow, row["factory_id"])
    try:
        side = _side(principal, row["buyer_id"], row["factory_id"], found["country"] if found else "")
    except NotFound:
        raise NotFound(f"No sourcing link {link_id}.") from None
    return dict(row), side


async def confirm_link(uow: UnitOfWork, *, principal: Principal, link_id: uuid.UUID) -> dict[str, Any]:
    link, side = await _load_link(uow, principal, link_id)
    try:
        check_confirmation(LinkStatus(link["status"]), Side(link["declared_by"]), side)
    except RuleError as exc:
        raise Conflict(str(exc)) from exc
    now = _now()
    changes = {
        "status": "confirmed",
        "confirmed_by": side.value,
        "confirmed_by_subject": principal.subject,
        "confirmed_at": now,
        "updated_at": now,
    }
    await uow.session.execute(SOURCING_LINK.update().where(SOURCING_LINK.c.id == link_id).values(**changes))
    link |= changes
    await record_audit(
        uow.session, schema=SCHEMA, actor=principal, action="sourcing_link.confirmed", entity_type="sourcing_link",
        entity_id=str(link_id),
    )  # fmt: skip
    uow.emit(_link_event(link, now))
    await uow.commit()
    return link


async def end_link(uow: UnitOfWork, *, principal: Principal, link_id: uuid.UUID, end_date: date) -> dict[str, Any]:
    link, _ = await _load_link(uow, principal, link_id)
    try:
        check_end(LinkStatus(link["status"]), link["start_date"], end_date)
    except RuleError as exc:
        raise Conflict(str(exc)) from exc
    now = _now()
    changes = {"status": "ended", "end_date": end_date, "updated_at": now}
    await uow.session.execute(SOURCING_LINK.update().where(SOURCING_LINK.c.id == link_id).values(**changes))
    link |= changes
    await record_audit(
        uow.session, schema=SCHEMA, actor=principal, action="sourcing_link.ended", entity_type="sourcing_link",
        entity_id=str(link_id),
    )  # fmt: skip
    uow.emit(_link_event(link, now))
    await uow.commit()
    return link


def _relationship_filter(principal: Principal, table: Any) -> Any:
    """Rows the caller may see: its own buyer's or factory's, or every one of a staff member's country."""
    if principal.is_admin:
        return True
    clauses = []
    buyer = principal.organisation(Role.BUYER)
    if buyer is not None:
        clauses.append(table.c.buyer_id == buyer)
    own_factory = principal.organisation(Role.FACTORY)
    if own_factory is not None:
        clauses.append(table.c.factory_id == own_factory)
    country = principal.staff_country
    if country:
        clauses.append(table.c.factory_id.in_(select(FACTORY_REF.c.factory_id).where(FACTORY_REF.c.country == country)))
    if not clauses:
        raise Forbidden("Only staff, buyers and factories see sourcing links and consents.")
    return or_(*clauses)


async def list_links(
    uow: UnitOfWork,
    *,
    principal: Principal,
    buyer_id: uuid.UUID | None,
    factory_id: uuid.UUID | None,
    status: str | None,
    page: PageParams,
) -> tuple[list[dict[str, Any]], str | None]:
    order = resolve_sort(page.sort, {"created_at": (SOURCING_LINK.c.created_at, SOURCING_LINK.c.id)}, "-created_at")
    conditions = [_relationship_filter(principal, SOURCING_LINK)]
    if buyer_id:
        conditions.append(SOURCING_LINK.c.buyer_id == buyer_id)
    if factory_id:
        conditions.append(SOURCING_LINK.c.factory_id == factory_id)
    if status:
        conditions.append(SOURCING_LINK.c.status == status)
    rows, cursor = await paginate(uow.session, select(SOURCING_LINK).where(*conditions), order, page)
    return [dict(r._mapping) for r in rows], cursor


# ---- consent --------------------------------------------------------------------------------------------------------


def _consent_side(principal: Principal, factory_id: uuid.UUID, country: str) -> None:
    """A factory manages its own consents; staff of its country may record one on its behalf."""
    if principal.organisation(Role.FACTORY) == factory_id or principal.is_admin or principal.staff_country == country:
        return
    raise NotFound(f"No factory {factory_id}.")


async def grant_consent(
    uow: UnitOfWork,
    *,
    principal: Principal,
    factory_id: uuid.UUID,
    buyer_id: uuid.UUID,
    scopes: list[Scope],
    expires_at: datetime | None,
) -> dict[str, Any]:
    found = await factory(uow, factory_id)
    if found is None:
        raise NotFound(f"No factory {factory_id}.")
    _consent_side(principal, factory_id, found["country"])
    if (await uow.session.execute(select(BUYER.c.id).where(BUYER.c.id == buyer_id))).first() is None:
        raise NotFound(f"No buyer {buyer_id}.")
    now = _now()
    try:
        check_consent(scopes, expires_at, now)
    except RuleError as exc:
        raise Conflict(str(exc)) from exc
    row = {
        "id": uuid.uuid4(),
        "factory_id": factory_id,
        "buyer_id": buyer_id,
        "scopes": sorted(s.value for s in scopes),
        "granted_at": now,
        "granted_by": principal.subject,
        "expires_at": expires_at,
        "revoked_at": None,
        "revoked_by": None,
        "revoke_reason": None,
    }
    await uow.session.execute(CONSENT.insert().values(**row))
    await record_audit(
        uow.session, schema=SCHEMA, actor=principal, action="consent.granted", entity_type="consent",
        entity_id=str(row["id"]), details={"buyer_id": str(buyer_id), "scopes": row["scopes"]},
    )  # fmt: skip
    uow.emit(
        ConsentGranted.model_validate(
            {
                "consent_id": row["id"],
                "buyer_id": buyer_id,
                "factory_id": factory_id,
                "scopes": row["scopes"],
                "expires_at": expires_at,
                "granted_at": now,
            }
        )
    )
    await recompute_access(uow, buyer_id=buyer_id, factory_id=factory_id, now=now)
    await uow.commit()
    return row


async def revoke_consent(
    uow: UnitOfWork, *, principal: Principal | None, consent_id: uuid.UUID, reason: str = "revoked"
) -> dict[str, Any]:
    """Revoked by the factory (or staff), or expired (principal None: the expiry sweep); effective at once."""
    row = (
        (await uow.session.execute(select(CONSENT).where(CONSENT.c.id == consent_id).with_for_update()))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"No consent {consent_id}.")
    if principal is not None:
        found = await factory(uow, row["factory_id"])
        try:
            _consent_side(principal, row["factory_id"], found["country"] if found else "")
        except NotFound:
            raise NotFound(f"No consent {consent_id}.") from None
    if row["revoked_at"] is not None:
        raise Conflict(f"Consent {consent_id} was already {row['revoke_reason']}.")
    now = _now()
    subject = principal.subject if principal else "system:consent-expiry"
    await uow.session.execute(
        CONSENT.update()
        .where(CONSENT.c.id == consent_id)
        .values(revoked_at=now, revoked_by=subject, revoke_reason=reason)
    )
    uow.emit(
        ConsentRevoked.model_validate(
            {
                "consent_id": consent_id,
                "buyer_id": row["buyer_id"],
                "factory_id": row["factory_id"],
                "reason": reason,
                "revoked_at": now,
            }
        )
    )
    await recompute_access(uow, buyer_id=row["buyer_id"], factory_id=row["factory_id"], now=now)
    if principal is not None:
        await record_audit(
            uow.session, schema=SCHEMA, actor=principal, action="consent.revoked", entity_type="consent",
            entity_id=str(consent_id),
        )  # fmt: skip
    await uow.commit()
    return {**dict(row), "revoked_at": now, "revoked_by": subject, "revoke_reason": reason}


async def expire_consents(uow: UnitOfWork) -> int:
    """Consents whose time ran out are revoked as expired (closing access at once); returns how many."""
    due = (
        (
            await uow.session.execute(
                select(CONSENT.c.id).where(CONSENT.c.revoked_at.is_(None), CONSENT.c.expires_at <= _now()).limit(500)
            )
        )
        .scalars()
        .all()
    )
    for consent_id in due:
        await revoke_consent(uow, principal=None, consent_id=consent_id, reason="expired")
    return len(due)


async def list_consents(
    uow: UnitOfWork,
    *,
    principal: Principal,
    factory_id: uuid.UUID | None,
    buyer_id: uuid.UUID | None,
    current: bool | None,
    page: PageParams,
) -> tuple[list[dict[str, Any]], str | None]:
    """The full history: granted, expired and revoked consents alike."""
    order = resolve_sort(page.sort, {"granted_at": (CONSENT.c.granted_at, CONSENT.c.id)}, "-granted_at")
    conditions = [_relationship_filter(principal, CONSENT)]
    if factory_id:
        conditions.append(CONSENT.c.factory_id == factory_id)
    if buyer_id:
        conditions.append(CONSENT.c.buyer_id == buyer_id)
    if current is not None:
        live = and_(CONSENT.c.revoked_at.is_(None), or_(CONSENT.c.expires_at.is_(None), CONSENT.c.expires_at > _now()))
        conditions.append(live if current else ~live)
    rows, cursor = await paginate(uow.session, select(CONSENT).where(*conditions), order, page)
    return [dict(r._mapping) for r in rows], cursor


# ---- entitlements and the access decision ------------------------------------------------------------------


async def add_entitlement(
    uow: UnitOfWork,
    *,
    subject: str,
    buyer_id: uuid.UUID,
    factory_id: uuid.UUID,
    cycle: int,
    source: str,
    external_id: uuid.UUID | None = None,
) -> dict[str, Any] | None:
    """A reporting cycle unlocked for a buyer (staff grant, credit or payment); None if it was already."""
    now = _now()
    stmt = (
        insert(ENTITLEMENT)
        .values(
            id=uuid.uuid4(),
            buyer_id=buyer_id,
            factory_id=factory_id,
            cycle=cycle,
            source=source,
            external_id=external_id,
            granted_at=now,
            granted_by=subject,
        )
        .on_conflict_do_nothing()
        .returning(*ENTITLEMENT.c)
    )
    row = (await uow.session.execute(stmt)).mappings().first()
    if row is None:
        return None
    await recompute_access(uow, buyer_id=buyer_id, factory_id=factory_id, now=now)
    return dict(row)


async def grant_entitlement(
    uow: UnitOfWork, *, principal: Principal, buyer_id: uuid.UUID, factory_id: uuid.UUID, cycle: int
) -> dict[str, Any]:
    check_staff(principal)
    found = await factory(uow, factory_id)
    if found is None or not (principal.is_admin or principal.staff_country == found["country"]):
        raise NotFound(f"No factory {factory_id}.")
    if (await uow.session.execute(select(BUYER.c.id).where(BUYER.c.id == buyer_id))).first() is None:
        raise NotFound(f"No buyer {buyer_id}.")
    row = await add_entitlement(
        uow, subject=principal.subject, buyer_id=buyer_id, factory_id=factory_id, cycle=cycle, source="staff"
    )
    if row is None:
        raise Conflict(f"Buyer {buyer_id} is already entitled to cycle {cycle} of factory {factory_id}.")
    await record_audit(
        uow.session, schema=SCHEMA, actor=principal, action="entitlement.granted", entity_type="entitlement",
        entity_id=str(row["id"]), details={"cycle": cycle},
    )  # fmt: skip
    await uow.commit()
    return row


async def consents_of(uow: UnitOfWork, buyer_id: uuid.UUID, factory_id: uuid.UUID) -> list[ConsentState]:
    rows = await uow.session.execute(
        select(CONSENT.c.scopes, CONSENT.c.expires_at, CONSENT.c.revoked_at).where(
            CONSENT.c.buyer_id == buyer_id, CONSENT.c.factory_id == factory_id
        )
    )
    return [ConsentState(frozenset(Scope(s) for s in r.scopes), r.expires_at, r.revoked_at) for r in rows]


async def recompute_access(uow: UnitOfWork, *, buyer_id: uuid.UUID, factory_id: uuid.UUID, now: datetime) -> None:
    """Decide every cycle the buyer is entitled to (or was granted) and publish what changed."""
    consents = await consents_of(uow, buyer_id, factory_id)
    entitled = set(
        (
            await uow.session.execute(
                select(ENTITLEMENT.c.cycle).where(
                    ENTITLEMENT.c.buyer_id == buyer_id, ENTITLEMENT.c.factory_id == factory_id
                )
            )
        ).scalars()
    )
    published = {
        r.cycle: r.granted
        for r in await uow.session.execute(
            select(REPORT_ACCESS.c.cycle, REPORT_ACCESS.c.granted).where(
                REPORT_ACCESS.c.buyer_id == buyer_id, REPORT_ACCESS.c.factory_id == factory_id
            )
        )
    }
    for cycle in sorted(entitled | set(published)):
        decision = may_read_reports(consents, cycle in entitled, now)
        if published.get(cycle, False) == decision:
            continue
        stmt = insert(REPORT_ACCESS).values(
            buyer_id=buyer_id, factory_id=factory_id, cycle=cycle, granted=decision, decided_at=now
        )
        await uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["buyer_id", "factory_id", "cycle"], set_={"granted": decision, "decided_at": now}
            )
        )
        event_type = ReportAccessGranted if decision else ReportAccessRevoked
        uow.emit(event_type(factory_id=factory_id, buyer_id=buyer_id, cycle=cycle, decided_at=now))


async def access(
    uow: UnitOfWork, *, principal: Principal, buyer_id: uuid.UUID, factory_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The published decision per cycle, for the buyer itself, the factory itself, or staff of its country."""
    found = await factory(uow, factory_id)
    allowed = (
        principal.is_admin
        or principal.organisation(Role.BUYER) == buyer_id
        or principal.organisation(Role.FACTORY) == factory_id
        or (found is not None and principal.staff_country == found["country"])
    )
    if not allowed:
        raise NotFound("No such buyer and factory.")
    rows = await uow.session.execute(
        select(REPORT_ACCESS)
        .where(REPORT_ACCESS.c.buyer_id == buyer_id, REPORT_ACCESS.c.factory_id == factory_id)
        .order_by(REPORT_ACCESS.c.cycle)
    )
    return [dict(r) for r in rows.mappings()]


async def current_links(uow: UnitOfWork, factory_id: uuid.UUID, today: date) -> set[uuid.UUID]:
    """Buyers with a confirmed link to the factory that has not ended."""
    rows = await uow.session.execute(
        select(SOURCING_LINK.c.buyer_id).where(
            SOURCING_LINK.c.factory_id == factory_id,
            SOURCING_LINK.c.status == "confirmed",
            or_(SOURCING_LINK.c.start_date.is_(None), SOURCING_LINK.c.start_date <= today),
        )
    )
    return set(rows.scalars())


async def consented_alert_buyers(uow: UnitOfWork, factory_id: uuid.UUID, now: datetime) -> set[uuid.UUID]:
    rows = await uow.session.execute(
        select(CONSENT.c.buyer_id).where(
            CONSENT.c.factory_id == factory_id,
            CONSENT.c.revoked_at.is_(None),
            or_(CONSENT.c.expires_at.is_(None), CONSENT.c.expires_at > now),
            literal(Scope.ZERO_TOLERANCE_ALERTS.value) == any_(CONSENT.c.scopes),
        )
    )
    return set(rows.scalars())


def ids(values: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    return sorted(set(values), key=str)
