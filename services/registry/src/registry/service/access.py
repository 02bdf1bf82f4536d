"""Who may see and change what in the registry: the one tenancy rule, used by every read and every write.

- Staff of the factory's country (and admins) see the full record and are the only ones who change it.
- A factory's own users see their full record (and propose changes through `service/reviews.py`).
- Buyers and service clients see the basic profile (names, country, sector, status, external ids): the
  directory a brand needs to name its suppliers.
- Everyone else, staff of another country included, does not see the factory at all.

A caller who may not see a factory is told it does not exist (404), whatever the reason and whatever the
route, before any other check (a 403, a 409 on a merged factory or a stale version would tell it exists).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from registry.domain.factory import Factory
from servicekit import auth
from servicekit.auth import Principal, Role
from servicekit.errors import Forbidden, NotFound


class View(StrEnum):
    FULL = "full"  # everything, contacts included
    BASIC = "basic"  # names, country, sector, status, external ids


def check_staff(principal: Principal, instance_country: str | None, country: str | None = None) -> None:
    """Staff of this instance's country (and of `country`, when the action concerns one); admins pass.

    For actions that name no existing factory (a registration, an upload): a 403 there tells nothing."""
    auth.check_staff(principal, country, instance_country=instance_country)


def is_own_factory(principal: Principal, factory: Factory) -> bool:
    return principal.organisation(Role.FACTORY) == factory.id


def is_directory_reader(principal: Principal) -> bool:
    """Buyers and service clients read the directory: the basic profile of any factory."""
    return bool(principal.roles & {Role.BUYER, Role.SERVICE})


def view_of(principal: Principal, factory: Factory) -> View | None:
    """What `principal` may see of `factory`; None: nothing, not even that it exists."""
    if principal.is_staff_of(factory.country) or is_own_factory(principal, factory):
        return View.FULL
    if is_directory_reader(principal):
        return View.BASIC
    return None


def may_change(principal: Principal, factory: Factory, instance_country: str | None) -> bool:
    """Admins, and staff of the factory's country (on the instance of that country, when it has one)."""
    if principal.is_admin:
        return True
    return principal.is_staff_of(factory.country) and instance_country in (None, factory.country)


def require_view(
    principal: Principal, factory: Factory | None, factory_id: object, *, at_least: View = View.BASIC
) -> tuple[Factory, View]:
    """The factory and the caller's view of it, or 404 when the caller may not see it (or not `at_least`)."""
    view = view_of(principal, factory) if factory is not None else None
    if factory is None or view is None or (at_least is View.FULL and view is not View.FULL):
        raise NotFound(f"No factory {factory_id}.")
    return factory, view


def require_change(
    principal: Principal, factory: Factory | None, factory_id: object, instance_country: str | None
) -> Factory:
    """The factory, if the caller may change it: 404 when it may not see it, 403 when it sees but may not change
    (a factory's own users, who propose changes instead)."""
    factory, _ = require_view(principal, factory, factory_id)
    if not may_change(principal, factory, instance_country):
        raise Forbidden("Only programme staff of the factory's country change its record.")
    return factory


@dataclass(frozen=True)
class ListScope:
    """What a factory list may show the caller: one country, one factory, or nothing."""

    country: str | None = None  # only this country's factories (None: any)
    factory_id: uuid.UUID | None = None  # only this factory
    nothing: bool = False
    view: View = View.BASIC


def list_scope(principal: Principal, country: str | None) -> ListScope:
    """The same rule as `view_of`, for a search asking for `country` (None: every country the caller may see)."""
    country = country.upper() if country else None
    if principal.is_admin:
        return ListScope(country=country, view=View.FULL)
    if is_directory_reader(principal):
        return ListScope(country=country, view=View.BASIC)
    if Role.STAFF in principal.roles:
        own = principal.staff_country
        if own is None or (country is not None and country != own):
            return ListScope(nothing=True)
        return ListScope(country=own, view=View.FULL)
    factory_id = principal.organisation(Role.FACTORY)
    if factory_id is not None:
        return ListScope(country=country, factory_id=factory_id, view=View.FULL)
    return ListScope(nothing=True)
