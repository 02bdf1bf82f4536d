"""Request headers per role, minted with the test session's signing key."""

from __future__ import annotations

import uuid
from typing import Any

from devstack.pytest_plugin import TestPlatform
from servicekit.auth.principal import Role


def as_role(platform: TestPlatform, *roles: Role, **claims: Any) -> dict[str, str]:
    """Headers of a caller holding `roles` and `claims` (country, organisation_id, scopes, subject)."""
    return {"Authorization": f"Bearer {platform.token(*roles, **claims)}"}


def staff(platform: TestPlatform, country: str = "KH", *, subject: str = "ea-dara") -> dict[str, str]:
    """An enterprise advisor of `country`'s programme."""
    return as_role(platform, Role.STAFF, country=country, subject=subject)


def team_leader(platform: TestPlatform, country: str = "KH", *, subject: str = "tl-sophea") -> dict[str, str]:
    """A team leader of `country`'s programme (the other pair of eyes: quality check, release)."""
    return as_role(platform, Role.STAFF, country=country, subject=subject, scopes=("assessments:team_leader",))


def factory(platform: TestPlatform, factory_id: uuid.UUID | str, country: str = "KH") -> dict[str, str]:
    """A user of the factory `factory_id`."""
    return as_role(platform, Role.FACTORY, organisation_id=str(factory_id), country=country, subject="factory-hr")


def buyer(platform: TestPlatform, buyer_id: uuid.UUID | str) -> dict[str, str]:
    """A user of the brand `buyer_id`."""
    return as_role(platform, Role.BUYER, organisation_id=str(buyer_id), subject="brand-sourcing")


def service(platform: TestPlatform, *scopes: str, country: str | None = "KH") -> dict[str, str]:
    """A machine client (an SLCP integration, say)."""
    return as_role(platform, Role.SERVICE, country=country, scopes=scopes, subject="slcp-gateway")


def admin(platform: TestPlatform) -> dict[str, str]:
    return as_role(platform, Role.ADMIN, subject="platform-admin")
