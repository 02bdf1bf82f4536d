"""The authorization matrix: every route of the six OpenAPI documents x every role x own and foreign objects.

Generated from `contracts/openapi/*.json`, so a new route is covered as soon as its contract is committed (a
route addressing a new kind of object fails here until `PATH_KINDS` says which object it addresses and
`tests/security/world.py` builds one).

The rule tested is the one a caller notices: a caller who may not see an object is answered exactly as for an
id that exists nowhere (404, or the route's refusal of its role or of no token), never with its data, never
with a 403 or a 409 that a missing object would not get. Lists must not show a foreign object's id. Callers
belong to a KH world; the "foreign" objects are a VN world's (another country, another factory, another
buyer); "own" reads go to the callers' own world and "own" writes to a second KH world they may change.

Known leaks in services this suite does not own are listed in `KNOWN_LEAKS`, one strict xfail per cell: the
cell fails as soon as the leak is fixed, so the list stays honest.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from devstack.pytest_plugin import TestPlatform
from devstack.testkit.assessments import all_compliant
from devstack.testkit.invoicing import billing, price_list_body
from devstack.testkit.registry import new_factory, random_word
from tests.security.world import (
    Platform,
    World,
    build,
    headers,
    protocol_document,
    running,
    slcp_document,
    tool_document,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

OPENAPI = Path(__file__).resolve().parents[2] / "contracts" / "openapi"
METHODS = ("get", "post", "put", "patch", "delete")
ROLES = ("staff", "factory", "buyer", "service", "constituent", "admin", "anonymous")
RELATIONS = ("own", "foreign")

# Which object a path parameter addresses, per service (`import_id` is a list import in the registry and an
# SLCP import in assessments). Parameters that name no object (a question code, a year) are in CONSTANTS.
PATH_KINDS: dict[tuple[str, str], str] = {
    ("registry", "factory_id"): "factory",
    ("registry", "proposal_id"): "proposal",
    ("registry", "review_id"): "review",
    ("registry", "import_id"): "registry_import",
    ("registry", "group_id"): "group",
    ("assessments", "assessment_id"): "assessment",
    ("assessments", "factory_id"): "factory",
    ("assessments", "import_id"): "slcp_import",
    ("assessments", "tool_version_id"): "tool",
    ("assessments", "case_id"): "case",
    ("partnerships", "buyer_id"): "buyer",
    ("partnerships", "factory_id"): "factory",
    ("partnerships", "consent_id"): "consent",
    ("partnerships", "link_id"): "link",
    ("partnerships", "endpoint_id"): "endpoint",
    ("partnerships", "message_id"): "message",
    ("partnerships", "alert_id"): "industry_alert",
    ("invoicing", "invoice_id"): "invoice",
    ("invoicing", "buyer_id"): "buyer",
    ("invoicing", "entry_id"): "entry",
    ("invoicing", "country"): "country",
    ("invoicing", "refund_id"): "refund_due",
    ("assessments", "proposal_id"): "revision_proposal",
    ("assessments", "referral_id"): "referral",
    ("advisory", "plan_id"): "improvement_plan",
    ("advisory", "item_id"): "improvement_item",
    ("advisory", "report_id"): "progress_report",
    ("advisory", "country"): "country",
    ("advisory", "factory_id"): "factory",
    ("advisory", "member_id"): "committee_member",
    ("advisory", "evidence_id"): "evidence",
    ("advisory", "session_id"): "training_session",
    ("transparency", "country"): "country",
    ("transparency", "number"): "open_data_release",
    ("transparency", "factory_id"): "published_factory",
    ("transparency", "publication_id"): "publication",
}
CONSTANTS: dict[str, str] = {"question_code": "KH-CL-01", "year": "2026", "kind": "pr1", "name": "factories.csv"}
# Kinds `world.py` cannot build yet: their cells are strict xfails (they fail for want of the object; the day a
# builder exists they pass, and the strict marker makes that a failure until the kind leaves this list).
UNBUILT: dict[str, str] = {}
# Query parameters that narrow a list to one object: the foreign cell asks for the foreign object's.
QUERY_KINDS = {
    "factory_id": "factory",
    "buyer_id": "buyer",
    "customer_id": "factory",
    "import_job_id": "registry_import",
    "group_id": "group",
    "assessment_id": "assessment",
}

Body = tuple[str, Any] | None  # (content type, body) or no body


def _json(body: Any) -> Body:
    return ("application/json", body)


# A valid body per write, built from the target world's ids (or the fake world's, for the comparison).
BODIES: dict[str, Callable[[World], Body]] = {
    "registry-create_factory": lambda w: _json(new_factory(country=w.country)),
    "registry-update_factory": lambda w: _json({"group_name": f"Group {random_word(6)}"}),
    "registry-propose_change": lambda w: _json({"name": f"Proposed {random_word()}"}),
    "registry-merge_factory": lambda w: _json({"merged_id": w["factory2"], "reason": "one factory"}),
    "registry-change_status": lambda w: _json({"change": "activated"}),
    "registry-upload": lambda w: ("text/csv", f"country,name,address\n{w.country},{random_word()},Plot 1 Road\n"),
    "registry-approve_proposal": lambda w: _json({"note": "checked"}),
    "registry-reject_proposal": lambda w: _json({"note": "checked"}),
    "registry-confirm_review": lambda w: _json({"note": "checked"}),
    "registry-reject_review": lambda w: _json({"note": "checked"}),
    "registry-create_manufacturing_group": lambda w: _json({"name": f"Group {random_word(10)}"}),
    "assessments-schedule": lambda w: _json(
        {"factory_id": w["factory"], "assessment_type": "regular", "start_date": "2027-01-04", "end_date": "2027-01-05"}
    ),
    "assessments-record_batch": lambda w: _json({"findings": all_compliant()}),
    "assessments-record_one": lambda w: _json({"result": "compliant"}),
    "assessments-revise": lambda w: _json({"result": "compliant", "reason": "evidence re-read"}),
    "assessments-move": lambda w: _json({"to": "comment_period"}),
    "assessments-import_slcp": lambda w: _json(slcp_document(w["slcp_facility"])),
    "assessments-import_tool": lambda w: ("application/yaml", tool_document(w.country)),
    "assessments-report_case": lambda w: _json(
        {"factory_id": w["factory"], "category": "child_labour", "source": "hotline"}
    ),
    "assessments-move_case": lambda w: _json({"to": "referred"}),
    "assessments-cancel": lambda w: _json({"reason": "factory closed for the holiday"}),
    "assessments-comment": lambda w: _json({"question_code": "KH-CL-01", "comment": "we disagree"}),
    "assessments-approve_revision": lambda w: _json({"note": "checked"}),
    "assessments-reject_revision": lambda w: _json({"note": "checked"}),
    "assessments-reschedule": lambda w: _json(
        {"start_date": "2027-02-01", "end_date": "2027-02-02", "reason": "inspector ill"}
    ),
    "assessments-refer_case": lambda w: _json({"party": "ministry_of_labour", "channel": "email"}),
    "assessments-acknowledge_referral": lambda w: _json({"note": "received"}),
    "partnerships-grant_webhook_party": lambda w: _json({"party": "ministry_of_labour"}),
    "partnerships-issue_industry_alert": lambda w: _json(
        {
            "kind": "strike",
            "title": "Strike at the industrial park",
            "body": "Transport blocked until Friday.",
            "country": w.country,
            "factory_ids": [w["factory"]],
        }
    ),
    "assessments-put_protocol": lambda w: ("application/yaml", protocol_document(w.country)),
    "invoicing-set_exchange_rate": lambda w: _json({"currency": "KHR", "rate": "4100", "as_of": "2026-06-30"}),
    "invoicing-set_programme_cost": lambda w: _json({"currency": "USD", "amount": "250000.00"}),
    "invoicing-create_invoice": lambda w: _json(
        {
            "country": w.country,
            "customer_kind": "factory",
            "customer_id": w["factory"],
            "lines": [{"service": "advisory_day", "quantity": 1}],
        }
    ),
    "invoicing-create_credit_note": lambda w: _json({"reason": "billed twice", "amount": "1.00"}),
    "invoicing-write_off_invoice": lambda w: _json({"reason": "uncollectable"}),
    "invoicing-record_payment": lambda w: _json(
        {"amount": "1.00", "currency": "USD", "received_on": date.today().isoformat(), "invoice_id": w["invoice"]}
    ),
    "invoicing-create_price_list": lambda w: _json(
        price_list_body(w.country, effective_from=f"20{secrets.randbelow(70) + 30}-01-01")
    ),
    "invoicing-buy_credits": lambda w: _json({"quantity": 1, "country": w.country, "billing": billing()}),
    "invoicing-spend_credit": lambda w: _json({"factory_id": w["factory"], "cycle": 2}),
    "invoicing-reverse_spend": lambda w: _json({"reason": "spent on the wrong factory"}),
    "invoicing-refund_refund_due": lambda w: _json(
        {"refunded_on": date.today().isoformat(), "method": "bank_transfer", "reference": "ABA-MATRIX-0001"}
    ),
    "invoicing-set_off_refund_due": lambda w: _json({"invoice_id": w["invoice"]}),
    "partnerships-register_buyer": lambda w: _json({"name": f"Brand {random_word()}", "headquarters_country": "SE"}),
    "partnerships-update_buyer": lambda w: _json({"name": f"Brand {random_word()}"}),
    "partnerships-grant_entitlement": lambda w: _json({"buyer_id": w["buyer"], "factory_id": w["factory"], "cycle": 2}),
    "partnerships-grant_consent": lambda w: _json({"buyer_id": w["buyer"], "scopes": ["assessment_reports"]}),
    "partnerships-declare_link": lambda w: _json({"buyer_id": w["buyer"], "factory_id": w["factory"]}),
    "partnerships-end_link": lambda w: _json({"end_date": date.today().isoformat()}),
    "partnerships-create_webhook_endpoint": lambda w: _json({"url": "http://127.0.0.1:9/other", "event_types": ["*"]}),
    "partnerships-update_webhook_endpoint": lambda w: _json({"description": "matrix"}),
    "partnerships-rotate_webhook_secret": lambda w: _json({}),
    "advisory-open_plan": lambda w: _json({"factory_id": w["factory"], "cycle": 1}),
    "advisory-describe_item": lambda w: _json({"root_cause": "no procedure"}),
    "advisory-add_evidence": lambda w: _json(
        {"file_name": "exit.png", "content_type": "image/png", "content_base64": "aGVsbG8="}
    ),
    "advisory-move_item": lambda w: _json({"to": "in_progress"}),
    "advisory-add_self_diagnosis_item": lambda w: _json({"title": "Fire exits kept clear"}),
    "advisory-issue_progress_report": lambda w: _json({"kind": "pr1"}),
}
# Body fields that name an object of the world: a write carrying one has a foreign cell (with the foreign id).
BODY_REFERENCES = {
    "assessments-schedule",
    "assessments-report_case",
    "assessments-import_slcp",
    "invoicing-create_invoice",
    "invoicing-record_payment",
    "invoicing-spend_credit",
    "invoicing-set_off_refund_due",
    "partnerships-grant_entitlement",
    "partnerships-grant_consent",
    "partnerships-declare_link",
    "partnerships-issue_industry_alert",
    "advisory-open_plan",
}
# Writes naming only a country in their body: the foreign cell sends the foreign country (nothing to compare
# with an object that does not exist: the write must simply be refused).
BODY_COUNTRY = {
    "registry-create_factory",
    "assessments-import_tool",
    "assessments-put_protocol",
    "invoicing-create_price_list",
    "invoicing-buy_credits",
}

# What a role may see although the object is not its own, by design (not a leak): (operation id, role) ->
# (relations, why). Seeing is not changing: a write in this list must still be refused (403 is fine there).
EVERYONE = ("staff", "factory", "buyer", "service", "constituent")
BOTH = ("own", "foreign")
PUBLIC: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    **{
        (op, role): (BOTH, "the basic profile (names, country, sector, status, external ids) is the directory")
        for op in ("registry-get_factory", "registry-list_factories")
        for role in ("buyer", "service")
    },
    **{
        (op, role): (BOTH, "a published tool version is a reference document (questions and their legal basis)")
        for op in ("assessments-list_tools", "assessments-get_tool", "assessments-export_tool")
        for role in EVERYONE
    },
    ("assessments-publish_tool", "staff"): (("foreign",), "tool versions are public: a refusal may say 403"),
    **{
        (op, role): (BOTH, "price lists are published (the buyer credit scale of each programme)")
        for op in ("invoicing-list_price_lists", "invoicing-price_list_in_force")
        for role in EVERYONE
    },
    **{
        (op, "staff"): (("foreign",), "brands are served by every programme: all staff read the brand directory")
        for op in ("partnerships-list_buyers", "partnerships-get_buyer")
    },
    **{
        (op, "staff"): (
            ("foreign",),
            "a manufacturing group spans countries (its member counts are the group discount's): all staff read "
            "every group",
        )
        for op in ("registry-list_manufacturing_groups", "registry-get_manufacturing_group")
    },
    ("partnerships-update_buyer", "staff"): (
        ("foreign",),
        "another programme's brand is readable (a refusal may say 403); only its home programme changes it",
    ),
    ("invoicing-buy_credits", "buyer"): (("foreign",), "a brand buys credits of any country's programme"),
    ("invoicing-spend_credit", "buyer"): (
        ("foreign",),
        "a brand may unlock any factory of the directory; reading its report still needs consent (partnerships)",
    ),
    ("advisory-get_country_progress", "constituent"): (("own",), "aggregate figures for the country's constituents"),
    **{
        (op, role): (BOTH, "the transparency portal and open data: what an approved publication released is public")
        for op in (
            "transparency-latest_open_data_zip",
            "transparency-latest_open_data_file",
            "transparency-open_data_zip",
            "transparency-open_data_dcat",
            "transparency-open_data_file",
            "transparency-public_changes",
            "transparency-latest_release",
            "transparency-get_release",
            "transparency-search_factories",
            "transparency-get_public_factory",
            "transparency-list_releases",
        )
        for role in (*EVERYONE, "anonymous")
    },
}


def public(route: Route, role: str, relation: str) -> bool:
    relations, _ = PUBLIC.get((route.operation_id, role), ((), ""))
    return relation in relations


# Cells that leak today in services whose code this suite's authors do not own; each is a strict xfail.
KNOWN_LEAKS: dict[tuple[str, str, str], str] = {}


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str
    operation_id: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    required_query: tuple[tuple[str, Any], ...] = ()  # (name, value) the contract requires; "{country}": the world's

    @property
    def write(self) -> bool:
        return self.method != "GET"

    @property
    def kinds(self) -> list[str]:
        """The kinds of object the route's path names."""
        return [k for p in self.path_params if (k := PATH_KINDS.get((self.service, p)))]

    @property
    def addresses_objects(self) -> bool:
        if not self.write and not self.path_params:
            return True  # a list: it must not show another programme's objects
        return bool(self.kinds) or self.operation_id in (BODY_REFERENCES | BODY_COUNTRY)


SPECS = {document.stem: json.loads(document.read_text()) for document in sorted(OPENAPI.glob("*.json"))}


def routes() -> list[Route]:
    found = []
    for service, spec in SPECS.items():
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                if method not in METHODS:
                    continue
                params = operation.get("parameters", [])
                found.append(
                    Route(
                        service,
                        method.upper(),
                        path,
                        operation["operationId"],
                        tuple(p["name"] for p in params if p["in"] == "path"),
                        tuple(p["name"] for p in params if p["in"] == "query"),
                        tuple(
                            (p["name"], required_value(p, spec))
                            for p in params
                            if p["in"] == "query" and p.get("required")
                        ),
                    )
                )
    return found


def required_value(parameter: dict[str, Any], spec: dict[str, Any]) -> Any:
    """A value for a required query parameter: the world's country for `country`, a wide period for dates."""
    named = {"country": "{country}", "from": "2020-01-01", "to": "2030-12-31"}
    if parameter["name"] in named:
        return named[parameter["name"]]
    return synthesised(parameter.get("schema", {}), spec.get("components", {}).get("schemas", {}))


def unknown_params(route: Route) -> list[str]:
    return [p for p in route.path_params if (route.service, p) not in PATH_KINDS and p not in CONSTANTS]


def synthesised(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """The smallest value `schema` accepts (required properties only), for a write the matrix has no body for."""
    if "$ref" in schema:
        return synthesised(components[schema["$ref"].split("/")[-1]], components)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            return synthesised(options[0], components)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: synthesised(properties[name], components) for name in schema.get("required", [])}
    if kind == "array":
        return [synthesised(schema.get("items", {}), components) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        formats = {"date": date.today().isoformat(), "uuid": str(uuid.uuid4()), "date-time": "2026-11-02T09:00:00Z"}
        return formats.get(
            schema.get("format", ""), "matrix"[: schema.get("maxLength", 6)].ljust(schema.get("minLength", 0), "x")
        )
    return {"integer": 1, "number": 1, "boolean": False}.get(kind)


def default_body(route: Route) -> Callable[[World], Body] | None:
    """A body from the contract for a write not listed in BODIES (JSON only), or None when it takes none."""
    spec = SPECS[route.service]
    operation = spec["paths"][route.path][route.method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    value = synthesised(content["application/json"]["schema"], spec.get("components", {}).get("schemas", {}))
    return lambda w: _json(value)


ROUTES = routes()
for _route in ROUTES:
    if _route.write and _route.operation_id not in BODIES and (made := default_body(_route)) is not None:
        BODIES[_route.operation_id] = made  # from the contract: valid, if not meaningful


def cells() -> list[Any]:
    params = []
    for route in ROUTES:
        if unknown_params(route):
            continue  # test_every_route_is_in_the_matrix names it
        for role in ROLES:
            for relation in RELATIONS:
                if relation == "foreign" and not route.addresses_objects:
                    continue  # nothing of another programme is named: the own cell covers the route
                key = (route.operation_id, role, relation)
                marks = []
                unbuilt = [UNBUILT[k] for k in route.kinds if k in UNBUILT]
                if unbuilt:
                    marks.append(pytest.mark.xfail(strict=True, raises=KeyError, reason=f"no object: {unbuilt[0]}"))
                elif key in KNOWN_LEAKS:
                    marks.append(pytest.mark.xfail(strict=True, reason=f"known leak: {KNOWN_LEAKS[key]}"))
                params.append(
                    pytest.param(route, role, relation, marks=marks, id=f"{route.operation_id}-{role}-{relation}")
                )
    return params


CELLS = cells()


@dataclass
class Matrix:
    platform: Platform
    home: World  # the callers' world (KH); own reads go here
    foreign: World  # another country's, another factory's, another buyer's (VN)
    scratch: World  # own writes go here (KH)
    outcomes: dict[str, list[str]]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def matrix(test_platform: TestPlatform) -> AsyncIterator[Matrix]:
    async with running(test_platform, f"m{secrets.token_hex(3)}.") as platform:
        home = await build(platform, "KH")
        foreign = await build(platform, "VN")
        scratch = await build(platform, "KH")
        result = Matrix(platform, home, foreign, scratch, {"cells": [], "leaks": []})
        yield result
    foreign = sum(1 for cell in CELLS if cell.values[2] == "foreign")
    size = f"{len(ROUTES)} routes x {len(ROLES)} roles x own/foreign = {len(CELLS)} cells ({foreign} foreign)"
    unbuilt = sum(1 for cell in CELLS if any(k in UNBUILT for k in cell.values[0].kinds))
    print(f"\nauthorization matrix: {size}; {unbuilt} cells wait for a builder (UNBUILT)")
    print(f"  leaks: {len(result.outcomes['leaks'])} ({len(KNOWN_LEAKS)} listed in KNOWN_LEAKS)")
    for leak in result.outcomes["leaks"]:
        print(f"  leak: {leak}")


def url(route: Route, world: World) -> str:
    path = route.path
    for name in route.path_params:
        kind = PATH_KINDS.get((route.service, name))
        value = CONSTANTS[name] if kind is None else (world.country if kind == "country" else world[kind])
        path = path.replace("{" + name + "}", value)
    return path


def query(route: Route, world: World) -> dict[str, str]:
    required = {name: str(value).replace("{country}", world.country) for name, value in route.required_query}
    return required | {q: world[QUERY_KINDS[q]] for q in route.query_params if q in QUERY_KINDS}


async def ask(platform: Platform, route: Route, world: World, caller: dict[str, str]) -> httpx.Response:
    client = platform.client(route.service, route.operation_id)
    body = BODIES[route.operation_id](world) if route.operation_id in BODIES else None
    request_headers = dict(caller)
    kwargs: dict[str, Any] = {"params": query(route, world) if route.method == "GET" else None}
    if body is not None:
        content_type, payload = body
        request_headers["Content-Type"] = content_type
        kwargs["content"] = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
    return await client.request(route.method, url(route, world), headers=request_headers, **kwargs)


def ok(response: httpx.Response) -> bool:
    return response.status_code < 400


def mentions(response: httpx.Response, world: World) -> list[str]:
    """Kinds of `world`'s objects whose ids the response shows (ids that cannot turn up by chance: UUIDs)."""
    return sorted(kind for kind, value in world.ids.items() if len(value) == 36 and value in response.text)


async def test_every_route_is_in_the_matrix() -> None:
    """A route whose path names a new kind of object needs a builder (world.py) and a line in PATH_KINDS; every
    listed leak and exemption names a cell that exists (a renamed route must not leave them behind)."""
    missing = {route.operation_id: unknown_params(route) for route in ROUTES if unknown_params(route)}
    assert not missing, f"say which object these path parameters address (PATH_KINDS): {missing}"
    operations = {route.operation_id for route in ROUTES}
    stale = sorted({op for op, _, _ in KNOWN_LEAKS} - operations) + sorted({op for op, _ in PUBLIC} - operations)
    assert not stale, f"KNOWN_LEAKS or PUBLIC name operations the contracts no longer have: {stale}"


@pytest.mark.parametrize(("route", "role", "relation"), CELLS)
async def test_a_caller_sees_only_what_it_may(matrix: Matrix, route: Route, role: str, relation: str) -> None:
    platform, tp = matrix.platform, matrix.platform.test_platform
    name = f"{route.method} {route.path} as {role} on {relation} objects"
    matrix.outcomes["cells"].append(name)
    seen_by_design = public(route, role, relation)
    if relation == "own":
        world = matrix.scratch if route.write else matrix.home
        caller = headers(tp, role, world)
        answer = await ask(platform, route, world, caller)
        assert answer.status_code < 500, f"{name}: {answer.status_code} {answer.text[:300]}"
        if seen_by_design and route.write:
            _refused(matrix, name, answer)
        elif role in ("constituent", "anonymous") and not seen_by_design:
            # Neither sees any programme object: answered as for an object that does not exist.
            await _hidden(matrix, name, route, world, caller, answer)
        elif role == "admin" and not route.write:
            refused = answer.status_code in (401, 403, 404)
            assert not refused, f"{name}: the admin is refused its own platform's object: {answer.status_code}"
        return
    caller = headers(tp, role, matrix.home)
    answer = await ask(platform, route, matrix.foreign, caller)
    assert answer.status_code < 500, f"{name}: {answer.status_code} {answer.text[:300]}"
    if seen_by_design and route.write and route.operation_id not in BODY_COUNTRY | BODY_REFERENCES:
        _refused(matrix, name, answer)
        return
    if role == "admin" or seen_by_design:
        return  # the admin sees every programme; what others may see by design is in PUBLIC, with the reason
    await _hidden(matrix, name, route, matrix.foreign, caller, answer)


def _refused(matrix: Matrix, name: str, answer: httpx.Response) -> None:
    """A caller who may see the object by design, but not change it, is refused."""
    if ok(answer):
        matrix.outcomes["leaks"].append(f"{name}: may see, but changed it: {answer.status_code}")
    assert not ok(answer), f"{name}: may see, but changed it: {answer.status_code}"


async def _hidden(
    matrix: Matrix, name: str, route: Route, world: World, caller: dict[str, str], answer: httpx.Response
) -> None:
    """The answer shows nothing of `world`: not its data, not its ids, not that its objects exist."""
    problems = []
    if ok(answer) and (route.write or route.path_params or route.operation_id in BODY_COUNTRY):
        problems.append(f"answered {answer.status_code}")
    shown = mentions(answer, world)
    if ok(answer) and shown:
        problems.append(f"shows the ids of {shown}")
    compares = route.path_params or query(route, world) or route.operation_id in BODY_REFERENCES
    if compares and not problems:
        nowhere = await ask(matrix.platform, route, world.fake(), caller)
        if nowhere.status_code != answer.status_code:
            problems.append(f"answers {answer.status_code} where a missing object answers {nowhere.status_code}")
    if problems:
        matrix.outcomes["leaks"].append(f"{name}: {'; '.join(problems)}")
    assert not problems, f"{name}: {'; '.join(problems)}: {answer.text[:300]}"
