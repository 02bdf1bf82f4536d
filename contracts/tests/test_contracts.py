"""The committed contracts match the models, and the models keep the promises consumers rely on."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import pytest
import yaml
from pydantic import ConfigDict, Field

from betterwork_contracts import EVENTS, TOPICS, IntegrationEvent, generate
from betterwork_contracts.base import EventPart, Topic
from betterwork_contracts.events.advisory import (
    AdvisoryVisitRecorded,
    ImprovementItemStatusChanged,
    ImprovementPlanCreated,
    ProgressReportIssued,
    TrainingSessionDelivered,
)
from betterwork_contracts.events.assessments import (
    AssessmentCancelled,
    AssessmentCommentReceived,
    AssessmentCyclesRenumbered,
    AssessmentFinalised,
    AssessmentReleased,
    AssessmentRescheduled,
    AssessmentRevised,
    AssessmentScheduled,
    AssessmentStatusChanged,
    CycleMove,
    QuestionResult,
    ZeroToleranceCaseNotConfirmed,
    ZeroToleranceCaseOpened,
    ZeroToleranceCaseUpdated,
)
from betterwork_contracts.events.invoicing import (
    CreditNoteIssued,
    CreditsPurchased,
    EntitlementPurchased,
    InvoiceIssued,
    InvoiceOverdue,
    InvoicePaid,
    InvoiceWrittenOff,
)
from betterwork_contracts.events.partnerships import (
    AlertRaised,
    BuyerRegistered,
    BuyerTierChanged,
    ConsentGranted,
    ConsentRevoked,
    IndustryAlertIssued,
    ProgressReportAccessGranted,
    ProgressReportAccessRevoked,
    ReportAccessGranted,
    ReportAccessRevoked,
    SourcingLinkChanged,
)
from betterwork_contracts.events.registry import (
    FactoryChanges,
    FactoryMerged,
    FactoryProfile,
    FactoryRegistered,
    FactoryStatusChanged,
    FactoryUpdated,
)
from betterwork_contracts.events.transparency import PublicationReleased
from betterwork_contracts.generate import check, check_compatibility, event_schema, main, render_all, write

CONTRACTS_DIR = generate.CONTRACTS_DIR
SERVICES = {"registry", "assessments", "advisory", "partnerships", "invoicing", "transparency"}
TYPE_NAME = re.compile(
    r"^org\.betterwork\.(?P<service>[a-z][a-z0-9-]*)\.[a-z][a-z0-9_-]*\.[a-z][a-z0-9_-]*\.v(?P<version>[1-9][0-9]*)$"
)
DLQ_HEADERS = {
    "x-dlq-reason",
    "x-dlq-error",
    "x-dlq-error-type",
    "x-dlq-original-topic",
    "x-dlq-original-partition",
    "x-dlq-original-offset",
    "x-dlq-group",
    "x-dlq-attempts",
    "x-dlq-at",
}

FACTORY_ID = UUID("0b6f1c1e-3f43-4c57-9a52-2d0c1b0e7a11")
ASSESSMENT_ID = UUID("7a0c2f4e-1b2d-4c3e-9f8a-6b5c4d3e2f10")
TOOL_ID = UUID("3c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")
CASE_ID = UUID("9e8d7c6b-5a49-4382-a716-15f4e3d2c1b0")
BUYER_ID = UUID("1f2e3d4c-5b6a-4798-8877-665544332211")
INVOICE_ID = UUID("4b3a2918-0f7e-4d6c-9b5a-a49382716051")
AT = datetime(2025, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)

# One valid instance per event type, written by hand so a reviewer sees real values. Add one with every new model.
SAMPLES: dict[str, list[IntegrationEvent]] = {
    FactoryRegistered.type: [
        FactoryRegistered(
            factory_id=FACTORY_ID, version=1, country="KH", name="Sunrise Garments Ltd.", registered_at=AT
        ),
        FactoryRegistered(
            factory_id=FACTORY_ID, version=1, country="VN", name="Công ty May Việt Nam \u2013 Đà Nẵng", registered_at=AT
        ),
    ],
    FactoryUpdated.type: [
        FactoryUpdated(
            factory_id=FACTORY_ID,
            version=2,
            country="KH",
            changes=FactoryChanges(name="Sunrise Apparel"),
            updated_at=AT,
        ),
        FactoryUpdated(factory_id=FACTORY_ID, version=7, country="KH", changes=FactoryChanges(), updated_at=AT),
        FactoryUpdated(
            factory_id=FACTORY_ID,
            version=8,
            country="KH",
            changes=FactoryChanges(sector="footwear", workers_total=1200, cleared=["province"]),
            updated_at=AT,
        ),
    ],
    FactoryStatusChanged.type: [
        FactoryStatusChanged(
            factory_id=FACTORY_ID,
            version=3,
            country="KH",
            change="enrolled",
            status="enrolled",
            previous_status="registered",
            service_package="core",
            start_date=AT.date(),
            changed_at=AT,
        ),
        FactoryStatusChanged(
            factory_id=FACTORY_ID,
            version=9,
            country="KH",
            change="suspended",
            status="suspended",
            previous_status="active",
            suspension_reason="unpaid_fees",
            changed_at=AT,
        ),
    ],
    AssessmentScheduled.type: [
        AssessmentScheduled(
            assessment_id=ASSESSMENT_ID,
            factory_id=FACTORY_ID,
            country="KH",
            cycle=1,
            assessment_type="initial",
            mode="unannounced",
            joint=False,
            tool_version_id=TOOL_ID,
            start_date=AT.date(),
            end_date=AT.date(),
            scheduled_at=AT,
        )
    ],
    AssessmentStatusChanged.type: [
        AssessmentStatusChanged(
            assessment_id=ASSESSMENT_ID,
            factory_id=FACTORY_ID,
            country="KH",
            cycle=1,
            status="in_progress",
            previous_status="scheduled",
            changed_at=AT,
        )
    ],
    AssessmentReleased.type: [
        AssessmentReleased(
            assessment_id=ASSESSMENT_ID,
            factory_id=FACTORY_ID,
            country="KH",
            cycle=2,
            released_at=AT,
            due_date=AT.date(),
            on_time=True,
        )
    ],
    AssessmentFinalised.type: [
        AssessmentFinalised(
            assessment_id=ASSESSMENT_ID,
            factory_id=FACTORY_ID,
            country="KH",
            cycle=1,
            tool_version_id=TOOL_ID,
            finalised_at=AT,
            results=[
                QuestionResult(
                    question_code="KH-CL-01",
                    compliance_point="CL-CHILD",
                    cluster="CL",
                    result="non_compliant",
                    publicly_reported=True,
                )
            ],
        )
    ],
    AssessmentRevised.type: [
        AssessmentRevised(
            assessment_id=ASSESSMENT_ID,
            factory_id=FACTORY_ID,
            country="KH",
            cycle=1,
            question_code="KH-CL-01",
            revision=2,
            result="compliant",
            previous_result="non_compliant",
            revised_at=AT,
        )
    ],
    ZeroToleranceCaseOpened.type: [
        ZeroToleranceCaseOpened(
            case_id=CASE_ID,
            factory_id=FACTORY_ID,
            country="KH",
            category="child_labour",
            source="assessment",
            opened_at=AT,
        )
    ],
    ZeroToleranceCaseUpdated.type: [
        ZeroToleranceCaseUpdated(
            case_id=CASE_ID,
            factory_id=FACTORY_ID,
            country="KH",
            category="child_labour",
            status="referred",
            previous_status="opened",
            updated_at=AT,
        )
    ],
    ReportAccessGranted.type: [
        ReportAccessGranted(factory_id=FACTORY_ID, buyer_id=BUYER_ID, cycle=1, decided_at=AT),
    ],
    ReportAccessRevoked.type: [
        ReportAccessRevoked(factory_id=FACTORY_ID, buyer_id=BUYER_ID, cycle=1, decided_at=AT),
    ],
    ProgressReportAccessGranted.type: [
        ProgressReportAccessGranted(factory_id=FACTORY_ID, buyer_id=BUYER_ID, cycle=1, decided_at=AT),
    ],
    ProgressReportAccessRevoked.type: [
        ProgressReportAccessRevoked(factory_id=FACTORY_ID, buyer_id=BUYER_ID, cycle=1, decided_at=AT),
    ],
    BuyerRegistered.type: [
        BuyerRegistered(
            buyer_id=BUYER_ID, name="Acme Apparel", headquarters_country="SE", tier="partner", registered_at=AT
        )
    ],
    BuyerTierChanged.type: [
        BuyerTierChanged(buyer_id=BUYER_ID, tier="participant", previous_tier="partner", changed_at=AT)
    ],
    SourcingLinkChanged.type: [
        SourcingLinkChanged(
            link_id=CASE_ID,
            buyer_id=BUYER_ID,
            factory_id=FACTORY_ID,
            status="confirmed",
            start_date=AT.date(),
            changed_at=AT,
        )
    ],
    ConsentGranted.type: [
        ConsentGranted(
            consent_id=CASE_ID,
            buyer_id=BUYER_ID,
            factory_id=FACTORY_ID,
            scopes=["assessment_reports", "zero_tolerance_alerts"],
            granted_at=AT,
        )
    ],
    ConsentRevoked.type: [
        ConsentRevoked(consent_id=CASE_ID, buyer_id=BUYER_ID, factory_id=FACTORY_ID, reason="expired", revoked_at=AT)
    ],
    AlertRaised.type: [
        AlertRaised(
            alert_id=TOOL_ID,
            kind="zero_tolerance.case_opened",
            case_id=CASE_ID,
            factory_id=FACTORY_ID,
            country="KH",
            category="child_labour",
            status="opened",
            buyer_ids=[BUYER_ID],
            raised_at=AT,
        )
    ],
    IndustryAlertIssued.type: [
        IndustryAlertIssued(
            alert_id=TOOL_ID,
            country="KH",
            kind="strike",
            title="Strike on National Road 4",
            body="Workers of three factories in Kandal are on strike; deliveries may be late this week.",
            factory_ids=[],
            province="Kandal",
            recipient_buyer_count=12,
            issued_at=AT,
        ),
        IndustryAlertIssued(
            alert_id=CASE_ID,
            country="KH",
            kind="building_safety",
            title="Cracks in block C",
            body="Block C was evacuated; an engineer inspects it on Monday.",
            factory_ids=[FACTORY_ID],
            recipient_buyer_count=0,
            issued_at=AT,
        ),
    ],
    EntitlementPurchased.type: [
        EntitlementPurchased(
            entitlement_id=TOOL_ID, buyer_id=BUYER_ID, factory_id=FACTORY_ID, cycle=1, source="credit", purchased_at=AT
        )
    ],
    InvoiceIssued.type: [
        InvoiceIssued(
            invoice_id=INVOICE_ID,
            number="BFC-INV-2025-000042",
            issuer="BFC",
            country="KH",
            customer_kind="factory",
            factory_id=FACTORY_ID,
            purpose="services",
            cycle=3,
            currency="USD",
            total_minor=420000,
            issue_date=AT.date(),
            due_date=date(2025, 4, 13),
            issued_at=AT,
        )
    ],
    InvoicePaid.type: [
        InvoicePaid(
            invoice_id=INVOICE_ID,
            number="BFC-INV-2025-000042",
            country="KH",
            customer_kind="factory",
            factory_id=FACTORY_ID,
            currency="USD",
            total_minor=420000,
            amount_paid_minor=420000,
            amount_credited_minor=0,
            open_suspending_invoices=0,
            paid_at=AT,
        )
    ],
    InvoiceOverdue.type: [
        InvoiceOverdue(
            invoice_id=INVOICE_ID,
            number="BFC-INV-2025-000042",
            country="KH",
            customer_kind="factory",
            factory_id=FACTORY_ID,
            action="suspend_factory",
            currency="USD",
            amount_due_minor=420000,
            due_date=date(2025, 1, 28),
            days_past_due=45,
            detected_at=AT,
        )
    ],
    InvoiceWrittenOff.type: [
        InvoiceWrittenOff(
            invoice_id=INVOICE_ID,
            number="BFC-INV-2025-000042",
            country="KH",
            customer_kind="factory",
            factory_id=FACTORY_ID,
            currency="USD",
            amount_written_off_minor=20000,
            open_suspending_invoices=0,
            written_off_at=AT,
        )
    ],
    CreditNoteIssued.type: [
        CreditNoteIssued(
            credit_note_id=CASE_ID,
            number="BFC-CN-2025-000007",
            invoice_id=INVOICE_ID,
            invoice_number="BFC-INV-2025-000042",
            invoice_status="void",
            country="KH",
            customer_kind="buyer",
            buyer_id=BUYER_ID,
            currency="USD",
            amount_minor=1300000,
            reason="Ordered twice",
            open_suspending_invoices=0,
            issued_at=AT,
        )
    ],
    CreditsPurchased.type: [
        CreditsPurchased(
            buyer_id=BUYER_ID,
            lot_id=TOOL_ID,
            invoice_id=INVOICE_ID,
            quantity=10,
            unit_price_minor=130000,
            currency="USD",
            tier="10-20",
            expires_on=date(2026, 3, 31),
            spendable_at=AT,
        )
    ],
    FactoryMerged.type: [
        FactoryMerged(
            factory_id=FACTORY_ID,
            version=4,
            survivor_id=UUID("5d1e0a4e-6f0b-4a43-8f7e-0c2f3b9a1d22"),
            country="KH",
            merged_at=AT,
        ),
    ],
    AssessmentCyclesRenumbered.type: [
        AssessmentCyclesRenumbered(
            factory_id=FACTORY_ID,
            retired_id=UUID("5d1c9e2a-7b3f-4f0e-8a61-3c2b1d0e9f44"),
            country="KH",
            moves=[
                CycleMove(factory_id=UUID("5d1c9e2a-7b3f-4f0e-8a61-3c2b1d0e9f44"), from_cycle=1, to_cycle=1),
                CycleMove(factory_id=FACTORY_ID, from_cycle=1, to_cycle=2),
            ],
            renumbered_at=AT,
        ),
        AssessmentCyclesRenumbered(
            factory_id=FACTORY_ID,
            retired_id=UUID("5d1c9e2a-7b3f-4f0e-8a61-3c2b1d0e9f44"),
            country="KH",
            renumbered_at=AT,
        ),
    ],
    AssessmentCancelled.type: [
        AssessmentCancelled(
            assessment_id=ASSESSMENT_ID,
            factory_id=FACTORY_ID,
            country="KH",
            cycle=2,
            previous_status="scheduled",
            reason="Factory closed for Khmer New Year; visit to be planned again",
            cancelled_at=AT,
        )
    ],
    AssessmentRescheduled.type: [
        AssessmentRescheduled(
            assessment_id=ASSESSMENT_ID,
            factory_id=FACTORY_ID,
            country="KH",
            cycle=2,
            start_date=date(2025, 4, 21),
            end_date=date(2025, 4, 22),
            due_date=date(2025, 5, 20),
            previous_start_date=date(2025, 4, 14),
            previous_end_date=date(2025, 4, 15),
            reason="Flooding on the access road",
            rescheduled_at=AT,
        )
    ],
    AssessmentCommentReceived.type: [
        AssessmentCommentReceived(
            assessment_id=ASSESSMENT_ID,
            factory_id=FACTORY_ID,
            country="KH",
            cycle=1,
            question_code="OSH-EMERGENCY-01",
            commented_at=AT,
            comment_period_ends=datetime(2025, 3, 28, 9, 26, 53, tzinfo=UTC),
        ),
        AssessmentCommentReceived(
            assessment_id=ASSESSMENT_ID,
            factory_id=FACTORY_ID,
            country="KH",
            cycle=1,
            question_code="CT-01",
            commented_at=AT,
        ),
    ],
    ZeroToleranceCaseNotConfirmed.type: [
        ZeroToleranceCaseNotConfirmed(
            case_id=CASE_ID,
            factory_id=FACTORY_ID,
            country="KH",
            category="child_labour",
            previous_status="referred",
            decided_at=AT,
        )
    ],
    ImprovementPlanCreated.type: [
        ImprovementPlanCreated(
            plan_id=UUID("2a3b4c5d-6e7f-4081-9293-a4b5c6d7e8f9"),
            factory_id=FACTORY_ID,
            country="KH",
            cycle=1,
            assessment_id=ASSESSMENT_ID,
            item_count=14,
            created_at=AT,
        ),
        ImprovementPlanCreated(
            plan_id=UUID("2a3b4c5d-6e7f-4081-9293-a4b5c6d7e8f9"),
            factory_id=FACTORY_ID,
            country="VN",
            cycle=3,
            item_count=0,
            created_at=AT,
        ),
    ],
    ImprovementItemStatusChanged.type: [
        ImprovementItemStatusChanged(
            plan_id=UUID("2a3b4c5d-6e7f-4081-9293-a4b5c6d7e8f9"),
            item_id=UUID("6f5e4d3c-2b1a-4098-8776-655443322110"),
            factory_id=FACTORY_ID,
            country="KH",
            source="assessment",
            question_code="OSH-EMERGENCY-01",
            publicly_reported=True,
            status="verified",
            previous_status="reported_done",
            changed_at=AT,
        )
    ],
    ProgressReportIssued.type: [
        ProgressReportIssued(
            report_id=UUID("8c7b6a59-4837-4261-9504-f3e2d1c0b9a8"),
            plan_id=UUID("2a3b4c5d-6e7f-4081-9293-a4b5c6d7e8f9"),
            factory_id=FACTORY_ID,
            country="KH",
            cycle=1,
            kind="pr1",
            due_date=date(2025, 4, 13),
            on_time=True,
            reported_fixed_share=0.5,
            verified_fixed_share=0.25,
            issued_at=AT,
        )
    ],
    AdvisoryVisitRecorded.type: [
        AdvisoryVisitRecorded(
            visit_id=UUID("0a1b2c3d-4e5f-4607-8819-2a3b4c5d6e7f"),
            factory_id=FACTORY_ID,
            country="KH",
            visit_date=date(2025, 3, 12),
            mode="joint_union",
            topics=["fire safety", "overtime"],
            items_discussed=3,
            recorded_at=AT,
        )
    ],
    TrainingSessionDelivered.type: [
        TrainingSessionDelivered(
            session_id=UUID("1b2c3d4e-5f60-4718-a92b-3c4d5e6f7081"),
            course_code="SSD",
            country="VN",
            factory_id=FACTORY_ID,
            session_date=date(2025, 3, 10),
            mode="in_factory",
            participants_women=18,
            participants_men=4,
            delivered_at=AT,
        )
    ],
    PublicationReleased.type: [
        PublicationReleased(
            publication_id=UUID("2c3d4e5f-6071-4829-b3a4-5b6c7d8e9fa0"),
            country="KH",
            release_number=7,
            rule_set="bfc-2024.1",
            data_cut_off=date(2025, 3, 1),
            approved_by="staff-sokha",
            content_hash="sha256:" + "0" * 64,
            factories_listed=612,
            previous_release_number=6,
            released_at=AT,
        )
    ],
}


def committed_text(path: str) -> str | None:
    file = CONTRACTS_DIR / path
    return file.read_text(encoding="utf-8") if file.is_file() else None


def committed_asyncapi() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((CONTRACTS_DIR / "asyncapi.yaml").read_text(encoding="utf-8"))
    return document


def resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for token in ref.removeprefix("#/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


@pytest.fixture
def contracts_copy(tmp_path: Path) -> Path:
    """A scratch contracts folder holding what the models generate now."""
    for path, text in render_all().items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    return tmp_path


# --- the committed files ---------------------------------------------------------------------------


def test_committed_files_are_what_the_models_generate() -> None:
    drifted = [path for path, text in render_all().items() if committed_text(path) != text]
    assert not drifted, f"contracts drifted from the models: {drifted}; run `make contracts` and commit the result"


def test_no_committed_schema_without_a_model_and_no_incompatible_change() -> None:
    problems = check(CONTRACTS_DIR)
    assert not problems, "\n".join(problems)


def test_check_command_passes_on_the_committed_contracts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check"]) == 0, capsys.readouterr().err


def test_asyncapi_lists_every_topic_and_every_event_type() -> None:
    document = committed_asyncapi()
    assert document["asyncapi"] == "3.0.0"
    channels = document["channels"]
    by_address = {channel["address"]: channel for channel in channels.values()}
    assert set(TOPICS) <= set(by_address), f"topics missing from asyncapi.yaml: {set(TOPICS) - set(by_address)}"

    messages = document["components"]["messages"]
    assert {message["name"] for message in messages.values()} - {"dead-letter"} == set(EVENTS)
    for event_type, model in EVENTS.items():
        channel = by_address[model.topic.name]
        names = {resolve(document, ref["$ref"])["name"] for ref in channel["messages"].values()}
        assert event_type in names, f"{event_type} is not on the channel of topic {model.topic.name}"


def test_asyncapi_payloads_point_to_committed_schemas() -> None:
    document = committed_asyncapi()
    for message in document["components"]["messages"].values():
        ref = message["payload"].get("$ref")
        if message["name"] == "dead-letter":
            assert ref is None
            continue
        schema_file = (CONTRACTS_DIR / ref).resolve()
        assert schema_file.is_file(), f"{message['name']}: payload {ref} does not exist"
        assert json.loads(schema_file.read_text(encoding="utf-8"))["title"] == message["name"]


def test_asyncapi_is_structurally_valid() -> None:
    document = committed_asyncapi()
    assert {"asyncapi", "info", "channels", "operations", "components"} <= document.keys()
    assert document["info"]["title"] and document["info"]["version"]
    local = document["servers"]["local"]
    assert (local["host"], local["protocol"]) == ("127.0.0.1:9092", "kafka")
    for ref in refs(document):
        if ref.startswith("#"):
            resolve(document, ref)  # raises KeyError when the target is missing
        else:
            assert (CONTRACTS_DIR / ref).is_file(), ref
    id_pattern = re.compile(r"^[A-Za-z0-9.\-_]+$")
    for section in ("channels", "operations"):
        for name in document[section]:
            assert id_pattern.match(name), f"{section} id {name!r}"
    for name in document["components"]["messages"]:
        assert id_pattern.match(name), f"message id {name!r}"
    for operation_id, operation in document["operations"].items():
        assert operation["action"] in {"send", "receive"}, operation_id
        channel_ref = operation["channel"]["$ref"]
        assert re.fullmatch(r"#/channels/[^/]+", channel_ref), operation_id
        assert operation["messages"], operation_id
        for message in operation["messages"]:
            # AsyncAPI 3.0: an operation's messages must be messages of its channel
            assert message["$ref"].startswith(f"{channel_ref}/messages/"), (operation_id, message)
        assert operation["x-service"] in SERVICES, operation_id
    for channel in document["channels"].values():
        assert channel["bindings"]["kafka"]["topic"] == channel["address"]


def test_asyncapi_says_who_publishes_and_who_consumes() -> None:
    document = committed_asyncapi()
    operations = document["operations"]

    def on(address: str, action: str) -> set[str]:
        return {
            operation["x-service"]
            for operation in operations.values()
            if operation["action"] == action and resolve(document, operation["channel"]["$ref"])["address"] == address
        }

    for topic in TOPICS.values():
        assert on(topic.name, "send") == {topic.publisher}, topic.name
        consumers = {consumer for model in EVENTS.values() if model.topic == topic for consumer in model.consumers}
        assert on(topic.name, "receive") == consumers, topic.name
        for consumer in consumers:
            dead_letters = f"{topic.name}.dlq.{consumer}"
            assert on(dead_letters, "send") == {consumer}, dead_letters
            channel = next(c for c in document["channels"].values() if c["address"] == dead_letters)
            (message_ref,) = channel["messages"].values()
            headers = resolve(document, message_ref["$ref"])["headers"]
            assert set(headers["properties"]) == DLQ_HEADERS


def test_asyncapi_describes_the_cloudevents_headers() -> None:
    document = committed_asyncapi()
    for message in document["components"]["messages"].values():
        if message["name"] == "dead-letter":
            continue
        model = EVENTS[message["name"]]
        headers = message["headers"]["properties"]
        assert {"ce_id", "ce_source", "ce_specversion", "ce_type", "ce_time", "ce_subject", "content-type"} <= set(
            message["headers"]["required"]
        )
        assert {"traceparent", "country", "correlationid"} <= set(headers)
        assert headers["ce_type"]["const"] == model.type
        assert headers["ce_source"]["const"] == f"/{model.topic.publisher}"
        assert headers["content-type"]["const"] == "application/json"
        assert message["bindings"]["kafka"]["key"] == {"type": "string", "description": model.topic.key}


# --- the models --------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", EVENTS.values(), ids=list(EVENTS))
def test_event_model_declares_type_topic_and_aggregate(model: type[IntegrationEvent]) -> None:
    match = TYPE_NAME.match(model.type)
    assert match, f"{model.type} is not org.betterwork.<service>.<aggregate>.<event>.v<N>"
    assert model.type_version() == int(match["version"])
    assert match["service"] == model.topic.publisher, "a type is published by the service it is named after"
    assert TOPICS[model.topic.name] == model.topic, f"two different Topic objects are named {model.topic.name}"
    assert model.topic.publisher in SERVICES
    assert set(model.consumers) <= SERVICES
    assert model.topic.publisher not in model.consumers
    field = model.model_fields.get(model.aggregate_id_field)
    assert field is not None, f"{model.aggregate_id_field} is not a field of {model.__name__}"
    assert field.is_required(), "the aggregate id is the Kafka key: every event must carry it"


@pytest.mark.parametrize("model", EVENTS.values(), ids=list(EVENTS))
def test_event_model_ignores_unknown_fields(model: type[IntegrationEvent]) -> None:
    """Forward compatibility: a consumer reads events from a producer that added fields it does not know yet."""
    assert model.model_config.get("extra") == "ignore"
    assert '"additionalProperties": false' not in json.dumps(event_schema(model))
    for sample in SAMPLES[model.type]:
        data = json.loads(sample.model_dump_json())
        data["added_in_a_later_release"] = {"anything": [1, 2]}
        for value in data.values():
            if isinstance(value, dict):
                value["nested_addition"] = True
        assert model.model_validate(data) == sample
        assert model.model_validate_json(json.dumps(data)) == sample


def test_every_event_type_has_samples() -> None:
    assert set(SAMPLES) == set(EVENTS), "add a sample instance of every new event type to SAMPLES"


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_round_trip_through_json(event_type: str) -> None:
    model = EVENTS[event_type]
    for sample in SAMPLES[event_type]:
        assert type(sample) is model
        wire = sample.model_dump_json()
        again = model.model_validate_json(wire)
        assert again == sample
        assert again.model_dump_json() == wire
        assert sample.aggregate_id == str(getattr(sample, model.aggregate_id_field))


def test_generation_is_deterministic() -> None:
    assert render_all() == render_all()
    for model in EVENTS.values():
        assert json.dumps(event_schema(model), sort_keys=True) == json.dumps(event_schema(model), sort_keys=True)


def test_event_schema_names_the_type() -> None:
    schema = event_schema(FactoryRegistered)
    assert schema["$id"] == "https://betterwork.dev/contracts/events/org.betterwork.registry.factory.registered.v1.json"
    assert schema["title"] == FactoryRegistered.type
    assert schema["x-topic"] == "registry.factory"
    assert schema["x-aggregate-id-field"] == "factory_id"


# --- compatibility -------------------------------------------------------------------------------


class WithoutName(IntegrationEvent):
    """FactoryRegistered with `name` removed."""

    type: ClassVar[str] = FactoryRegistered.type
    topic: ClassVar[Topic] = FactoryRegistered.topic
    aggregate_id_field: ClassVar[str] = "factory_id"

    factory_id: UUID
    version: int = Field(ge=1, description="Version of the factory record after this change; 1 when registered.")
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2.")
    registered_at: datetime
    profile: FactoryProfile | None = FactoryRegistered.model_fields["profile"].default


class VersionAsText(FactoryRegistered):
    version: str = Field(description="Retyped.")  # type: ignore[assignment]


class WithRequiredSector(FactoryRegistered):
    sector: str


class WithShorterName(FactoryRegistered):
    name: str = Field(min_length=1, max_length=100, description="Legal name.")


class WithOptionalSector(FactoryRegistered):
    """New optional field with a default, and reworded descriptions: compatible."""

    sector: str | None = Field(default=None, description="Main product line, when known.")
    name: str = Field(min_length=1, max_length=300, description="The factory's legal name, as registered.")


class WithListWithoutSchemaDefault(FactoryRegistered):
    buyers: list[str] = Field(default_factory=list)


class Closed(FactoryRegistered):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NarrowerChanges(FactoryChanges):
    name: str | None = Field(default=None, min_length=1, max_length=100)


class UpdatedWithNarrowerChanges(FactoryUpdated):
    changes: NarrowerChanges  # type: ignore[assignment]


class RenamedChangesWithAddition(FactoryChanges):
    """Another class name, one more optional field: compatible (the `$defs` name is not part of the contract)."""

    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class UpdatedWithMoreChanges(FactoryUpdated):
    changes: RenamedChangesWithAddition  # type: ignore[assignment]


class UpdatedWithRequiredChange(FactoryUpdated):
    class Changes(FactoryChanges):
        status: str

    changes: Changes  # type: ignore[assignment]


def problems(new: type[IntegrationEvent], old: type[IntegrationEvent] = FactoryRegistered) -> list[str]:
    return check_compatibility(event_schema(old), event_schema(new))


def test_removed_field_is_incompatible() -> None:
    assert problems(WithoutName) == ["property `name` was removed"]


def test_retyped_field_is_incompatible() -> None:
    found = problems(VersionAsText)
    assert 'property `version`: `type` changed from "integer" to "string"' in found


def test_new_required_field_is_incompatible() -> None:
    found = problems(WithRequiredSector)
    assert any("new property `sector` is required" in problem for problem in found), found
    assert any("new property `sector` has no `default`" in problem for problem in found), found


def test_narrowed_field_is_incompatible() -> None:
    assert problems(WithShorterName) == ["property `name`: `maxLength` changed from 300 to 100"]


def test_widened_field_is_incompatible_too() -> None:
    """Full compatibility: consumers still on the narrow schema would reject events that use the wider one."""
    assert problems(FactoryRegistered, old=WithShorterName) == ["property `name`: `maxLength` changed from 100 to 300"]


def test_new_optional_field_with_default_is_compatible() -> None:
    assert problems(WithOptionalSector) == []
    assert problems(FactoryRegistered) == []


def test_new_field_needs_a_default_in_the_schema() -> None:
    (problem,) = problems(WithListWithoutSchemaDefault)
    assert "new property `buyers` has no `default`" in problem


def test_closing_an_object_is_incompatible() -> None:
    assert problems(Closed) == ["`additionalProperties: false` introduced at the event"]


def test_nested_objects_are_checked_through_refs() -> None:
    assert problems(UpdatedWithNarrowerChanges, old=FactoryUpdated) == [
        "property `changes.name/anyOf[0]`: `maxLength` changed from 300 to 100"
    ]
    assert problems(UpdatedWithMoreChanges, old=FactoryUpdated) == []
    found = problems(UpdatedWithRequiredChange, old=FactoryUpdated)
    assert any("new property `changes.status` is required" in problem for problem in found), found


def test_topic_and_aggregate_are_part_of_the_contract() -> None:
    old = event_schema(FactoryRegistered)
    moved = {**old, "x-topic": "registry.site", "x-aggregate-id-field": "site_id"}
    assert check_compatibility(old, moved) == [
        '`x-topic` changed from "registry.factory" to "registry.site"',
        '`x-aggregate-id-field` changed from "factory_id" to "site_id"',
    ]


class Node(EventPart):
    label: str = Field(max_length=20)
    children: list[Node] = []


class ShorterNode(EventPart):
    label: str = Field(max_length=10)
    children: list[ShorterNode] = []


class WithTree(FactoryRegistered):
    tree: Node | None = None


class WithShorterTree(FactoryRegistered):
    tree: ShorterNode | None = None


def test_recursive_models_terminate() -> None:
    assert problems(WithTree, old=WithTree) == []
    assert problems(WithShorterTree, old=WithTree) == [
        "property `tree/anyOf[0].label`: `maxLength` changed from 20 to 10"
    ]


# --- the command -----------------------------------------------------------------------------------


def test_check_reports_drift_and_tells_how_to_fix(contracts_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (contracts_copy / "asyncapi.yaml").write_text("asyncapi: 3.0.0\n", encoding="utf-8")
    (contracts_copy / "events" / f"{FactoryUpdated.type}.json").unlink()

    assert main(["--check", "--root", str(contracts_copy)]) == 1
    err = capsys.readouterr().err
    assert "asyncapi.yaml differs" in err
    assert f"events/{FactoryUpdated.type}.json is missing" in err
    assert "make contracts" in err


def test_check_reports_an_incompatible_model_change(contracts_copy: Path) -> None:
    committed = contracts_copy / "events" / f"{FactoryRegistered.type}.json"
    schema = json.loads(committed.read_text(encoding="utf-8"))
    schema["properties"]["name"]["maxLength"] = 100  # the committed contract said 100; the model now says 300
    committed.write_text(json.dumps(schema), encoding="utf-8")

    found = check(contracts_copy)
    assert f"events/{FactoryRegistered.type}.json differs from what the models generate" in found
    path = f"events/{FactoryRegistered.type}.json"
    assert f"{path}: incompatible change: property `name`: `maxLength` changed from 100 to 300" in found


def test_write_refuses_an_incompatible_change(contracts_copy: Path) -> None:
    committed = contracts_copy / "events" / f"{FactoryRegistered.type}.json"
    schema = json.loads(committed.read_text(encoding="utf-8"))
    del schema["properties"]["registered_at"]["format"]
    text = json.dumps(schema)
    committed.write_text(text, encoding="utf-8")
    (contracts_copy / "asyncapi.yaml").unlink()

    written, found = write(contracts_copy)
    assert written == []
    assert found and "incompatible change" in found[0]
    assert committed.read_text(encoding="utf-8") == text
    assert not (contracts_copy / "asyncapi.yaml").exists()


def test_write_creates_missing_files(contracts_copy: Path) -> None:
    (contracts_copy / "asyncapi.yaml").unlink()
    assert write(contracts_copy) == (["asyncapi.yaml"], [])
    assert write(contracts_copy) == ([], [])


class FactoryRegisteredV2(IntegrationEvent):
    type: ClassVar[str] = "org.betterwork.registry.factory.registered.v2"
    topic: ClassVar[Topic] = FactoryRegistered.topic
    aggregate_id_field: ClassVar[str] = "factory_id"

    factory_id: UUID
    version: str  # breaking for v1, fine for a new version


def test_a_new_version_is_a_new_file_not_compared_with_the_old(
    contracts_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generate, "EVENTS", {**EVENTS, FactoryRegisteredV2.type: FactoryRegisteredV2})
    assert write(contracts_copy) == ([f"events/{FactoryRegisteredV2.type}.json", "asyncapi.yaml"], [])
    assert check(contracts_copy) == []


def test_removing_a_published_type_is_refused(contracts_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generate, "EVENTS", {t: m for t, m in EVENTS.items() if t != FactoryRegistered.type})
    (found,) = check(contracts_copy)[-1:]
    assert found.startswith(f"events/{FactoryRegistered.type}.json: event type {FactoryRegistered.type} is no longer")
    assert "not allowed" in found
    assert write(contracts_copy)[1] == [found]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_check_against_a_git_revision_sees_through_a_regenerated_tree(tmp_path: Path, contracts_copy: Path) -> None:
    """`make contracts` overwrites the committed schemas, so CI must judge compatibility against the base branch."""
    repository = tmp_path / "repository"
    shutil.copytree(contracts_copy, repository / "contracts")
    committed = repository / "contracts" / "events" / f"{FactoryRegistered.type}.json"
    generated = committed.read_text(encoding="utf-8")
    schema = json.loads(generated)
    schema["properties"]["country"]["pattern"] = "^[A-Z]{3}$"
    committed.write_text(json.dumps(schema), encoding="utf-8")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *args],
            cwd=repository,
            check=True,
            capture_output=True,
        )

    git("init", "--quiet")
    git("add", ".")
    git("commit", "--quiet", "-m", "contracts")
    committed.write_text(generated, encoding="utf-8")  # what `make contracts` would do

    root = repository / "contracts"
    assert check(root) == []
    (problem,) = check(root, against="HEAD")
    assert "incompatible change: property `country`: `pattern` changed" in problem


def test_committed_schemas_stay_compatible_with_every_earlier_committed_version() -> None:
    """Full-transitive compatibility: today's schema against each version of it that git has seen.

    This holds even when someone regenerated the files before committing, which the drift check alone cannot see.
    """
    root = Path(__file__).resolve().parents[1]
    inside = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"], capture_output=True, text=True
    )
    if inside.returncode != 0:
        pytest.skip("not a git checkout: there is no history to compare against")
    generated = render_all()
    problems: list[str] = []
    for path in sorted((root / "events").glob("*.json")):
        relative = f"events/{path.name}"
        commits = subprocess.run(
            ["git", "-C", str(root), "log", "--format=%H", "--", relative], capture_output=True, text=True, check=True
        ).stdout.split()
        for commit in commits:
            old = subprocess.run(
                ["git", "-C", str(root), "show", f"{commit}:./{relative}"], capture_output=True, text=True, check=True
            ).stdout
            problems += [
                f"{relative} @ {commit[:10]}: {p}"
                for p in check_compatibility(json.loads(old), json.loads(generated[relative]))
            ]
    assert not problems, "\n".join(problems)
