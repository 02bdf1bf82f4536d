"""The invoicing part of the country pack (`pack.invoicing`), applied when the service starts.

- Payment terms: the pack's `payment_terms_days` is the service's default (`INVOICING_PAYMENT_TERMS_DAYS`, when
  set, still wins): every invoice drafted from then on is due that many days after it is issued. The terms in
  force are stored per country at start (`store_payment_terms`), so the invoices the event handlers draft (a
  per-assessment charge, an enrolment's service package), which have no settings, are due as HTTP ones.
- Price list: the pack's list is seeded as a price list version of the country on start, once (idempotent); a
  version already stored for the same country, currency and day that differs from the pack stops the start,
  since versions are never edited: give the pack a new `effective_from` instead.
- Issuing entity and overdue policy: invoicing numbers documents and runs the overdue sweep from its packaged
  tables (`data/issuing_entities.yaml`, `data/overdue_policies.yaml`); a pack that disagrees with them stops
  the start, naming the field, so an instance never invoices under rules other than its pack's.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, replace
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from invoicing.adapters import country_pack as seeding
from invoicing.adapters import price_lists as repo
from invoicing.adapters.tables import SCHEMA
from invoicing.domain.issuers import issuer_for
from invoicing.domain.money import MoneyError, parse_amount
from invoicing.domain.overdue import policy_for, policy_from
from invoicing.domain.pricing import PriceItem, PriceListVersion, PricingError, Service, Tier, new_version
from invoicing.settings import InvoicingSettings
from servicekit.audit import record_audit
from servicekit.auth import Principal, Role
from servicekit.country_pack import CountryPack, CountryPackError
from servicekit.database import Database

_log = logging.getLogger("invoicing.country_pack")
SYSTEM = Principal(subject="system:country-pack", roles=frozenset({Role.ADMIN}))


def configured(settings: InvoicingSettings, pack: CountryPack | None) -> InvoicingSettings:
    """`settings` with the pack's payment terms, after checking the pack's issuer and overdue policy against what
    invoicing applies (CountryPackError on a difference). Without a pack, `settings` as they are."""
    if pack is None:
        return settings
    check_issuer_and_overdue_policy(pack)
    price_list_of(pack)  # a price list invoicing cannot hold stops the start now, not at the seed
    terms = pack.invoicing.payment_terms_days
    if "payment_terms_days" in settings.model_fields_set:
        if settings.payment_terms_days != terms:
            _log.warning(
                "INVOICING_PAYMENT_TERMS_DAYS=%s overrides the country pack's payment terms of %s days",
                settings.payment_terms_days,
                terms,
            )
        return settings
    return settings.model_copy(update={"payment_terms_days": terms})


def check_issuer_and_overdue_policy(pack: CountryPack) -> None:
    part = pack.invoicing
    held = asdict(issuer_for(pack.country))
    for field, value in part.issuing_entity.model_dump().items():
        if held.get(field) != value:
            raise CountryPackError(
                f"country pack for {pack.country}: invoicing.issuing_entity.{field} is {value!r}, but invoicing "
                f"issues {pack.country}'s documents as {held.get(field)!r} (data/issuing_entities.yaml)"
            )
    steps = [step.model_dump(mode="json") for step in part.overdue_policy]
    if policy_from(pack.country, steps) != policy_for(pack.country):
        raise CountryPackError(
            f"country pack for {pack.country}: invoicing.overdue_policy differs from the policy invoicing applies "
            f"to {pack.country} (data/overdue_policies.yaml)"
        )


def price_list_of(pack: CountryPack) -> PriceListVersion:
    """The pack's price list as a price list version of its country (CountryPackError if invoicing refuses it)."""
    part = pack.invoicing.price_list
    code = part.currency
    try:
        items = [
            PriceItem(
                service=Service(item.service),
                description=item.description,
                unit_price=parse_amount(item.unit_price, code) if item.unit_price is not None else None,
                tiers=tuple(Tier(t.min_quantity, t.max_quantity, parse_amount(t.unit_price, code)) for t in item.tiers),
            )
            for item in part.items
        ]
        return new_version(
            country=pack.country,
            currency_code=code,
            effective_from=part.effective_from,
            items=items,
            group_discount_bps=part.group_discount_bps,
            group_min_factories=part.group_discount_min_factories,
        )
    except (PricingError, MoneyError, ValueError) as exc:
        raise CountryPackError(f"country pack for {pack.country}: invoicing.price_list is not usable: {exc}") from exc


async def store_payment_terms(database: Database, settings: InvoicingSettings, pack: CountryPack | None) -> None:
    """Record the payment terms this instance applies (`configured` settings) for its country, `*` for all."""
    country = pack.country if pack is not None else (settings.country or seeding.ANY_COUNTRY)
    async with database.unit_of_work() as uow:
        await seeding.store_payment_terms(uow.session, country, settings.payment_terms_days, datetime.now(UTC))
        await uow.commit()


async def payment_terms_for(session: AsyncSession, country: str) -> int:
    """The payment terms of `country` stored at start; the setting's default when no instance stored any."""
    days = await seeding.payment_terms(session, country)
    default: int = InvoicingSettings.model_fields["payment_terms_days"].default
    return days if days is not None else default


async def seed_price_list(database: Database, pack: CountryPack) -> bool:
    """Store the pack's price list unless the same version is there already; True when it was added."""
    version = price_list_of(pack)
    async with database.unit_of_work() as uow:
        await seeding.lock_price_list_seed(uow.session)
        stored = [
            v
            for v in await repo.versions(uow.session, version.country, version.currency)
            if v.effective_from == version.effective_from
        ]
        if stored:
            if replace(stored[0], id=version.id) != version:
                raise CountryPackError(
                    f"country pack for {pack.country}: the {version.currency} price list effective from "
                    f"{version.effective_from} differs from the version invoicing already holds for that day; "
                    "versions are never changed: give the pack's price list a new effective_from"
                )
            return False
        await repo.add(uow.session, version, by=SYSTEM.subject)
        await record_audit(
            uow.session,
            schema=SCHEMA,
            actor=SYSTEM,
            action="price_list.version_added",
            entity_type="price_list_version",
            entity_id=str(version.id),
            details={
                "country": version.country,
                "currency": version.currency,
                "effective_from": version.effective_from.isoformat(),
                "source": "country pack",
            },
        )
        await uow.commit()
    _log.info("price list of %s from %s seeded from the country pack", version.country, version.effective_from)
    return True
