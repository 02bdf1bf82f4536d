"""Which factory a caller acts on: partnerships' copy of the registry's factory, and who may name it."""

from __future__ import annotations

import uuid

from partnerships.adapters import factory_refs
from partnerships.domain.relationships import FactoryRef
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import NotFound


async def factory(uow: UnitOfWork, factory_id: uuid.UUID) -> FactoryRef | None:
    return await factory_refs.load(uow.session, factory_id)


async def known_factory(uow: UnitOfWork, factory_id: uuid.UUID) -> FactoryRef:
    found = await factory(uow, factory_id)
    if found is None:
        raise NotFound(f"No factory {factory_id}.")
    return found


async def country_of(uow: UnitOfWork, factory_id: uuid.UUID) -> str:
    """The factory's country, or "" when the registry's events have not brought it (no staff then match)."""
    found = await factory(uow, factory_id)
    return found.country if found else ""


async def visible_factory(uow: UnitOfWork, principal: Principal, factory_id: uuid.UUID) -> FactoryRef:
    """The factory if the caller may act on its relationships: staff of its country, or the factory itself."""
    found = await factory(uow, factory_id)
    if found is not None and (
        principal.is_admin
        or principal.staff_country == found.country
        or principal.organisation(Role.FACTORY) == factory_id
    ):
        return found
    if found is not None and principal.organisation(Role.BUYER) is not None:
        return found  # buyers name factories to link to; what they then see is their own link only
    raise NotFound(f"No factory {factory_id}.")
