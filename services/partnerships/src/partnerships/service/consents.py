"""Use cases of consent: a factory grants a buyer access, revokes it; consents whose time ran out expire."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from betterwork_contracts.events.partnerships import ConsentGranted, ConsentRevoked
from partnerships.adapters.buyers import BuyerRepository
from partnerships.adapters.consents import ConsentRepository
from partnerships.domain import relationships as rules
from partnerships.domain.relationships import Consent, RuleError, Scope
from partnerships.service.factories import check_not_merged, country_of, known_factory
from partnerships.service.report_access import recompute_access
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, NotFound
from servicekit.pagination import PageParams

EXPIRY_SUBJECT = "system:consent-expiry"
EXPIRY_BATCH = 500


def _check_side(principal: Principal, factory_id: uuid.UUID, country: str) -> None:
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
) -> Consent:
    found = await known_factory(uow, factory_id)
    _check_side(principal, factory_id, found.country)
    check_not_merged(found)
    if not await BuyerRepository(uow.session).exists(buyer_id):
        raise NotFound(f"No buyer {buyer_id}.")
    now = datetime.now(UTC)
    try:
        consent = rules.grant(
            consent_id=uuid.uuid4(), factory_id=factory_id, buyer_id=buyer_id, scopes=scopes, expires_at=expires_at,
            subject=principal.subject, now=now,
        )  # fmt: skip
    except RuleError as exc:
        raise Conflict(str(exc)) from exc
    consents = ConsentRepository(uow.session)
    await consents.add(consent)
    scope_names = [s.value for s in consent.scopes]
    await consents.record(
        principal, action="consent.granted", entity_type="consent", entity_id=consent.id,
        details={"buyer_id": str(buyer_id), "scopes": scope_names},
    )  # fmt: skip
    uow.emit(
        ConsentGranted.model_validate(
            {
                "consent_id": consent.id,
                "buyer_id": buyer_id,
                "factory_id": factory_id,
                "scopes": scope_names,
                "expires_at": expires_at,
                "granted_at": now,
            }
        )
    )
    await recompute_access(uow, buyer_id=buyer_id, factory_id=factory_id, now=now)
    await uow.commit()
    return consent


async def revoke_consent(
    uow: UnitOfWork, *, principal: Principal | None, consent_id: uuid.UUID, reason: str = "revoked"
) -> Consent:
    """Revoked by the factory (or staff), or expired (principal None: the expiry sweep); effective at once.

    The consent's row is locked first: of two revocations at once, the second finds it revoked (409).
    """
    consents = ConsentRepository(uow.session)
    consent = await consents.load(consent_id, for_update=True)
    if consent is None:
        raise NotFound(f"No consent {consent_id}.")
    if principal is not None:
        try:
            _check_side(principal, consent.factory_id, await country_of(uow, consent.factory_id))
        except NotFound:
            raise NotFound(f"No consent {consent_id}.") from None
    now = datetime.now(UTC)
    try:
        revoked = rules.revoke(
            consent, subject=principal.subject if principal else EXPIRY_SUBJECT, reason=reason, now=now
        )
    except RuleError as exc:
        raise Conflict(str(exc)) from exc
    await consents.save_revocation(revoked)
    uow.emit(
        ConsentRevoked.model_validate(
            {
                "consent_id": consent_id,
                "buyer_id": consent.buyer_id,
                "factory_id": consent.factory_id,
                "reason": reason,
                "revoked_at": now,
            }
        )
    )
    await recompute_access(uow, buyer_id=consent.buyer_id, factory_id=consent.factory_id, now=now)
    if principal is not None:
        await consents.record(principal, action="consent.revoked", entity_type="consent", entity_id=consent_id)
    await uow.commit()
    return revoked


async def expire_consents(uow: UnitOfWork) -> int:
    """Consents whose time ran out are revoked as expired (closing access at once); returns how many."""
    due = await ConsentRepository(uow.session).due_to_expire(datetime.now(UTC), limit=EXPIRY_BATCH)
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
) -> tuple[list[Consent], str | None]:
    """The full history: granted, expired and revoked consents alike."""
    return await ConsentRepository(uow.session).page(
        principal, page, factory_id=factory_id, buyer_id=buyer_id, current=current, now=datetime.now(UTC)
    )
