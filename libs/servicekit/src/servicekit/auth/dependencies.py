"""FastAPI dependencies: `CurrentPrincipal` for any caller, `require(...)` for role and scope checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from starlette.requests import HTTPConnection

from servicekit.auth.principal import Principal, Role
from servicekit.auth.verifier import TokenVerifier
from servicekit.errors import Forbidden, Unauthorized

_SCHEME_DESCRIPTION = "OAuth2 bearer token (JWT)."


class BearerPrincipal(SecurityBase):
    """The verified caller, holding one of `roles` (admin always does) and every scope in `scopes`.

    One dependency that reads the `Authorization` header, verifies the token (`TokenVerifier`, which remembers
    good tokens until they expire) and checks the roles: on a hot read FastAPI solves one dependency instead of
    a chain of three (bearer scheme, principal, role check). It is a security scheme itself, so the OpenAPI
    document declares `HTTPBearer` exactly as `fastapi.security.HTTPBearer` would.
    """

    def __init__(self, roles: tuple[Role, ...] = (), scopes: tuple[str, ...] = ()) -> None:
        self.model = HTTPBearerModel(bearerFormat="JWT", description=_SCHEME_DESCRIPTION)
        self.scheme_name = "HTTPBearer"
        self.roles = roles
        self.scopes = scopes

    async def __call__(self, connection: HTTPConnection) -> Principal:
        principal = await authenticate(connection)
        roles, scopes = self.roles, self.scopes
        if roles and not principal.has_any_role(*roles):
            allowed = ", ".join(sorted(r.value for r in roles))
            raise Forbidden(f"This operation needs one of the roles: {allowed}.")
        if scopes and not principal.has_scopes(*scopes):
            missing = ", ".join(sorted(set(scopes) - principal.scopes))
            raise Forbidden(f"The token lacks the scope(s): {missing}.")
        return principal


async def authenticate(connection: HTTPConnection) -> Principal:
    """The caller of this request from its bearer token (401 when there is none or it does not verify)."""
    token = _bearer_token(connection)
    if token is None:
        raise Unauthorized("A bearer token is required: send `Authorization: Bearer <token>`.", error="missing")
    verifier: TokenVerifier = connection.app.state.token_verifier
    principal = await verifier.verify(token)
    connection.scope.setdefault("state", {})["principal"] = principal  # `request.state.principal`
    return principal


def _bearer_token(connection: HTTPConnection) -> str | None:
    # Read from the raw ASGI headers: building `request.headers` costs more than the rest of this function.
    for name, value in connection.scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            credentials = credentials.strip()
            return credentials if credentials and scheme.lower() == "bearer" else None
    return None


CurrentPrincipal = Annotated[Principal, Depends(BearerPrincipal())]


def require(*roles: Role, scopes: tuple[str, ...] = ()) -> BearerPrincipal:
    """Route-level check: the caller holds one of `roles` (admin always does) and every scope in `scopes`."""
    return BearerPrincipal(roles, scopes)


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
