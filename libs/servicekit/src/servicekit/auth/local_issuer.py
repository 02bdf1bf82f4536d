"""A signing key of the deployment's own, for local runs and tests.

`betterwork token` mints tokens with it; services started by `make run` trust
its public half. Production deployments configure a real issuer instead.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from servicekit.auth.principal import Role

LOCAL_ISSUER = "betterwork-local"
LOCAL_AUDIENCE = "betterwork"


@dataclass(frozen=True)
class LocalSigningKey:
    private_pem: bytes
    public_pem: bytes
    public_key_file: Path | None = None

    @classmethod
    def generate(cls) -> LocalSigningKey:
        key = ec.generate_private_key(ec.SECP256R1())
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(private_pem, public_pem)

    @classmethod
    def load_or_create(cls, directory: Path) -> LocalSigningKey:
        """Load the key kept in `directory`, generating it on first use."""
        private_file, public_file = directory / "jwt-signing-key.pem", directory / "jwt-signing-key.pub.pem"
        if not private_file.exists():
            directory.mkdir(parents=True, exist_ok=True)
            fresh = cls.generate()
            tmp = directory / f".jwt-signing-key.{os.getpid()}.tmp"
            tmp.write_bytes(fresh.private_pem)
            tmp.chmod(0o600)
            public_file.write_bytes(fresh.public_pem)
            os.replace(tmp, private_file)
        private_pem = private_file.read_bytes()
        public_pem = (
            serialization.load_pem_private_key(private_pem, password=None)
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        if not public_file.exists() or public_file.read_bytes() != public_pem:
            public_file.write_bytes(public_pem)
        return cls(private_pem, public_pem, public_file)

    def mint(
        self,
        *,
        roles: Iterable[Role | str],
        subject: str | None = None,
        organisation_id: str | None = None,
        country: str | None = None,
        scopes: Iterable[str] = (),
        issuer: str = LOCAL_ISSUER,
        audience: str | None = LOCAL_AUDIENCE,
        ttl_s: int = 3600,
        now: float | None = None,
    ) -> str:
        issued = int(now if now is not None else time.time())
        role_names = [Role(r).value for r in roles]
        claims: dict[str, object] = {
            "iss": issuer,
            "sub": subject or f"local-{role_names[0] if role_names else 'user'}",
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl_s,
            "jti": str(uuid.uuid4()),
            "roles": role_names,
        }
        if audience:
            claims["aud"] = audience
        if organisation_id:
            claims["org"] = organisation_id
        if country:
            claims["country"] = country.upper()
        scope_list = list(scopes)
        if scope_list:
            claims["scope"] = " ".join(scope_list)
        return jwt.encode(claims, self.private_pem, algorithm="ES256")
