"""Builders for transparency: registry, assessments and advisory events as transparency receives them, delivered
through its own handlers into the real database, and the review-approve cycle run by three staff members."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time
from typing import Any

from devstack.pytest_plugin import TestPlatform
from devstack.testkit.access import as_role
from devstack.testkit.events import cloudevent_headers
from servicekit.auth.principal import Role


def registered(
    country: str,
    name: str,
    *,
    province: str | None = "Phnom Penh",
    sector: str | None = "garment",
    workers_total: int | None = 800,
    factory_id: uuid.UUID | None = None,
    at: datetime = datetime(2024, 1, 1, tzinfo=UTC),
) -> Any:
    """registry's `factory.registered` (version 1)."""
    from betterwork_contracts.events.registry import FactoryRegistered

    return FactoryRegistered.model_validate(
        {
            "factory_id": factory_id or uuid.uuid4(),
            "version": 1,
            "country": country,
            "name": name,
            "registered_at": at,
            "profile": {"province": province, "sector": sector, "workers_total": workers_total},
        }
    )


def merged(factory_id: uuid.UUID, survivor_id: uuid.UUID, country: str, *, version: int = 2) -> Any:
    from betterwork_contracts.events.registry import FactoryMerged

    return FactoryMerged(
        factory_id=factory_id,
        version=version,
        survivor_id=survivor_id,
        country=country,
        merged_at=datetime(2024, 6, 1, tzinfo=UTC),
    )


def finalised(
    factory_id: uuid.UUID,
    country: str,
    results: Mapping[str, str],
    *,
    cycle: int = 1,
    on: date = date(2025, 3, 1),
    reported: set[str] | None = None,
    assessment_id: uuid.UUID | None = None,
) -> Any:
    """assessments' `assessment.finalised`: `results` maps question codes (`VN-OSH-02`) to compliant or
    non_compliant; every question is publicly reported unless `reported` says which are."""
    from betterwork_contracts.events.assessments import AssessmentFinalised

    rows = [
        {
            "question_code": code,
            "compliance_point": code.rsplit("-", 1)[0],
            "cluster": code.split("-")[1],
            "result": result,
            "publicly_reported": reported is None or code in reported,
        }
        for code, result in results.items()
    ]
    return AssessmentFinalised.model_validate(
        {
            "assessment_id": assessment_id or uuid.uuid4(),
            "factory_id": factory_id,
            "country": country,
            "cycle": cycle,
            "tool_version_id": uuid.uuid4(),
            "finalised_at": datetime.combine(on, time(12), tzinfo=UTC),
            "last_visit_day": on,
            "results": rows,
        }
    )


def item_changed(
    factory_id: uuid.UUID,
    country: str,
    question_code: str,
    status: str,
    *,
    at: datetime,
    previous: str = "reported_done",
) -> Any:
    """advisory's `improvement_item.status_changed` on a publicly reported question."""
    from betterwork_contracts.events.advisory import ImprovementItemStatusChanged

    return ImprovementItemStatusChanged.model_validate(
        {
            "plan_id": uuid.uuid4(),
            "item_id": uuid.uuid5(uuid.NAMESPACE_URL, f"{factory_id}/{question_code}"),
            "factory_id": factory_id,
            "country": country,
            "source": "assessment",
            "question_code": question_code,
            "publicly_reported": True,
            "status": status,
            "previous_status": previous,
            "changed_at": at,
        }
    )


@asynccontextmanager
async def transparency_database(platform: TestPlatform) -> AsyncIterator[Any]:
    from messaging.runtime import outbox_for
    from servicekit.database import Database

    settings = platform.settings("transparency")
    database = Database(settings.service_database_url(), schema="transparency", event_sink=outbox_for(settings).write)
    try:
        yield database
    finally:
        await database.engine.dispose()


async def deliver(platform: TestPlatform, *events: Any) -> None:
    """Run transparency's handler of each event, one transaction each, as its consumer would (no broker)."""
    from messaging.envelope import Envelope
    from transparency.handlers import EVENT_HANDLERS

    async with transparency_database(platform) as database:
        for event in events:
            envelope = Envelope.from_headers(cloudevent_headers(event, source="/test", country=event.country))
            async with database.unit_of_work() as uow:
                await EVENT_HANDLERS[event.type](uow, event, envelope)
                await uow.commit()


def staff_member(platform: TestPlatform, country: str, subject: str) -> dict[str, str]:
    return as_role(platform, Role.STAFF, country=country, subject=subject)


async def release(client: Any, platform: TestPlatform, country: str, *, cut_off: date | None = None) -> dict[str, Any]:
    """Compute, review and approve a publication of `country` (three different staff members); the release."""
    preparer, reviewer, approver = (staff_member(platform, country, s) for s in ("ea-prep", "ea-review", "tl-approve"))
    body = {"country": country, "cut_off": (cut_off or datetime.now(UTC).date()).isoformat()}
    created = await client.post("/v1/publications", json=body, headers=preparer)
    assert created.status_code == 201, created.text
    publication_id = created.json()["id"]
    reviewed = await client.post(f"/v1/publications/{publication_id}/review", headers=reviewer)
    assert reviewed.status_code == 200, reviewed.text
    approved = await client.post(f"/v1/publications/{publication_id}/approve", headers=approver)
    assert approved.status_code == 200, approved.text
    found: dict[str, Any] = approved.json()
    return found
