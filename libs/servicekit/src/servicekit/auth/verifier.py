"""Verify bearer JWTs: signature (public key or JWKS), issuer, audience, expiry."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jwt

from servicekit.auth.principal import Principal, Role
from servicekit.errors import Unauthorized

ALGORITHMS: tuple[str, ...] = ("ES256", "RS256", "EdDSA")
CACHE_SIZE = 4096  # verified tokens remembered per process (a client reuses its token for many requests)


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str | None,
        public_key: str | None = None,
        jwks_url: str | None = None,
        algorithms: Sequence[str] = ALGORITHMS,
        leeway_s: int = 30,
        jwks_cache_s: float = 300,
    ) -> None:
        if not public_key and not jwks_url:
            raise ValueError("configure AUTH_JWKS_URL, AUTH_PUBLIC_KEY or AUTH_PUBLIC_KEY_FILE")
        self.issuer = issuer
        self.audience = audience
        self.algorithms = list(algorithms)
        self.leeway_s = leeway_s
        self._public_key = public_key
        # The key set is kept for `jwks_cache_s` and then fetched again, so a key the issuer withdrew stops
        # verifying within that time (`cache_keys=True` would keep every key seen for the life of the process).
        self._jwks = (
            jwt.PyJWKClient(jwks_url, cache_keys=False, cache_jwk_set=True, lifespan=jwks_cache_s, timeout=5)
            if jwks_url
            else None
        )
        self.jwks_cache_s = jwks_cache_s
        # token -> (principal, keep until): a signature check costs more than the rest of a simple GET, and the
        # same token arrives again and again. Only good tokens are kept, never past their expiry, and with a
        # JWKS never longer than the key set is trusted (its key may have been withdrawn since).
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Any) -> TokenVerifier:
        key = settings.auth_public_key
        if not key and settings.auth_public_key_file:
            path = Path(settings.auth_public_key_file)
            if not path.is_file():
                raise ValueError(f"AUTH_PUBLIC_KEY_FILE {path} does not exist")
            key = path.read_text()
        return cls(
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            public_key=key,
            jwks_url=settings.auth_jwks_url,
            jwks_cache_s=getattr(settings, "jwks_cache_s", 300),
        )

    async def _signing_key(self, token: str) -> Any:
        if self._jwks is not None:
            # PyJWKClient fetches over blocking HTTP (cached); keep it off the event loop.
            return (await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)).key
        return self._public_key

    def _key_set_trusted_for(self) -> float:
        """Seconds left before the cached key set is fetched again (the whole lifespan if its age is unknown)."""
        cache = getattr(self._jwks, "jwk_set_cache", None)
        held = getattr(cache, "jwk_set_with_timestamp", None)
        if held is None:
            return self.jwks_cache_s
        return max(0.0, self.jwks_cache_s - (time.monotonic() - float(held.get_timestamp())))

    async def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None:
            principal, expires = known
            if time.time() < expires + self.leeway_s:
                self._verified.move_to_end(token)
                return principal
            del self._verified[token]
        principal, expires = await self._verify(token)
        if self._jwks is not None:
            expires = min(expires, time.time() + self._key_set_trusted_for() - self.leeway_s)
        self._verified[token] = (principal, expires)
        if len(self._verified) > CACHE_SIZE:
            self._verified.popitem(last=False)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            key = await self._signing_key(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=self.algorithms,
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway_s,
                options={"require": ["exp", "iss", "sub"], "verify_aud": self.audience is not None},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired.") from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthorized("The token was not issued by this deployment's issuer.") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthorized("The token is not meant for this audience.") from exc
        except (jwt.PyJWTError, jwt.PyJWKClientError, ValueError) as exc:
            raise Unauthorized(f"The token is not valid: {exc}.") from exc
        return principal_from_claims(claims), float(claims["exp"])


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    raw_roles = claims.get("roles", [])
    if isinstance(raw_roles, str):
        raw_roles = raw_roles.split()
    known = {r.value for r in Role}
    roles = frozenset(Role(r) for r in raw_roles if r in known)
    if not roles:
        raise Unauthorized("The token carries no known role.")
    scope = claims.get("scope", claims.get("scp", ""))
    scopes = frozenset(scope.split() if isinstance(scope, str) else scope)
    country = claims.get("country")
    return Principal(
        subject=str(claims["sub"]),
        roles=roles,
        organisation_id=str(claims["org"]) if claims.get("org") else None,
        country=country.upper() if isinstance(country, str) else None,
        scopes=scopes,
    )
