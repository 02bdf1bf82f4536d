"""Bearer tokens: what the services accept and what they refuse, and why the client is told."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import jwt
import pytest

from devstack.pytest_plugin import TestPlatform
from servicekit.auth import Role, TokenVerifier
from servicekit.auth.local_issuer import LOCAL_AUDIENCE, LOCAL_ISSUER, LocalSigningKey
from servicekit.errors import Unauthorized

KEY = LocalSigningKey.generate()


def verifier(**overrides: object) -> TokenVerifier:
    values: dict[str, object] = {
        "issuer": LOCAL_ISSUER,
        "audience": LOCAL_AUDIENCE,
        "public_key": KEY.public_pem.decode(),
    }
    values.update(overrides)
    return TokenVerifier(**values)  # type: ignore[arg-type]


async def test_valid_token_gives_principal_with_all_claims() -> None:
    token = KEY.mint(
        roles=[Role.BUYER], subject="u-17", organisation_id="buyer-9", country="vn", scopes=["a:read", "b:write"]
    )
    principal = await verifier().verify(token)
    assert principal.subject == "u-17"
    assert principal.roles == {Role.BUYER}
    assert principal.organisation_id == "buyer-9"
    assert principal.country == "VN"
    assert principal.scopes == {"a:read", "b:write"}


async def test_expired_token_is_refused() -> None:
    token = KEY.mint(roles=[Role.STAFF], ttl_s=60, now=time.time() - 3600)
    with pytest.raises(Unauthorized, match="expired"):
        await verifier().verify(token)


async def test_token_from_another_issuer_is_refused() -> None:
    token = KEY.mint(roles=[Role.STAFF], issuer="https://evil.example")
    with pytest.raises(Unauthorized, match="issuer"):
        await verifier().verify(token)


async def test_token_for_another_audience_is_refused() -> None:
    token = KEY.mint(roles=[Role.STAFF], audience="another-system")
    with pytest.raises(Unauthorized, match="audience"):
        await verifier().verify(token)


async def test_token_signed_by_another_key_is_refused() -> None:
    token = LocalSigningKey.generate().mint(roles=[Role.STAFF])
    with pytest.raises(Unauthorized, match="not valid"):
        await verifier().verify(token)


async def test_unsigned_token_is_refused() -> None:
    token = jwt.encode(
        {"sub": "x", "iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "exp": time.time() + 60, "roles": ["admin"]},
        key=None,
        algorithm="none",
    )
    with pytest.raises(Unauthorized):
        await verifier().verify(token)


async def test_token_without_known_role_is_refused() -> None:
    token = KEY.mint(roles=[], subject="nobody")
    with pytest.raises(Unauthorized, match="no known role"):
        await verifier().verify(token)


@pytest.fixture
def jwks_server() -> Iterator[str]:
    jwk = json.loads(
        jwt.algorithms.ECAlgorithm.to_jwk(
            jwt.algorithms.ECAlgorithm(jwt.algorithms.ECAlgorithm.SHA256).prepare_key(KEY.public_pem)
        )
    )
    body = json.dumps({"keys": [{**jwk, "kid": "local-1", "use": "sig", "alg": "ES256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


async def test_token_verified_against_jwks_url(jwks_server: str) -> None:
    token = jwt.encode(
        {
            "sub": "svc",
            "iss": "https://idp.example",
            "aud": "betterwork",
            "exp": int(time.time()) + 60,
            "roles": ["service"],
        },
        KEY.private_pem,
        algorithm="ES256",
        headers={"kid": "local-1"},
    )
    principal = await TokenVerifier(issuer="https://idp.example", audience="betterwork", jwks_url=jwks_server).verify(
        token
    )
    assert principal.roles == {Role.SERVICE}


async def test_http_without_token_is_401_problem(sample_client: httpx.AsyncClient) -> None:
    response = await sample_client.get("/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


async def test_http_expired_token_is_401_with_reason(
    sample_client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    token = test_platform.token(Role.STAFF, ttl_s=60, now=time.time() - 3600)
    response = await sample_client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "expired" in response.json()["detail"]


async def test_http_wrong_role_is_403_problem(sample_client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    token = test_platform.token(Role.BUYER, organisation_id="b-1")
    response = await sample_client.post(
        "/v1/sample/workforce", json={"total": 3, "women": 1}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "staff" in response.json()["detail"]


async def test_http_right_role_passes_and_admin_passes_every_role_check(
    sample_client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    for role in (Role.STAFF, Role.ADMIN):
        response = await sample_client.post(
            "/v1/sample/workforce",
            json={"total": 3, "women": 1},
            headers={"Authorization": f"Bearer {test_platform.token(role)}"},
        )
        assert response.status_code == 201, response.text


async def test_http_scope_check(sample_client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    without = test_platform.token(Role.SERVICE, scopes=["registry:write"])
    response = await sample_client.get("/v1/sample/scoped", headers={"Authorization": f"Bearer {without}"})
    assert response.status_code == 403
    assert "registry:read" in response.json()["detail"]
    with_scope = test_platform.token(Role.SERVICE, subject="slcp-gateway", scopes=["registry:read"])
    response = await sample_client.get("/v1/sample/scoped", headers={"Authorization": f"Bearer {with_scope}"})
    assert response.status_code == 200
    assert response.json() == {"subject": "slcp-gateway"}


def _jwk(key: LocalSigningKey, kid: str) -> dict[str, object]:
    public = jwt.algorithms.ECAlgorithm(jwt.algorithms.ECAlgorithm.SHA256).prepare_key(key.public_pem)
    return {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public)), "kid": kid, "use": "sig", "alg": "ES256"}


async def test_a_withdrawn_jwks_key_stops_verifying_after_the_cache_lifetime() -> None:
    published: dict[str, list[dict[str, object]]] = {"keys": [_jwk(KEY, "old")]}
    fetches: list[float] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fetches.append(time.monotonic())
            body = json.dumps(published).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        claims = {"sub": "svc", "iss": "https://idp.example", "aud": "betterwork", "roles": ["service"]}
        token = jwt.encode(
            {**claims, "exp": int(time.time()) + 3600}, KEY.private_pem, algorithm="ES256", headers={"kid": "old"}
        )
        checker = TokenVerifier(
            issuer="https://idp.example",
            audience="betterwork",
            jwks_url=f"http://127.0.0.1:{server.server_port}/jwks.json",
            jwks_cache_s=1.0,
            leeway_s=0,
        )
        assert (await checker.verify(token)).subject == "svc"
        assert (await checker.verify(token)).subject == "svc"
        assert len(fetches) == 1  # within the lifetime, neither the key set nor the token is checked again

        newer = LocalSigningKey.generate()
        published["keys"] = [_jwk(newer, "new")]  # the issuer withdraws the old key
        await asyncio.sleep(1.2)
        with pytest.raises(Unauthorized):
            await checker.verify(token)
        fresh = jwt.encode(
            {**claims, "exp": int(time.time()) + 3600}, newer.private_pem, algorithm="ES256", headers={"kid": "new"}
        )
        assert (await checker.verify(fresh)).subject == "svc"
    finally:
        server.shutdown()


async def test_http_a_token_under_another_scheme_is_no_bearer_token(
    sample_client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    token = test_platform.token(Role.STAFF)
    for header in (f"Basic {token}", "Bearer ", token):
        answer = await sample_client.get("/v1/me", headers={"Authorization": header})
        assert answer.status_code == 401, header
        assert answer.headers["www-authenticate"] == 'Bearer realm="betterwork"'
    assert (await sample_client.get("/v1/me", headers={"Authorization": f"bearer {token}"})).status_code == 200


async def test_openapi_declares_the_bearer_scheme_on_every_guarded_route(sample_client: httpx.AsyncClient) -> None:
    document = (await sample_client.get("/openapi.json")).json()
    assert document["components"]["securitySchemes"] == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "OAuth2 bearer token (JWT).",
        }
    }
    for path, method in (("/v1/me", "get"), ("/v1/sample/workforce", "post"), ("/v1/sample/scoped", "get")):
        assert document["paths"][path][method]["security"] == [{"HTTPBearer": []}], path
    assert "security" not in document["paths"]["/v1/sample/echo"]["get"]
