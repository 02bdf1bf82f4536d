"""What the three advisory benchmarks share: the advisory service as its own process on a throwaway platform,
factories in its read model, and events put on the broker the way their producers' relays would.

Not a benchmark itself: bench/advisory_plan_latency.py, bench/advisory_pr_pdf.py and bench/advisory_xapi.py
use it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from aiokafka import AIOKafkaProducer
from local_platform import LocalPlatform

from betterwork_contracts.base import IntegrationEvent
from betterwork_contracts.events.assessments import AssessmentReleased, NonCompliance
from messaging.envelope import build_headers
from servicekit.auth import Role

COUNTRY = "KH"
TOOL = Path(__file__).resolve().parents[1] / "services/assessments/src/assessments/data/tool_kh_garment.yaml"


def tool_questions() -> list[dict[str, Any]]:
    questions: list[dict[str, Any]] = yaml.safe_load(TOOL.read_text())["questions"]
    return questions


def non_compliances(count: int) -> list[NonCompliance]:
    """`count` non-compliances with the tags of the shipped tool's questions (codes repeat with a suffix when the
    tool has fewer questions)."""
    questions = tool_questions()
    out = []
    for n in range(count):
        q = questions[n % len(questions)]
        tags = q.get("tags") or []
        out.append(
            NonCompliance(
                question_code=q["code"] if n < len(questions) else f"{q['code']}-{n}",
                compliance_point=q["compliance_point"],
                cluster=q["compliance_point"].split("-")[0],
                publicly_reported="publicly_reported" in tags,
                gender_sensitive="gender_sensitive" in tags,
                zero_tolerance="zero_tolerance" in tags,
                workers_affected=(n % 7) * 5,
            )
        )
    return out


def released(factory_id: uuid.UUID, items: int, *, cycle: int = 1) -> AssessmentReleased:
    now = datetime.now(UTC)
    return AssessmentReleased(
        assessment_id=uuid.uuid4(),
        factory_id=factory_id,
        country=COUNTRY,
        cycle=cycle,
        released_at=now,
        due_date=now.date(),
        on_time=True,
        last_visit_day=now.date(),
        tool_version_id=uuid.uuid4(),
        non_compliances=non_compliances(items),
    )


async def put_factories(platform: LocalPlatform, count: int) -> list[uuid.UUID]:
    """Factories as the registry's events would have left them in advisory's read model."""
    ids = [uuid.uuid4() for _ in range(count)]
    conn = await platform.admin_connection()
    try:
        await conn.executemany(
            "INSERT INTO advisory.factory_ref (factory_id, version, name, country, status, workers_total,"
            " workers_women, workers_men) VALUES ($1, 3, $2, $3, 'active', 1000, 700, 300)",
            [(f, f"Bench Garment {f.hex[:6]} រោងចក្រ may mặc", COUNTRY) for f in ids],
        )
    finally:
        await conn.close()
    return ids


class EventWriter:
    """Puts events on their topics as a producing service's relay would (CloudEvents headers, key = aggregate)."""

    def __init__(self, platform: LocalPlatform) -> None:
        self.platform = platform
        self.producer = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap_servers, acks="all", linger_ms=2)

    async def __aenter__(self) -> EventWriter:
        await self.producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.producer.stop()

    async def send(self, event: IntegrationEvent, *, source: str, wait: bool = True) -> None:
        headers = build_headers(
            event_id=str(uuid.uuid4()),
            source=source,
            event_type=event.type,
            subject=event.aggregate_id,
            time=datetime.now(UTC),
            country=COUNTRY,
            correlation_id=None,
            trace_carrier={},
        )
        future = await self.producer.send(
            self.platform.topic_prefix + event.topic.name,
            value=event.model_dump_json().encode(),
            key=event.aggregate_id.encode(),
            headers=[(k, v.encode()) for k, v in headers.items()],
        )
        if wait:
            await future


def bearer(platform: LocalPlatform, role: Role, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {platform.signing_key.mint(roles=[role], **claims)}"}


ADVISORY_ENV = {"ADVISORY_KAFKA_FETCH_MAX_WAIT_MS": "20"}
