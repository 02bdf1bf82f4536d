"""Cost recovery per country programme and year: revenue recognised against the cost staff entered."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from invoicing.adapters import cost_recovery as repo
from invoicing.adapters.tables import SCHEMA
from invoicing.domain.cost_recovery import MissingRate, Recovery, recovery
from invoicing.domain.money import MoneyError, currency, parse_amount
from invoicing.service.access import check_finance
from invoicing.settings import InvoicingSettings
from servicekit.audit import record_audit
from servicekit.auth import Principal, check_staff
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, Unprocessable


async def set_cost(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: InvoicingSettings,
    country: str,
    year: int,
    currency_code: str,
    amount: str,
    note: str | None,
) -> None:
    country = country.upper()
    check_finance(principal, settings, country)
    try:
        minor = parse_amount(amount, currency_code)
    except MoneyError as exc:
        raise Unprocessable(str(exc)) from exc
    await repo.set_cost(
        uow.session,
        country=country,
        year=year,
        currency=currency_code.upper(),
        amount=minor,
        note=note,
        by=principal.subject,
    )
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="programme_cost.entered",
        entity_type="programme_cost",
        entity_id=f"{country}:{year}",
        details={"amount": minor, "currency": currency_code.upper()},
    )
    await uow.commit()


async def set_rate(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: InvoicingSettings,
    year: int,
    currency_code: str,
    rate: str,
    as_of: date,
) -> None:
    """Snapshot of how many units of the reporting currency one unit of `currency_code` was worth in `year`."""
    check_finance(principal, settings, settings.country or principal.country or "")
    try:
        code = currency(currency_code).code
        value = Decimal(rate)
    except (MoneyError, InvalidOperation) as exc:
        raise Unprocessable(str(exc)) from exc
    if not value.is_finite() or value <= 0:
        raise Unprocessable("An exchange rate is a positive number.")
    await repo.set_rate(
        uow.session,
        year=year,
        currency=code,
        to_currency=settings.reporting_currency,
        rate=value,
        as_of=as_of,
        by=principal.subject,
    )
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="exchange_rate.entered",
        entity_type="exchange_rate",
        entity_id=f"{year}:{code}:{settings.reporting_currency}",
        details={"rate": str(value), "as_of": as_of.isoformat()},
    )
    await uow.commit()


async def report(
    uow: UnitOfWork, *, principal: Principal, settings: InvoicingSettings, country: str, years: list[int] | None
) -> list[Recovery]:
    """One row per year (the years asked, else every year with a cost entered)."""
    country = country.upper()
    check_staff(principal, country)
    wanted = years or await repo.years_with_cost(uow.session, country)
    rows = []
    for year in wanted:
        try:
            rows.append(
                recovery(
                    country=country,
                    year=year,
                    reporting=settings.reporting_currency,
                    credits=await repo.credits_revenue(uow.session, country, year),
                    services=await repo.services_revenue(uow.session, country, year),
                    costs=await repo.cost(uow.session, country, year),
                    rates=await repo.rates(uow.session, year, settings.reporting_currency),
                )
            )
        except MissingRate as exc:
            raise Conflict(f"{year}: {exc}; enter the rate snapshot first.") from exc
    return rows
