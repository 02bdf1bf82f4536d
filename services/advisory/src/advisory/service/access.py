"""Who may see and change what in advisory: object-level checks every use case makes (OWASP API1).

Staff of the factory's country (enterprise advisors) see and verify everything of their country; a factory's
users manage their own plan, committee and evidence; buyers read progress reports only of cycles partnerships
granted them; anyone else is told the object does not exist.
"""

from __future__ import annotations

import uuid

from advisory.domain.plan import Actor
from servicekit.auth import Principal, Role
from servicekit.errors import NotFound


def is_own_factory(principal: Principal, factory_id: uuid.UUID) -> bool:
    return principal.organisation(Role.FACTORY) == factory_id


def may_manage(principal: Principal, *, factory_id: uuid.UUID, country: str) -> bool:
    """Staff of the country or the factory itself."""
    return principal.is_staff_of(country) or is_own_factory(principal, factory_id)


def actor_of(principal: Principal, *, factory_id: uuid.UUID, country: str) -> Actor:
    """The part the caller plays for this factory (404 if none): advisor (staff of its country) or factory."""
    if principal.is_staff_of(country):
        return Actor.ADVISOR
    if is_own_factory(principal, factory_id):
        return Actor.FACTORY
    raise NotFound("No such object.")
