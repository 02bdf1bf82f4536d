"""Who is calling: built from a verified token, used by every route and use case."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    STAFF = "staff"  # country programme staff
    FACTORY = "factory"  # a factory's own users; organisation_id is the factory id
    BUYER = "buyer"  # a brand's users; organisation_id is the buyer id
    CONSTITUENT = "constituent"  # unions, employers' organisations, government
    SERVICE = "service"  # machine clients such as SLCP integrations
    ADMIN = "admin"  # platform administrators; pass every role check


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[Role]
    organisation_id: str | None = None
    country: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    def has_any_role(self, *roles: Role) -> bool:
        return Role.ADMIN in self.roles or bool(self.roles.intersection(roles))

    def has_scopes(self, *scopes: str) -> bool:
        return set(scopes) <= self.scopes

    def scopes_matching(self, pattern: str) -> frozenset[str]:
        """The caller's scopes equal to `pattern`, or starting with it when it ends in `*` (`zt:receive:*`)."""
        if pattern.endswith("*"):
            prefix = pattern[:-1]
            return frozenset(s for s in self.scopes if s.startswith(prefix))
        return frozenset({pattern}) & self.scopes

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def staff_country(self) -> str | None:
        """The country programme a staff member acts for; None for anyone else (and for staff without one)."""
        return self.country if Role.STAFF in self.roles and self.country else None

    def is_staff_of(self, country: str) -> bool:
        """Admin, or staff of `country`: who may see everything of that country's programme."""
        return self.is_admin or self.staff_country == country

    def organisation(self, role: Role) -> uuid.UUID | None:
        """The organisation (factory or buyer id) the caller acts for in `role`; None if not in that role."""
        if role not in self.roles or not self.organisation_id:
            return None
        try:
            return uuid.UUID(self.organisation_id)
        except ValueError:
            return None

    def as_public_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "roles": sorted(self.roles),
            "organisation_id": self.organisation_id,
            "country": self.country,
            "scopes": sorted(self.scopes),
        }
