"""One country programme's worth of objects in every service, made through each service's own API.

The authorization matrix builds three: a KH world whose callers ask, a VN world that is foreign to them, and a
second KH world that the "own" writes may change freely (so a write never disturbs a read cell).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files
from typing import Any

import httpx
import yaml

from betterwork_contracts.events.assessments import AssessmentCancelled, AssessmentScheduled
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit import advisory as advisory_kit
from devstack.testkit import assessments as assessments_kit
from devstack.testkit import invoicing as invoicing_kit
from devstack.testkit import partnerships as partnerships_kit
from devstack.testkit import transparency as transparency_kit
from devstack.testkit.access import as_role, factory, service, staff, team_leader
from devstack.testkit.database import connect_as
from devstack.testkit.events import cloudevent_headers
from devstack.testkit.registry import enrolled_factory, new_factory, random_word, registered_factory
from servicekit.auth import Role

SERVICES = ("registry", "assessments", "partnerships", "invoicing", "advisory", "transparency")
QUIET = {"relay_enabled": False, "consumer_enabled": False}
# Settings a service needs to run in process beside the others without background work.
SETTINGS: dict[str, dict[str, Any]] = {
    "registry": {"import_poll_s": 0.2},
    "partnerships": {"webhook_allow_private_targets": True, "webhook_worker_enabled": False, "webhook_timeout_s": 1},
    "invoicing": {"overdue_sweep_enabled": False},
}
# Matching that sends any near name to a person: how the matrix gets a review item without depending on scores.
REVIEW_EVERYTHING = {"match_thresholds": {"*": {"link": 100, "review": 1}}}
SCOPES = ("invoicing:finance", "slcp:read", "slcp:write")


# Routes that only a one-country instance answers (the others run for every country): served by an instance of the
# callers' country, KH (without the shipped data it would seed: the worlds publish their own).
COUNTRY_INSTANCE_ROUTES = {"assessments-get_programme": "assessments"}


@dataclass
class Platform:
    """The six services in process, one client each, plus a registry that reviews every near match and one-country
    instances (KH) for `COUNTRY_INSTANCE_ROUTES`."""

    test_platform: TestPlatform
    clients: dict[str, httpx.AsyncClient]
    reviewing_registry: httpx.AsyncClient
    kh_instances: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    def client(self, service: str, operation_id: str) -> httpx.AsyncClient:
        """The client that serves `operation_id`."""
        if operation_id in COUNTRY_INSTANCE_ROUTES:
            return self.kh_instances[service]
        return self.clients[service]


@contextlib.asynccontextmanager
async def running(test_platform: TestPlatform, prefix: str) -> AsyncIterator[Platform]:
    async with contextlib.AsyncExitStack() as stack:
        clients = {}
        for name in SERVICES:
            settings = {**QUIET, **SETTINGS.get(name, {}), "kafka_topic_prefix": prefix}
            clients[name] = await stack.enter_async_context(serve_in_process(test_platform.app(name, **settings)))
        reviewing = await stack.enter_async_context(
            serve_in_process(test_platform.app("registry", **QUIET, **REVIEW_EVERYTHING, kafka_topic_prefix=prefix))
        )
        kh_instances = {}
        for name in sorted(set(COUNTRY_INSTANCE_ROUTES.values())):
            settings = {**QUIET, **SETTINGS.get(name, {}), "kafka_topic_prefix": prefix}
            kh = test_platform.app(name, **settings, country="KH", load_shipped_data=False)
            kh_instances[name] = await stack.enter_async_context(serve_in_process(kh))
        yield Platform(test_platform, clients, reviewing, kh_instances)


@dataclass
class World:
    """Ids of one programme's objects, by kind (`factory`, `assessment`, `buyer`, ...), and its country."""

    country: str
    ids: dict[str, str] = field(default_factory=dict)

    def fake(self) -> World:
        """The same world with every object id replaced by one that exists nowhere."""

        def nowhere(value: str) -> str:  # integer ids (wallet entries) get an integer that was never issued
            return str(2**31 - 7) if value.isdigit() else str(uuid.uuid4())

        return World(self.country, {k: nowhere(v) for k, v in self.ids.items()} | {"slcp_facility": random_word(12)})

    def __getitem__(self, kind: str) -> str:
        return self.ids[kind]


def headers(platform: TestPlatform, role: str, world: World) -> dict[str, str]:
    """Headers of a caller of `role` belonging to `world` (its staff, its factory, its buyer, ...)."""
    if role == "staff":
        return as_role(platform, Role.STAFF, country=world.country, scopes=list(SCOPES), subject="ea-matrix")
    if role == "factory":
        return factory(platform, world["factory"], world.country)
    if role == "buyer":
        return as_role(platform, Role.BUYER, organisation_id=world["buyer"], subject="brand-matrix")
    if role == "service":
        return service(platform, *SCOPES, country=world.country)
    if role == "constituent":
        return as_role(platform, Role.CONSTITUENT, country=world.country, subject="union-matrix")
    if role == "admin":
        return as_role(platform, Role.ADMIN, subject="platform-admin")
    if role == "anonymous":
        return {}
    raise ValueError(role)


def tool_document(country: str) -> str:
    """The shipped tool as the tool of `country`, under a label no other test uses."""
    tool = assessments_kit.kh_tool()
    tool.update(country=country, label=f"{country} garment matrix {random_word(6)}", effective_from=date(2020, 1, 1))
    return yaml.safe_dump(tool, allow_unicode=True)


async def published_tool(client: httpx.AsyncClient, headers_: dict[str, str], country: str) -> str:
    """A published tool version of `country` (the current one of its sector when none was published yet)."""
    imported = await client.post(
        "/v1/tools", content=tool_document(country), headers={**headers_, "Content-Type": "application/yaml"}
    )
    assert imported.status_code == 201, imported.text
    tool_id: str = imported.json()["id"]
    published = await client.post(f"/v1/tools/{tool_id}/publish", headers=headers_)
    assert published.status_code == 200, published.text
    return tool_id


async def build(p: Platform, country: str) -> World:
    """Every kind of object the six APIs address by id, in `country`, made as their users would make them."""
    tp, c = p.test_platform, p.clients
    world = World(country)
    as_staff = headers(tp, "staff", world)

    # registry: an active factory of a manufacturing group, a second one (to merge), a change proposal, a review
    # item, a list import (a group's id is derived from its name: a fresh name gives each world its own group)
    record = await enrolled_factory(c["registry"], as_staff, country=country, group_name=f"Group {random_word(10)}")
    world.ids["factory"] = record["id"]
    world.ids["group"] = record["group_id"]
    world.ids["factory2"] = (await registered_factory(c["registry"], as_staff, country=country))["id"]
    proposed = await c["registry"].post(
        f"/v1/factories/{record['id']}/change-proposals",
        json={"name": f"{record['name']} Ltd"},
        headers=headers(tp, "factory", world),
    )
    assert proposed.status_code == 201, proposed.text
    world.ids["proposal"] = proposed.json()["id"]
    near = new_factory(record["name"], country=country, exact_name=True)
    reviewed = await p.reviewing_registry.post("/v1/factories", json=near, headers=as_staff)
    assert reviewed.status_code == 202, reviewed.text
    world.ids["review"] = reviewed.json()["review_id"]
    csv = f"country,name,address\n{country},{random_word()} Garment,Plot 9 {random_word()} Road\n"
    uploaded = await c["registry"].post(
        "/v1/factory-imports", content=csv, headers={**as_staff, "Content-Type": "text/csv"}
    )
    assert uploaded.status_code in (201, 202), uploaded.text
    world.ids["registry_import"] = uploaded.json()["id"]

    # assessments: the factory in its read model, a tool of the country, a released assessment, a case, SLCP
    facility = f"SLCP-{random_word(8)}"
    world.ids["slcp_facility"] = facility
    fid = uuid.UUID(record["id"])
    await assessments_kit.known_factory(tp, country=country, slcp_facility_id=facility, factory_id=fid)
    world.ids["tool"] = await published_tool(c["assessments"], as_staff, country)
    checker = team_leader(tp, country)
    released = await assessments_kit.released_assessment(c["assessments"], as_staff, fid, checker=checker)
    world.ids["assessment"] = released["id"]
    protocol = await c["assessments"].put(
        "/v1/zero-tolerance-protocol",
        content=protocol_document(country),
        headers={**as_staff, "Content-Type": "application/yaml"},
    )
    assert protocol.status_code in (200, 201), protocol.text
    case = await c["assessments"].post(
        "/v1/zero-tolerance-cases",
        json={"factory_id": record["id"], "category": "forced_labour", "source": "hotline", "details": "locked exit"},
        headers=as_staff,
    )
    assert case.status_code == 201, case.text
    world.ids["case"] = case.json()["id"]
    referred = await c["assessments"].post(
        f"/v1/zero-tolerance-cases/{world['case']}/referrals",
        json={"party": "ministry_of_labour", "channel": "email"},
        headers=as_staff,
    )
    assert referred.status_code == 201, referred.text
    world.ids["referral"] = referred.json()["id"]
    # finalised (the factory waives its comment period), then a correction proposed by staff
    commented = await assessments_kit.move(c["assessments"], as_staff, world["assessment"], "comment_period")
    assert commented.status_code == 200, commented.text
    waived = await c["assessments"].post(
        f"/v1/assessments/{world['assessment']}/comment-period/waiver", headers=headers(tp, "factory", world)
    )
    assert waived.status_code == 200, waived.text
    proposed_revision = await c["assessments"].post(
        f"/v1/assessments/{world['assessment']}/findings/KH-CL-01/revisions",
        json={"result": "non_compliant", "reason": "new evidence"},
        headers=as_staff,
    )
    assert proposed_revision.status_code == 201, proposed_revision.text
    world.ids["revision_proposal"] = proposed_revision.json()["id"]
    imported = await c["assessments"].post("/v1/slcp/imports", json=slcp_document(facility), headers=as_staff)
    assert imported.status_code == 201, imported.text
    world.ids["slcp_import"] = imported.json()["id"]

    # partnerships: a buyer linked to the factory with consent and an entitlement, its webhook endpoint, a message
    await partnerships_kit.known_factory(tp, country, factory_id=fid)
    brand = {"name": f"Brand {random_word()}", "headquarters_country": "SE", "tier": "partner"}
    registered_brand = await c["partnerships"].post("/v1/buyers", json=brand, headers=as_staff)  # its home: country
    assert registered_brand.status_code == 201, registered_brand.text
    linked = await partnerships_kit.linked_buyer(
        c["partnerships"], tp, fid, country=country, buyer_id=registered_brand.json()["id"]
    )
    world.ids["buyer"] = str(linked.buyer_id)
    world.ids["link"] = linked.link["id"]
    world.ids["consent"] = linked.consent["id"]
    as_buyer = headers(tp, "buyer", world)
    endpoint = await c["partnerships"].post(
        "/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}, headers=as_buyer
    )
    assert endpoint.status_code == 201, endpoint.text
    world.ids["endpoint"] = endpoint.json()["id"]
    world.ids["message"] = await failed_message(tp, uuid.UUID(world["endpoint"]))
    world.ids["industry_alert"] = await industry_alert(c["partnerships"], as_staff, world)

    # invoicing: the factory in its read model, the country's price list, an invoice, credits bought and spent, a
    # refund due (an assessment charged, paid, then cancelled)
    await invoicing_kit.known_factory(tp, country=country, factory_id=fid)
    finance = headers(tp, "staff", world)
    await invoicing_kit.price_list(c["invoicing"], finance, country)
    invoice = await c["invoicing"].post(
        "/v1/invoices",
        json={
            "country": country,
            "customer_kind": "factory",
            "customer_id": record["id"],
            "lines": [{"service": "advisory_day", "quantity": 1}],
        },
        headers=finance,
    )
    assert invoice.status_code == 201, invoice.text
    world.ids["invoice"] = invoice.json()["id"]
    issued = await c["invoicing"].post(f"/v1/invoices/{world['invoice']}/issue", headers=finance)
    assert issued.status_code == 200, issued.text
    await invoicing_kit.paid_credits(c["invoicing"], tp, linked.buyer_id, 2, country=country)
    spent = await c["invoicing"].post(
        "/v1/wallet/spends", json={"factory_id": record["id"], "cycle": 1}, headers=as_buyer
    )
    assert spent.status_code == 201, spent.text
    world.ids["entry"] = spent.json()["entry_id"]
    world.ids["refund_due"] = await refund_due(p, world)

    # advisory: the factory in its read model, an improvement plan with a self-diagnosed item, a committee member
    await advisory_factory(tp, fid, country)
    plan = await c["advisory"].post(
        "/v1/improvement-plans", json={"factory_id": record["id"], "cycle": 1}, headers=as_staff
    )
    assert plan.status_code == 201, plan.text
    world.ids["improvement_plan"] = plan.json()["id"]
    as_factory = headers(tp, "factory", world)
    item = await c["advisory"].post(
        f"/v1/improvement-plans/{world['improvement_plan']}/items",
        json={"title": "Blocked fire exit on floor 2", "owner": "Safety officer"},
        headers=as_factory,
    )
    assert item.status_code == 201, item.text
    world.ids["improvement_item"] = item.json()["id"]
    evidence = await c["advisory"].post(
        f"/v1/improvement-items/{world['improvement_item']}/evidence",
        json={"file_name": "exit.png", "content_type": "image/png", "content_base64": "aGVsbG8="},
        headers=as_factory,
    )
    assert evidence.status_code == 201, evidence.text
    world.ids["evidence"] = evidence.json()["id"]
    member = await c["advisory"].post(
        f"/v1/factories/{record['id']}/committee/members",
        json={
            "display_name": f"Worker {random_word(4)}",
            "side": "worker",
            "selection": "elected",
            "sex": "female",
            "role": "member",
            "term_start": "2026-01-05",
        },
        headers=as_factory,
    )
    assert member.status_code == 201, member.text
    world.ids["committee_member"] = member.json()["id"]
    world.ids["progress_report"] = await progress_report(p, world)
    world.ids["training_session"] = await training_session(p, world)

    # transparency: the factory with two finalised assessments (what every country's rules need), released
    await published(p, world)
    world.ids = {kind: str(value) for kind, value in world.ids.items()}
    return world


async def industry_alert(client: httpx.AsyncClient, as_staff: dict[str, str], world: World) -> str:
    """A strike alert about the world's factory, issued by its staff and sent to the world's (partner) buyer."""
    issued = await client.post(
        "/v1/industry-alerts",
        json={
            "kind": "strike",
            "title": "Strike at the industrial park",
            "body": "Transport blocked until Friday.",
            "country": world.country,
            "factory_ids": [world["factory"]],
        },
        headers=as_staff,
    )
    assert issued.status_code == 201, issued.text
    assert issued.json()["buyer_ids"] == [world["buyer"]], issued.text
    alert_id: str = issued.json()["id"]
    return alert_id


# A price list version of the world's country that charges per assessment, in force only from a day no other
# object of the matrix is priced on (the countries charge per cycle today): the assessment of `refund_due` visits
# the factory that day, so its charge is issued the way a per-assessment country's is.
PER_ASSESSMENT_FROM = date(2099, 12, 1)
ASSESSMENT_PRICE = {"service": "assessment", "description": "Compliance assessment", "unit_price": "3500.00"}


async def refund_due(p: Platform, world: World) -> str:
    """A refund due of the world's factory, made the way one is made: invoicing's consumer charges a scheduled
    assessment (per-assessment price list), finance staff record its payment, then the assessment is cancelled
    and invoicing's consumer credits the paid charge in full, leaving the refund due (open)."""
    tp, client, finance = p.test_platform, p.clients["invoicing"], headers(p.test_platform, "staff", world)
    items = [*invoicing_kit.price_list_body(world.country)["items"], ASSESSMENT_PRICE]
    await invoicing_kit.price_list(
        client, finance, world.country, effective_from=PER_ASSESSMENT_FROM.isoformat(), items=items
    )
    scheduled = AssessmentScheduled(
        assessment_id=uuid.uuid4(),
        factory_id=uuid.UUID(world["factory"]),
        country=world.country,
        cycle=1,
        assessment_type="initial",
        mode="announced",
        joint=False,
        tool_version_id=uuid.UUID(world["tool"]),
        start_date=PER_ASSESSMENT_FROM,
        end_date=PER_ASSESSMENT_FROM + timedelta(days=1),
        scheduled_at=datetime.now(UTC),
    )
    await deliver_to_invoicing(tp, scheduled)
    charges = await client.get("/v1/invoices", params={"assessment_id": str(scheduled.assessment_id)}, headers=finance)
    assert charges.status_code == 200, charges.text
    (charge,) = charges.json()["items"]
    assert charge["status"] == "issued", charge
    paid = await client.post(
        "/v1/payments",
        json={
            "amount": f"{charge['total_minor'] / 100:.2f}",
            "currency": charge["currency"],
            "received_on": date.today().isoformat(),
            "invoice_id": charge["id"],
        },
        headers=finance,
    )
    assert paid.status_code == 201, paid.text
    cancelled = AssessmentCancelled(
        assessment_id=scheduled.assessment_id,
        factory_id=scheduled.factory_id,
        country=world.country,
        cycle=1,
        previous_status="scheduled",
        reason="Factory closed",
        cancelled_at=datetime.now(UTC),
    )
    await deliver_to_invoicing(tp, cancelled)
    detail = await client.get(f"/v1/invoices/{charge['id']}", headers=finance)
    assert detail.status_code == 200, detail.text
    (owed,) = detail.json()["refunds_due"]
    assert owed["status"] == "open", owed
    refund_id: str = owed["id"]
    return refund_id


async def deliver_to_invoicing(platform: TestPlatform, *events: AssessmentScheduled | AssessmentCancelled) -> None:
    """Run invoicing's handler of each event in one transaction, as its consumer would (the matrix runs no
    consumer and no broker traffic), with the assessments service as the events' source."""
    from invoicing.handlers import EVENT_HANDLERS
    from messaging.envelope import Envelope
    from messaging.runtime import outbox_for
    from servicekit.database import Database

    settings = platform.settings("invoicing")
    database = Database(settings.service_database_url(), schema="invoicing", event_sink=outbox_for(settings).write)
    try:
        for event in events:
            envelope = Envelope.from_headers(cloudevent_headers(event, source="/assessments", country=event.country))
            async with database.unit_of_work() as uow:
                await EVENT_HANDLERS[event.type](uow, event, envelope)
                await uow.commit()
    finally:
        await database.engine.dispose()


async def progress_report(p: Platform, world: World) -> str:
    """PR1 of the world's plan, once advisory learnt of the assessment's release (as `assessment.released`)."""
    event = advisory_kit.released(
        uuid.UUID(world["factory"]),
        [],
        cycle=1,
        released_on=date.today(),
        country=world.country,
        assessment_id=uuid.UUID(world["assessment"]),
    )
    await advisory_kit.deliver(p.test_platform, event)
    issued = await p.clients["advisory"].post(
        f"/v1/improvement-plans/{world['improvement_plan']}/progress-reports",
        json={"kind": "pr1"},
        headers=headers(p.test_platform, "staff", world),
    )
    assert issued.status_code == 201, issued.text
    report_id: str = issued.json()["id"]
    return report_id


async def training_session(p: Platform, world: World) -> str:
    """An in-factory session of a course of the country's catalogue, with one participant enrolled."""
    client, as_staff = p.clients["advisory"], headers(p.test_platform, "staff", world)
    course = await client.post(
        "/v1/training/courses",
        json={
            "country": world.country,
            "code": f"SHP-{uuid.uuid4().hex[:6].upper()}",
            "title": "Sexual harassment prevention",
            "topic": "sexual_harassment_prevention",
            "modules": [{"title": "Reporting channels", "hours": 4}],
            "languages": ["en"],
            "completion_rule": "completed",
        },
        headers=as_staff,
    )
    assert course.status_code == 201, course.text
    session = await client.post(
        "/v1/training/sessions",
        json={
            "course_id": course.json()["id"],
            "factory_id": world["factory"],
            "session_date": date.today().isoformat(),
            "language": "en",
            "trainer_organisation": "Better Work",
            "mode": "in_factory",
        },
        headers=as_staff,
    )
    assert session.status_code == 201, session.text
    person = await client.post(
        "/v1/training/participants",
        json={
            "country": world.country,
            "account": f"acct-{uuid.uuid4().hex[:10]}",
            "role": "worker",
            "sex": "female",
            "factory_id": world["factory"],
        },
        headers=headers(p.test_platform, "factory", world),
    )
    assert person.status_code == 201, person.text
    session_id: str = session.json()["id"]
    enrolled = await client.post(
        f"/v1/training/sessions/{session_id}/enrolments",
        json={"participant_ids": [person.json()["id"]]},
        headers=as_staff,
    )
    assert enrolled.status_code == 200, enrolled.text
    return session_id


async def published(p: Platform, world: World) -> None:
    """The world's factory as transparency learns it (registered, two annual assessments finalised), then a
    publication of the country computed, reviewed and approved: its id, its release number, the public factory."""
    tp, fid = p.test_platform, uuid.UUID(world["factory"])
    code = {"KH": "KH-OS-18"}.get(world.country, f"{world.country}-OSH-02")  # a publicly reported question
    events = [
        transparency_kit.registered(world.country, f"Factory {random_word()}", factory_id=fid),
        transparency_kit.finalised(fid, world.country, {code: "compliant"}, cycle=1, on=date(2024, 5, 7)),
        transparency_kit.finalised(fid, world.country, {code: "non_compliant"}, cycle=2, on=date(2025, 5, 7)),
    ]
    await transparency_kit.deliver(tp, *events)
    release = await transparency_kit.release(p.clients["transparency"], tp, world.country)
    assert release["release_number"], release
    world.ids["publication"] = release["id"]
    world.ids["open_data_release"] = str(release["release_number"])
    shown = await p.clients["transparency"].get(f"/public/v1/factories/{fid}")
    assert shown.status_code == 200, shown.text
    world.ids["published_factory"] = str(fid)


async def advisory_factory(platform: TestPlatform, factory_id: uuid.UUID, country: str) -> None:
    """The factory as the registry's events leave it in advisory's read model."""
    conn = await connect_as(platform, "advisory")
    try:
        await conn.execute(
            "INSERT INTO advisory.factory_ref"
            " (factory_id, version, name, country, status, workers_total, workers_women, workers_men)"
            " VALUES ($1, 3, $2, $3, 'active', 1000, 600, 400)",
            factory_id,
            f"Factory {factory_id.hex[:6]}",
            country,
        )
    finally:
        await conn.close()


def protocol_document(country: str) -> str:
    """The shipped zero-tolerance protocol, as `country`'s."""
    text = files("assessments").joinpath("data", "zt_protocol_kh.yaml").read_text(encoding="utf-8")
    return text.replace("\ncountry: KH\n", f"\ncountry: {country}\n")


def slcp_document(facility: str) -> dict[str, Any]:
    mapped = [q for q in assessments_kit.kh_tool()["questions"] if q.get("slcp")]
    return {
        "format": "betterwork-slcp/1",
        "assessment_id": f"SLCP-{uuid.uuid4().hex[:8]}",
        "facility_id": facility,
        "status": "ASC",
        "status_date": "2026-10-01",
        "answers": [{"question_id": mapped[0]["slcp"][0], "answer": "Yes", "finding": "compliant"}],
    }


async def failed_message(platform: TestPlatform, endpoint_id: uuid.UUID) -> str:
    """A webhook message the endpoint failed to take, as the delivery worker leaves it (no receiver needed)."""
    message_id = uuid.uuid4()
    now = datetime.now(UTC)
    conn = await connect_as(platform, "partnerships")
    try:
        await conn.execute(
            "INSERT INTO partnerships.webhook_message"
            " (id, endpoint_id, event_type, body, status, attempts, next_attempt_at, created_at, last_error)"
            " VALUES ($1, $2, 'alert.raised', '{}', 'failed', 8, NULL, $3, 'connection refused')",
            message_id,
            endpoint_id,
            now,
        )
    finally:
        await conn.close()
    return str(message_id)


__all__ = ["SERVICES", "Platform", "World", "build", "headers", "running", "slcp_document", "staff"]
