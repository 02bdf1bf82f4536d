"""The attempt log: every HTTP attempt of a webhook message, and each endpoint's run of failures, as SQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ARRAY, Boolean, Float, Integer, Text, bindparam, select, text
from sqlalchemy.dialects.postgresql import TIMESTAMP, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from partnerships.adapters.tables import WEBHOOK_ENDPOINT
from partnerships.domain.deliveries import Attempt
from partnerships.domain.endpoints import DISABLED

ENDPOINTS = WEBHOOK_ENDPOINT


async def lock_failure_runs(
    session: AsyncSession, endpoint_ids: Iterable[uuid.UUID]
) -> list[tuple[uuid.UUID, str, int]]:
    """(id, status, failures in a row) of each endpoint, locked in id order (FOR NO KEY UPDATE), as every other
    writer of an endpoint and its messages locks them, so concurrent batches and API calls queue instead of
    deadlocking."""
    rows = await session.execute(
        select(ENDPOINTS.c.id, ENDPOINTS.c.status, ENDPOINTS.c.consecutive_failures)
        .where(ENDPOINTS.c.id.in_(sorted(endpoint_ids)))
        .order_by(ENDPOINTS.c.id)
        .with_for_update(key_share=True)
    )
    return [(r.id, r.status, r.consecutive_failures) for r in rows]


# One statement per batch for messages and attempts: update every message from arrays, and log each
# attempt with the message's new attempt count as its number.
_RECORD = text(
    """
WITH v AS (
    SELECT * FROM unnest(
        CAST(:ids AS uuid[]), CAST(:ok AS boolean[]), CAST(:manual AS boolean[]), CAST(:next_status AS text[]),
        CAST(:retry_at AS timestamptz[]), CAST(:at AS timestamptz[]), CAST(:code AS integer[]),
        CAST(:latency AS double precision[]), CAST(:error AS text[])
    ) AS v(id, ok, manual, next_status, retry_at, at, code, latency, error)
), changed AS (
    UPDATE partnerships.webhook_message AS m SET
        status = CASE WHEN v.ok THEN 'delivered' WHEN v.manual OR m.status <> 'pending' THEN m.status
                      ELSE v.next_status END,
        next_attempt_at = CASE WHEN v.ok THEN NULL WHEN v.manual THEN m.next_attempt_at
                               WHEN m.status <> 'pending' THEN NULL ELSE v.retry_at END,
        delivered_at = CASE WHEN v.ok THEN v.at ELSE m.delivered_at END,
        attempts = m.attempts + 1,
        last_status_code = v.code,
        last_error = v.error
    FROM v WHERE m.id = v.id
    RETURNING m.id, m.endpoint_id, m.attempts
)
INSERT INTO partnerships.webhook_attempt (message_id, endpoint_id, attempt, at, status_code, latency_ms, error, manual)
SELECT v.id, changed.endpoint_id, changed.attempts, v.at, v.code, v.latency, v.error, v.manual
FROM v JOIN changed ON changed.id = v.id
"""
).bindparams(
    bindparam("ids", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("ok", type_=ARRAY(Boolean)),
    bindparam("manual", type_=ARRAY(Boolean)),
    bindparam("next_status", type_=ARRAY(Text)),
    bindparam("retry_at", type_=ARRAY(TIMESTAMP(timezone=True))),
    bindparam("at", type_=ARRAY(TIMESTAMP(timezone=True))),
    bindparam("code", type_=ARRAY(Integer)),
    bindparam("latency", type_=ARRAY(Float)),
    bindparam("error", type_=ARRAY(Text)),
)


async def log(session: AsyncSession, attempts: Sequence[Attempt]) -> None:
    """Log `attempts` and move their messages on (delivered, retry later, failed), in one statement."""
    await session.execute(
        _RECORD,
        {
            "ids": [a.message_id for a in attempts],
            "ok": [a.outcome.ok for a in attempts],
            "manual": [a.manual for a in attempts],
            "next_status": [a.next_status for a in attempts],
            "retry_at": [a.retry_at for a in attempts],
            "at": [a.outcome.at for a in attempts],
            "code": [a.outcome.status_code for a in attempts],
            "latency": [a.outcome.latency_ms for a in attempts],
            "error": [a.outcome.error for a in attempts],
        },
    )


async def set_failure_runs(session: AsyncSession, failures: dict[uuid.UUID, int]) -> None:
    if failures:
        await session.execute(
            ENDPOINTS.update()
            .where(ENDPOINTS.c.id == bindparam("e_id"))
            .values(consecutive_failures=bindparam("e_failures")),
            [{"e_id": e, "e_failures": n} for e, n in failures.items()],
        )


async def disable(session: AsyncSession, endpoint_id: uuid.UUID, notice: str, now: datetime) -> None:
    await session.execute(
        ENDPOINTS.update()
        .where(ENDPOINTS.c.id == endpoint_id)
        .values(status=DISABLED, disabled_at=now, disabled_reason=notice, updated_at=now)
    )
