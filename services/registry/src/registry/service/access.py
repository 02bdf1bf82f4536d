"""Who may see and change what in the registry (issue: staff of the instance's country manage; factory
users read their own record and propose changes; buyers and service clients read the basic profile).

A caller who may not see a factory is told it does not exist (404), so ids do not leak.
"""

from __future__ import annotations

from enum import StrEnum

from registry.domain.factory import Factory
from servicekit import auth
from servicekit.auth import Principal, Role
from servicekit.errors import NotFound


class View(StrEnum):
    FULL = "full"  # everything, contacts included
    BASIC = "basic"  # names, country, sector, status, external ids


def check_staff(principal: Principal, instance_country: str | None, country: str | None = None) -> None:
    """Staff of this instance's country (and of `country`, when the change concerns one); admins pass."""
    auth.check_staff(principal, country, instance_country=instance_country)


def is_own_factory(principal: Principal, factory: Factory) -> bool:
    return Role.FACTORY in principal.roles and principal.organisation_id == str(factory.id)


def view_of(principal: Principal, factory: Factory) -> View | None:
    if principal.is_staff_of(factory.country) or is_own_factory(principal, factory):
        return View.FULL
    if principal.roles & {Role.BUYER, Role.SERVICE, Role.STAFF}:
        return View.BASIC
    return None


def require_view(principal: Principal, factory: Factory | None, factory_id: object) -> tuple[Factory, View]:
    view = view_of(principal, factory) if factory is not None else None
    if factory is None or view is None:
        raise NotFound(f"No factory {factory_id}.")
    return factory, view


def list_view(principal: Principal, country: str | None) -> View:
    """The projection of factory lists: full for staff of the listed country, basic otherwise."""
    if principal.is_admin or (country and principal.is_staff_of(country)):
        return View.FULL
    return View.BASIC
