"""What ended delivery attempts mean: log them, move their messages on, keep each endpoint's run of failures,
and disable an endpoint whose run got too long (with a notice for its owner, an audit entry and a warning)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from partnerships.adapters import attempt_log, delivery_queue
from partnerships.adapters.endpoints import EndpointRepository
from partnerships.domain import webhooks as rules
from partnerships.domain.deliveries import Attempt
from partnerships.domain.endpoints import ENABLED
from servicekit.auth import Principal, Role

_log = logging.getLogger("partnerships.webhooks")

SYSTEM = Principal(subject="partnerships-webhook-worker", roles=frozenset({Role.SERVICE}))


async def record_attempts(session: AsyncSession, attempts: Sequence[Attempt], *, disable_after: int) -> list[uuid.UUID]:
    """Log `attempts`, move their messages on, keep each endpoint's failure run; the endpoints disabled now.

    The endpoints are locked first, in id order, as every other writer of an endpoint and its messages
    does, so concurrent batches and API calls queue instead of deadlocking.
    """
    if not attempts:
        return []
    locked = await attempt_log.lock_failure_runs(session, {a.endpoint_id for a in attempts})
    await attempt_log.log(session, attempts)
    by_endpoint: dict[uuid.UUID, list[Attempt]] = {}
    for attempt in sorted(attempts, key=lambda a: a.ended):
        by_endpoint.setdefault(attempt.endpoint_id, []).append(attempt)
    counts: dict[uuid.UUID, int] = {}
    disabled: list[tuple[uuid.UUID, int, Attempt]] = []
    for endpoint_id, status, previous in locked:
        tried = by_endpoint[endpoint_id]
        failures = rules.consecutive_failures(previous, (a.outcome.ok for a in tried))
        if failures != previous:
            counts[endpoint_id] = failures
        if status == ENABLED and rules.should_disable(failures, disable_after):
            disabled.append((endpoint_id, failures, tried[-1]))
    await attempt_log.set_failure_runs(session, counts)
    audit = EndpointRepository(session)
    for endpoint_id, failures, last in disabled:
        notice = rules.disable_notice(failures, last.outcome.status_code, last.outcome.error)
        await attempt_log.disable(session, endpoint_id, notice, datetime.now(UTC))
        await audit.audit(SYSTEM, "webhook_endpoint.disabled", endpoint_id, {"reason": notice})
        _log.warning("webhook endpoint %s %s", endpoint_id, notice)
    if disabled:
        await delivery_queue.skip_pending(session, [d[0] for d in disabled])
    return [d[0] for d in disabled]
