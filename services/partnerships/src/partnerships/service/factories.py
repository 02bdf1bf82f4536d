"""Which factory a caller acts on: partnerships' copy of the registry's factory, and who may name it."""

from __future__ import annotations

import uuid

from partnerships.adapters import factory_refs
from partnerships.domain.relationships import FactoryRef
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import NotFound, merged_factory


async def factory(uow: UnitOfWork, factory_id: uuid.UUID) -> FactoryRef | None:
    return await factory_refs.load(uow.session, factory_id)


async def known_factory(uow: UnitOfWork, factory_id: uuid.UUID) -> FactoryRef:
    found = await factory(uow, factory_id)
    if found is None:
        raise NotFound(f"No factory {factory_id}.")
    return found


async def live_factory_id(uow: UnitOfWork, factory_id: uuid.UUID) -> uuid.UUID:
    """The id a factory lives on as: its survivor's after a merge (followed through chains of merges), so an
    event still naming a retired id (a case, a purchase in flight) reaches the buyers of the survivor."""
    seen = {factory_id}
    found = await factory(uow, factory_id)
    while found is not None and found.merged_into is not None and found.merged_into not in seen:
        seen.add(found.merged_into)
        factory_id = found.merged_into
        found = await factory(uow, factory_id)
    return factory_id


def check_not_merged(found: FactoryRef) -> FactoryRef:
    """A new link, consent or entitlement names the live factory: a retired (merged) id is refused with 409 and
    the survivor's id (`survivor_id`), once the caller is known to be allowed to see it."""
    if found.merged_into is not None:
        raise merged_factory(found.factory_id, found.merged_into)
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
