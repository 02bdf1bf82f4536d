"""Use cases on price lists: staff of a country add versions (never edit one); anyone of the country reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from invoicing.adapters import price_lists as repo
from invoicing.adapters.tables import SCHEMA
from invoicing.domain.pricing import PriceItem, PriceListVersion, PricingError, new_version
from invoicing.settings import InvoicingSettings
from servicekit.audit import record_audit
from servicekit.auth import Principal, check_staff
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, NotFound, Unprocessable


async def add_version(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: InvoicingSettings,
    country: str,
    currency: str,
    effective_from: date,
    items: Sequence[PriceItem],
    group_discount_bps: int,
    group_min_factories: int,
    reduced_tariffs: dict[str, int],
) -> PriceListVersion:
    """A new version from `effective_from` on; lines already priced keep the prices they were charged at."""
    country = country.upper()
    check_staff(principal, country, instance_country=settings.country)
    try:
        version = new_version(
            country=country,
            currency_code=currency,
            effective_from=effective_from,
            items=items,
            group_discount_bps=group_discount_bps,
            group_min_factories=group_min_factories,
            reduced_tariffs=reduced_tariffs,
        )
    except (PricingError, ValueError) as exc:
        raise Unprocessable(str(exc)) from exc
    if await repo.exists(uow.session, version.country, version.currency, effective_from):
        raise Conflict(f"A {version.currency} price list of {country} already takes effect on {effective_from}.")
    await repo.add(uow.session, version, by=principal.subject)
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="price_list.version_added",
        entity_type="price_list_version",
        entity_id=str(version.id),
        details={"country": country, "currency": version.currency, "effective_from": effective_from.isoformat()},
    )
    await uow.commit()
    return version


def _check_reader(principal: Principal, country: str) -> None:
    if principal.is_admin or principal.country == country or principal.staff_country == country:
        return
    if principal.country is None and not principal.staff_country:
        return  # buyers act across countries: they read every programme's public price list
    raise NotFound(f"No price list of {country}.")


async def versions(
    uow: UnitOfWork, *, principal: Principal, country: str, currency: str | None
) -> list[PriceListVersion]:
    country = country.upper()
    _check_reader(principal, country)
    return await repo.versions(uow.session, country, currency.upper() if currency else None)


async def in_force(
    uow: UnitOfWork, *, principal: Principal, country: str, on: date, currency: str | None
) -> PriceListVersion:
    country = country.upper()
    _check_reader(principal, country)
    found = await repo.in_force(uow.session, country, on, currency.upper() if currency else None)
    if found is None:
        raise NotFound(f"No price list of {country} is in force on {on}.")
    return found
