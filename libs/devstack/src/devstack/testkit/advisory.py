"""Builders for advisory: assessments' and partnerships' events as advisory receives them, delivered through its
own handlers into the real database (or onto a real broker), and factories in its read model."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time
from typing import Any

from devstack.pytest_plugin import TestPlatform
from devstack.testkit.database import connect_as
from devstack.testkit.events import cloudevent_headers, produce_raw


def non_compliance(
    code: str,
    *,
    publicly_reported: bool = False,
    zero_tolerance: bool = False,
    gender_sensitive: bool = False,
    workers_affected: int | None = None,
    compliance_point: str = "OSH-CHEM",
) -> dict[str, Any]:
    """One line of `assessment.released`'s non-compliances."""
    return {
        "question_code": code,
        "compliance_point": compliance_point,
        "cluster": compliance_point.split("-")[0],
        "publicly_reported": publicly_reported,
        "gender_sensitive": gender_sensitive,
        "zero_tolerance": zero_tolerance,
        "workers_affected": workers_affected,
    }


def released(
    factory_id: uuid.UUID,
    non_compliances: Sequence[dict[str, Any]],
    *,
    cycle: int = 1,
    released_on: date = date(2026, 12, 1),
    country: str = "KH",
    assessment_id: uuid.UUID | None = None,
) -> Any:
    """An `assessment.released` event of `factory_id` with these non-compliances."""
    from betterwork_contracts.events.assessments import AssessmentReleased

    at = datetime.combine(released_on, time(9), tzinfo=UTC)
    return AssessmentReleased.model_validate(
        {
            "assessment_id": assessment_id or uuid.uuid4(),
            "factory_id": factory_id,
            "country": country,
            "cycle": cycle,
            "released_at": at,
            "due_date": released_on,
            "on_time": True,
            "last_visit_day": released_on,
            "non_compliances": list(non_compliances),
        }
    )


def access(factory_id: uuid.UUID, buyer_id: uuid.UUID, cycle: int, *, granted: bool = True) -> Any:
    """partnerships' `progress_report_access.granted` (or `revoked`) for a buyer and a factory's cycle: the
    decision advisory reads progress reports by."""
    from betterwork_contracts.events.partnerships import ProgressReportAccessGranted, ProgressReportAccessRevoked

    kind = ProgressReportAccessGranted if granted else ProgressReportAccessRevoked
    return kind(factory_id=factory_id, buyer_id=buyer_id, cycle=cycle, decided_at=datetime.now(UTC))


@asynccontextmanager
async def advisory_database(platform: TestPlatform) -> AsyncIterator[Any]:
    """The advisory service's own database handle (its role, its outbox as event sink)."""
    from messaging.runtime import outbox_for
    from servicekit.database import Database

    settings = platform.settings("advisory")
    database = Database(settings.service_database_url(), schema="advisory", event_sink=outbox_for(settings).write)
    try:
        yield database
    finally:
        await database.engine.dispose()


async def deliver(platform: TestPlatform, *events: Any) -> None:
    """Run advisory's handler of each event in one transaction, as its consumer would (no broker, no inbox)."""
    from advisory.handlers import EVENT_HANDLERS
    from messaging.envelope import Envelope

    async with advisory_database(platform) as database:
        for event in events:
            headers = cloudevent_headers(event, source="/test", country=getattr(event, "country", "KH"))
            envelope = Envelope.from_headers(headers)
            async with database.unit_of_work() as uow:
                await EVENT_HANDLERS[event.type](uow, event, envelope)
                await uow.commit()


async def publish(bootstrap: str, prefix: str, event: Any, *, source: str) -> None:
    """Put `event` on its topic of this test (`prefix`), as its producer's relay would."""
    await produce_raw(
        bootstrap,
        prefix + event.topic.name,
        [(event.aggregate_id.encode(), event.model_dump_json().encode(), cloudevent_headers(event, source=source))],
    )


async def known_factory(
    platform: TestPlatform,
    *,
    country: str = "KH",
    workers_women: int | None = 600,
    workers_men: int | None = 400,
) -> uuid.UUID:
    """A factory as the registry's events would leave it in advisory's read model (no registry needed)."""
    factory_id = uuid.uuid4()
    total = (workers_women or 0) + (workers_men or 0) if workers_women is not None or workers_men is not None else None
    conn = await connect_as(platform, "advisory")
    try:
        await conn.execute(
            "INSERT INTO advisory.factory_ref"
            " (factory_id, version, name, country, status, workers_total, workers_women, workers_men)"
            " VALUES ($1, 3, $2, $3, 'active', $4, $5, $6)",
            factory_id,
            f"Factory {factory_id.hex[:6]}",
            country,
            total,
            workers_women,
            workers_men,
        )
    finally:
        await conn.close()
    return factory_id


async def plan_of(client: Any, headers: dict[str, str], factory_id: uuid.UUID) -> dict[str, Any]:
    """The factory's only improvement plan as the API shows it."""
    response = await client.get("/v1/improvement-plans", params={"factory_id": str(factory_id)}, headers=headers)
    assert response.status_code == 200, response.text
    (plan,) = response.json()["items"]
    found: dict[str, Any] = plan
    return found


async def items_of(client: Any, headers: dict[str, str], plan_id: str) -> dict[str, dict[str, Any]]:
    """The plan's items by question code (or title, for items without one)."""
    response = await client.get(f"/v1/improvement-plans/{plan_id}/items", params={"limit": 200}, headers=headers)
    assert response.status_code == 200, response.text
    return {i["question_code"] or i["title"]: i for i in response.json()["items"]}
