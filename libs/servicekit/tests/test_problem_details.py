"""Every 4xx and 5xx answer is RFC 9457 problem+json."""

from __future__ import annotations

import httpx

from devstack.pytest_plugin import TestPlatform
from servicekit.auth import Role


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["type"]
    return body


async def test_validation_error_points_at_each_bad_field(
    sample_client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    response = await sample_client.post(
        "/v1/sample/workforce",
        json={"total": -1},
        headers={"Authorization": f"Bearer {test_platform.token(Role.STAFF)}"},
    )
    body = assert_problem(response, 422)
    assert body["type"] == "https://betterwork.dev/problems/validation-error"
    pointers = {e["pointer"] for e in body["errors"]}  # type: ignore[attr-defined]
    assert pointers == {"#/body/total", "#/body/women"}


async def test_malformed_json_is_a_problem(sample_client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    response = await sample_client.post(
        "/v1/sample/workforce",
        content=b"{not json",
        headers={"Authorization": f"Bearer {test_platform.token(Role.STAFF)}", "Content-Type": "application/json"},
    )
    assert_problem(response, 422)


async def test_unknown_route_is_404_problem(sample_client: httpx.AsyncClient) -> None:
    body = assert_problem(await sample_client.get("/v1/nothing-here"), 404)
    assert body["instance"] == "/v1/nothing-here"
    assert "/v1/nothing-here" in str(body["detail"])


async def test_wrong_method_is_405_problem(sample_client: httpx.AsyncClient) -> None:
    assert_problem(await sample_client.delete("/health/live"), 405)


async def test_unhandled_error_is_500_problem_without_internals(sample_client: httpx.AsyncClient) -> None:
    body = assert_problem(await sample_client.get("/v1/sample/boom"), 500)
    assert "secret internals" not in str(body)


async def test_openapi_documents_problem_schema_and_stable_operation_ids(sample_client: httpx.AsyncClient) -> None:
    document = (await sample_client.get("/openapi.json")).json()
    assert "Problem" in document["components"]["schemas"]
    operation_ids = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert {"sample-get_current_principal", "sample-list_audit_events", "sample-post_workforce"} <= operation_ids
