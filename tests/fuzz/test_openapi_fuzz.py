"""Schemathesis over the six committed OpenAPI documents, against each service's ASGI app in process.

Phases: examples, coverage, fuzzing, and stateful where the contract lets schemathesis chain calls. Checks:
no server error, responses conform to the documented schema, data the schema refuses is refused, and a route
that needs a token does not answer without one. One run per service and caller role (a valid token each),
bounded by `MAX_EXAMPLES` so the whole fuzz stays within a few minutes on two cores; the number of cases sent
and the failures are printed at the end of the session.

A run that finds a failure in a service this suite does not own is listed in `KNOWN_FAILURES` as a strict xfail
(it fails as soon as the service is fixed); the failing requests are printed with the run.
"""

from __future__ import annotations

import os
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES as NEGATIVE_STATUSES
from schemathesis.engine import Status, events, from_schema

from devstack.pytest_plugin import TestPlatform
from servicekit.auth import Role

OPENAPI = Path(__file__).resolve().parents[2] / "contracts" / "openapi"
SERVICES = ("registry", "assessments", "partnerships", "invoicing", "advisory", "transparency")
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "8"))
# The admin passes every role check, so its run reaches every route's validation and use case: it runs every
# phase. The other roles' runs look for what differs by role (a 500 past a role check, a response of another
# shape): examples and fuzzing, with fewer examples.
ROLE_EXAMPLES = int(os.environ.get("FUZZ_ROLE_EXAMPLES", "2"))
CHECKS = ("not_a_server_error", "response_schema_conformance", "negative_data_rejection", "ignored_auth")
PHASES = ("examples", "coverage", "fuzzing", "stateful")
QUIET = {"relay_enabled": False, "consumer_enabled": False}
SETTINGS: dict[str, dict[str, Any]] = {
    "partnerships": {"webhook_worker_enabled": False, "webhook_allow_private_targets": False},
    "invoicing": {"overdue_sweep_enabled": False},
}


def callers(platform: TestPlatform) -> dict[str, dict[str, Any]]:
    """Token claims of one valid caller per role (the organisations exist nowhere: routes must say 404)."""
    return {
        "staff": {"roles": (Role.STAFF,), "country": "KH", "scopes": ["invoicing:finance"], "subject": "ea-fuzz"},
        "factory": {"roles": (Role.FACTORY,), "country": "KH", "organisation_id": str(uuid.uuid4())},
        "buyer": {"roles": (Role.BUYER,), "organisation_id": str(uuid.uuid4())},
        "service": {"roles": (Role.SERVICE,), "country": "KH", "scopes": ["slcp:read", "slcp:write"]},
        "admin": {"roles": (Role.ADMIN,), "subject": "platform-admin"},
    }


ROLES = ("staff", "factory", "buyer", "service", "admin")

# (service, role) runs that fail today in services whose code this suite's authors do not own.
KNOWN_FAILURES: dict[tuple[str, str], str] = {}


@dataclass
class Tally:
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    by_run: dict[str, tuple[int, int]] = field(default_factory=dict)
    by_phase: dict[str, int] = field(default_factory=dict)


TALLY = Tally()


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    print(f"\nfuzz: {TALLY.cases} cases over {len(TALLY.by_run)} runs; {len(TALLY.failures)} failures")
    print("  cases by phase: " + ", ".join(f"{phase} {n}" for phase, n in sorted(TALLY.by_phase.items())))
    for run, (cases, failed) in sorted(TALLY.by_run.items()):
        print(f"  {run}: {cases} cases, {failed} failures")
    for failure in TALLY.failures:
        print(f"  FAIL {failure}")


def config(token: str, role: str) -> SchemathesisConfig:
    phases = PHASES if role == "admin" else ("examples", "fuzzing")
    examples = MAX_EXAMPLES if role == "admin" else ROLE_EXAMPLES
    return SchemathesisConfig.from_dict(
        {
            "headers": {"Authorization": f"Bearer {token}"},
            "generation": {"max-examples": examples, "deterministic": True},
            "phases": {phase: {"enabled": phase in phases} for phase in PHASES}
            | {"coverage": {"enabled": "coverage" in phases, "unexpected-methods": []}},  # 405s are FastAPI's
            "checks": {"enabled": False, **{check: {"enabled": True} for check in CHECKS}}
            # A body over the cap is refused before it is parsed (413): as much a rejection as a 422.
            | {"negative_data_rejection": {"enabled": True, "expected-statuses": [*NEGATIVE_STATUSES, "413"]}},
        }
    )


def run(platform: TestPlatform, service: str, role: str) -> tuple[int, list[str]]:
    """Cases sent and failures found by one schemathesis run of `service`'s contract as `role`."""
    claims = callers(platform)[role]
    token = platform.token(*claims.pop("roles"), **claims)
    schema = schemathesis.openapi.from_path(OPENAPI / f"{service}.json", config=config(token, role))
    schema.app = platform.app(service, **QUIET, **SETTINGS.get(service, {}))
    cases, failures = 0, {}
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            TALLY.by_phase[event.phase.value] = TALLY.by_phase.get(event.phase.value, 0) + len(event.recorder.cases)
            if event.status is Status.FAILURE:
                failures.update(describe(event))
        elif isinstance(event, events.NonFatalError):
            # The app raised (a 500): one line per operation and exception type, with where it was raised.
            phase = event.phase.value if event.phase else "-"
            key = f"[{phase}] {event.label}: {type(event.value).__name__}"
            where = "".join(traceback.format_tb(event.value.__traceback__)[-2:])
            failures.setdefault(key, f"{key}: {str(event.value)[:300]}\n{where}")
        elif isinstance(event, events.FatalError):
            failures.setdefault("fatal", f"fatal error {event.exception!r}")
    return cases, sorted(failures.values())


def describe(event: events.ScenarioFinished) -> dict[str, str]:
    """One line per failed check: phase, operation, check, and the request that showed it."""
    found: dict[str, str] = {}
    for case_id, checks in event.recorder.checks.items():
        for check in checks:
            if check.status is not Status.FAILURE:
                continue
            interaction = event.recorder.interactions.get(case_id)
            request = ""
            if interaction is not None:
                body = interaction.request.body
                shown = body[:1000] if isinstance(body, bytes | str) else ""
                request = f" <- {interaction.request.method} {interaction.request.uri} {shown!r}"
            title = check.failure_info.failure.title if check.failure_info else ""
            key = f"[{event.phase.value}] {event.recorder.label}: {check.name}: {title}"
            found.setdefault(key, key + request)  # one example request per operation and check
    return found


def runs() -> list[Any]:
    params = []
    for service in SERVICES:
        for role in ROLES:
            known = KNOWN_FAILURES.get((service, role))
            marks = [pytest.mark.xfail(strict=True, reason=f"known: {known}")] if known else []
            params.append(pytest.param(service, role, marks=marks, id=f"{service}-{role}"))
    return params


@pytest.mark.parametrize(("service", "role"), runs())
def test_the_contract_holds_under_fuzzing(test_platform: TestPlatform, service: str, role: str) -> None:
    cases, failures = run(test_platform, service, role)
    TALLY.cases += cases
    TALLY.by_run[f"{service} as {role}"] = (cases, len(failures))
    TALLY.failures.extend(f"{service} as {role}: {f}" for f in failures)
    assert cases > 0, f"{service} as {role}: schemathesis sent nothing"
    assert not failures, "\n".join(failures)
