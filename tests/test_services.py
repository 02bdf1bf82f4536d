"""All six services: built from one factory, authenticated, documented, and their OpenAPI committed."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from betterwork_contracts import EVENTS
from devstack.cli import export_openapi
from devstack.pytest_plugin import TestPlatform, serve_in_process
from servicekit.auth import Role

SERVICES = ["registry", "assessments", "advisory", "partnerships", "invoicing", "transparency"]
PORTS = dict(zip(SERVICES, range(8001, 8007), strict=True))
CONTRACTS = Path(__file__).resolve().parents[1] / "contracts" / "openapi"


def test_all_six_services_are_installed(test_platform: TestPlatform) -> None:
    assert list(test_platform.services) == SERVICES


@pytest.mark.parametrize("service", SERVICES)
def test_default_port(service: str, test_platform: TestPlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(f"{service.upper()}_PORT", raising=False)
    assert test_platform.services[service].settings().port == PORTS[service]


@pytest.mark.parametrize("service", SERVICES)
async def test_authenticated_endpoint_and_problem_on_401(service: str, test_platform: TestPlatform) -> None:
    async with serve_in_process(test_platform.app(service)) as client:
        anonymous = await client.get("/v1/me")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"

        token = test_platform.token(Role.FACTORY, organisation_id="f-42", country="KH")
        me = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json() == {
            "subject": "local-factory",
            "roles": ["factory"],
            "organisation_id": "f-42",
            "country": "KH",
            "scopes": [],
            "service": service,
        }

        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text


@pytest.mark.parametrize("service", SERVICES)
async def test_operation_ids_are_prefixed_with_the_service(service: str, test_platform: TestPlatform) -> None:
    async with serve_in_process(test_platform.app(service)) as client:
        document = (await client.get("/openapi.json")).json()
    operation_ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert operation_ids, "no documented operations"
    assert all(op_id.startswith(f"{service}-") for op_id in operation_ids)
    assert len(operation_ids) == len(set(operation_ids))


def test_committed_openapi_matches_the_code() -> None:
    generated = export_openapi()
    stale = [
        name
        for name, text in generated.items()
        if not (CONTRACTS / f"{name}.json").exists() or (CONTRACTS / f"{name}.json").read_text() != text
    ]
    assert not stale, f"contracts/openapi is stale for {stale}: run `make contracts` and commit"


@pytest.mark.parametrize("service", SERVICES)
def test_the_contracts_name_as_consumers_exactly_the_services_whose_handlers_take_the_event(service: str) -> None:
    """The AsyncAPI document lists a service under an event's channel when its handlers take that event type, and
    only then: the consumers declared in the contracts are checked against the code that subscribes."""
    handled = set(importlib.import_module(f"{service}.handlers").EVENT_HANDLERS)
    declared = {event_type for event_type, model in EVENTS.items() if service in model.consumers}
    assert sorted(handled - declared) == [], "handled but not declared in the contracts"
    assert sorted(declared - handled) == [], "declared in the contracts but not handled"
