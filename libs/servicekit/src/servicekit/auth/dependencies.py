"""FastAPI dependencies: `CurrentPrincipal` for any caller, `require(...)` for role and scope checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from servicekit.auth.principal import Principal, Role
from servicekit.auth.verifier import TokenVerifier
from servicekit.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, bearerFormat="JWT", description="OAuth2 bearer token (JWT).")


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise Unauthorized("A bearer token is required: send `Authorization: Bearer <token>`.", error="missing")
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(credentials.credentials)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role, scopes: tuple[str, ...] = ()) -> Callable[..., Awaitable[Principal]]:
    """Route-level check: the caller holds one of `roles` (admin always does) and every scope in `scopes`."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if roles and not principal.has_any_role(*roles):
            allowed = ", ".join(sorted(r.value for r in roles))
            raise Forbidden(f"This operation needs one of the roles: {allowed}.")
        if scopes and not principal.has_scopes(*scopes):
            missing = ", ".join(sorted(set(scopes) - principal.scopes))
            raise Forbidden(f"The token lacks the scope(s): {missing}.")
        return principal

    return check


def check_staff(principal: Principal, country: str | None = None, *, instance_country: str | None = None) -> None:
    """Use-case check: admin, or staff with a country (that of `country` and of the instance, when given).

    Raises 403 with the reason. Route-level `require(Role.STAFF)` only checks the role; this checks whose
    programme the change belongs to.
    """
    if principal.is_admin:
        return
    if Role.STAFF not in principal.roles:
        raise Forbidden("Only programme staff may do this.")
    if principal.country is None:
        raise Forbidden("The token names no country; staff act only for their own country's programme.")
    if instance_country and principal.country != instance_country:
        raise Forbidden(f"This is the {instance_country} instance; staff of {principal.country} cannot change it.")
    if country and principal.country != country:
        raise Forbidden(f"Staff of {principal.country} cannot act for {country}.")
