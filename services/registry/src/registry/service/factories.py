"""Use cases on factories: load through the unit of work, apply the domain rule, save, emit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from registry.adapters.tables import SCHEMA, FactoryRow
from registry.domain import factory as rules
from registry.domain.factory import Factory
from servicekit.audit import record_audit
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, Forbidden, NotFound


def _check_country(principal: Principal, country: str) -> None:
    if Role.ADMIN not in principal.roles and principal.country and principal.country != country:
        raise Forbidden(f"Staff of {principal.country} cannot manage factories in {country}.")


async def register_factory(
    uow: UnitOfWork, *, principal: Principal, name: str, country: str, address: str | None
) -> Factory:
    """Create a factory and announce it (`factory.registered`)."""
    _check_country(principal, country.upper())
    try:
        factory, event = rules.register(name=name, country=country, address=address, now=datetime.now(UTC))
    except rules.FactoryRuleError as exc:
        raise Conflict(str(exc)) from exc
    uow.session.add(FactoryRow.from_domain(factory))
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="factory.registered",
        entity_type="factory",
        entity_id=str(factory.id),
        details={"name": factory.name},
    )
    uow.emit(event, country=factory.country)
    await uow.commit()
    return factory


async def get_factory(uow: UnitOfWork, *, principal: Principal, factory_id: uuid.UUID) -> Factory:
    row = await uow.session.get(FactoryRow, factory_id)
    if row is None or not _may_read(principal, row):
        raise NotFound(f"No factory {factory_id}.")
    return row.to_domain()


def _may_read(principal: Principal, row: FactoryRow) -> bool:
    if principal.has_any_role(Role.STAFF, Role.BUYER, Role.SERVICE):
        return True
    return Role.FACTORY in principal.roles and principal.organisation_id == str(row.id)


async def rename_factory(
    uow: UnitOfWork, *, principal: Principal, factory_id: uuid.UUID, name: str, expected_version: int | None
) -> Factory:
    """Change the legal name (`factory.updated` with the changed field only)."""
    row = await uow.session.get(FactoryRow, factory_id, with_for_update=True)
    if row is None:
        raise NotFound(f"No factory {factory_id}.")
    _check_country(principal, row.country)
    if expected_version is not None and expected_version != row.version:
        raise Conflict(
            f"The factory is at version {row.version}, not {expected_version}; reload and retry.",
            current_version=row.version,
        )
    try:
        changed, event = rules.rename(row.to_domain(), name=name, now=datetime.now(UTC))
    except rules.FactoryRuleError as exc:
        raise Conflict(str(exc)) from exc
    if event is None:
        return changed
    row.name, row.version, row.updated_at = changed.name, changed.version, changed.updated_at
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="factory.renamed",
        entity_type="factory",
        entity_id=str(factory_id),
        details={"name": changed.name},
    )
    uow.emit(event, country=changed.country)
    await uow.commit()
    return changed
