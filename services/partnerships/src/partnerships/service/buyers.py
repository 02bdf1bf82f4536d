"""Use cases of buyers: register one, read them, change agreement, contacts and tier."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from betterwork_contracts.events.partnerships import BuyerRegistered, BuyerTierChanged
from partnerships.adapters.buyers import BuyerRepository
from partnerships.domain.relationships import Buyer, RuleError, Tier, TierChange, change_buyer
from servicekit.auth import Principal, Role, check_staff
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, Forbidden, NotFound
from servicekit.pagination import PageParams


class BuyerStore(Protocol):
    """What the use cases that change one buyer need of storage: `BuyerRepository`, or a test's fake."""

    async def load(self, buyer_id: uuid.UUID, *, for_update: bool = False) -> Buyer | None: ...

    async def add(self, buyer: Buyer) -> None: ...

    async def save(self, buyer: Buyer) -> None: ...

    async def add_tier_change(self, buyer_id: uuid.UUID, change: TierChange) -> None: ...

    async def tier_history(self, buyer_id: uuid.UUID) -> list[TierChange]: ...

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
    ) -> None: ...


def _store(uow: UnitOfWork, buyers: BuyerStore | None) -> BuyerStore:
    return buyers if buyers is not None else BuyerRepository(uow.session)


async def register_buyer(
    uow: UnitOfWork, *, principal: Principal, values: Mapping[str, Any], buyers: BuyerStore | None = None
) -> Buyer:
    """A new buyer (staff only), with its first tier in the history and `buyer.registered` published."""
    check_staff(principal)
    store = _store(uow, buyers)
    now = datetime.now(UTC)
    buyer = Buyer(
        id=uuid.uuid4(),
        name=values["name"],
        headquarters_country=values["headquarters_country"],
        tier=Tier(values["tier"]),
        agreement_signed_on=values.get("agreement_signed_on"),
        agreement_commitments=values.get("agreement_commitments") or [],
        agreement_review_date=values.get("agreement_review_date"),
        contacts=values.get("contacts") or [],
        version=1,
        created_at=now,
        created_by=principal.subject,
        updated_at=now,
        home_country=principal.staff_country,
    )
    await store.add(buyer)
    await store.add_tier_change(buyer.id, TierChange(None, buyer.tier, now, principal.subject, "registered"))
    await store.record(principal, action="buyer.registered", entity_type="buyer", entity_id=buyer.id)
    uow.emit(
        BuyerRegistered.model_validate(
            {
                "buyer_id": buyer.id,
                "name": buyer.name,
                "headquarters_country": buyer.headquarters_country,
                "tier": buyer.tier.value,
                "registered_at": now,
            }
        )
    )
    await uow.commit()
    return buyer


def _may_see(principal: Principal, buyer_id: uuid.UUID) -> bool:
    """Staff see every buyer; a buyer's users see their own organisation."""
    return bool(principal.is_admin or principal.staff_country or principal.organisation(Role.BUYER) == buyer_id)


async def get_buyer(
    uow: UnitOfWork, *, principal: Principal, buyer_id: uuid.UUID, buyers: BuyerStore | None = None
) -> tuple[Buyer, list[TierChange]]:
    """The buyer with its tier history; anyone who may not see it is told there is none."""
    store = _store(uow, buyers)
    buyer = await store.load(buyer_id) if _may_see(principal, buyer_id) else None
    if buyer is None:
        raise NotFound(f"No buyer {buyer_id}.")
    return buyer, await store.tier_history(buyer_id)


async def list_buyers(
    uow: UnitOfWork, *, principal: Principal, tier: str | None, page: PageParams
) -> tuple[list[Buyer], str | None]:
    own = None
    if not (principal.is_admin or principal.staff_country):
        own = principal.organisation(Role.BUYER)
        if own is None:
            raise Forbidden("Only staff and buyers list buyers.")
    return await BuyerRepository(uow.session).page(page, only=own, tier=tier)


def check_home_programme(principal: Principal, buyer: Buyer) -> None:
    """Only staff of the programme that manages the buyer (and admins) change it."""
    if principal.is_admin or (buyer.home_country is not None and principal.staff_country == buyer.home_country):
        return
    managed_by = f"staff of {buyer.home_country}, the programme that registered it" if buyer.home_country else "admins"
    raise Forbidden(f"Buyer {buyer.id} is managed by {managed_by}.")


async def update_buyer(
    uow: UnitOfWork,
    *,
    principal: Principal,
    buyer_id: uuid.UUID,
    values: Mapping[str, Any],
    buyers: BuyerStore | None = None,
) -> tuple[Buyer, list[TierChange]]:
    """Change agreement, contacts or tier (staff of the buyer's home programme, or an admin); a tier change is
    kept in the history and published.

    Every programme's staff see every brand, but one programme keeps its record (the one that registered it),
    so two programmes never overwrite each other's agreement or tier: other staff are refused (403, since they
    may read it). The buyer's row is locked while it changes, so two changes at once are made one after the other.
    """
    check_staff(principal)
    store = _store(uow, buyers)
    buyer = await store.load(buyer_id, for_update=True)
    if buyer is None:
        raise NotFound(f"No buyer {buyer_id}.")
    check_home_programme(principal, buyer)
    now = datetime.now(UTC)
    try:
        changed, tier_change, fields = change_buyer(buyer, values, subject=principal.subject, now=now)
    except RuleError as exc:
        raise Conflict(str(exc)) from exc
    if tier_change is not None:
        await store.add_tier_change(buyer_id, tier_change)
        uow.emit(
            BuyerTierChanged.model_validate(
                {
                    "buyer_id": buyer_id,
                    "tier": tier_change.to_tier.value,
                    "previous_tier": buyer.tier.value,
                    "changed_at": now,
                }
            )
        )
    if fields:
        await store.save(changed)
        await store.record(
            principal, action="buyer.updated", entity_type="buyer", entity_id=buyer_id,
            reason=values.get("tier_reason"), details={"changed": fields}, country=buyer.home_country,
        )  # fmt: skip
    await uow.commit()
    return changed, await store.tier_history(buyer_id)
