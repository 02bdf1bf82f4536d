"""What webhook delivery records: messages waiting or sent, each HTTP attempt and what it means for its message."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from partnerships.domain import webhooks as rules

PENDING, DELIVERED, FAILED, SKIPPED = "pending", "delivered", "failed", "skipped"


@dataclass(frozen=True)
class LoggedAttempt:
    """One attempt as the delivery log keeps it."""

    attempt: int
    at: datetime
    status_code: int | None
    latency_ms: float | None
    error: str | None
    manual: bool


@dataclass(frozen=True)
class Message:
    """One event for one endpoint; `id` is the `webhook-id` header, the same on every attempt."""

    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_type: str
    body: str  # the exact JSON body signed and sent
    status: str  # pending, delivered, failed, skipped
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    attempt_log: list[LoggedAttempt] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """What one HTTP attempt came to."""

    at: datetime
    status_code: int | None
    latency_ms: float | None
    error: str | None
    retry_after: timedelta | None = None  # what the receiver asked for (429 or 503 with Retry-After)

    @property
    def ok(self) -> bool:
        return rules.is_success(self.status_code)


@dataclass(frozen=True)
class Attempt:
    """An outcome, and what it means for its message if it failed (decided by the retry schedule)."""

    message_id: uuid.UUID
    endpoint_id: uuid.UUID
    outcome: Outcome
    manual: bool
    next_status: str  # if it failed: pending (retry at `retry_at`) or failed; a manual one keeps the status
    retry_at: datetime | None

    @property
    def ended(self) -> datetime:
        return self.outcome.at + timedelta(milliseconds=self.outcome.latency_ms or 0)


def scheduled_attempt(message_id: uuid.UUID, endpoint_id: uuid.UUID, attempts_before: int, outcome: Outcome,
                  *, scale: float) -> Attempt:  # fmt: skip
    """A scheduled attempt's record: a retry at the schedule's next step, or failed once the schedule is spent."""
    delay = None if outcome.ok else rules.next_delay(attempts_before + 1, scale=scale, retry_after=outcome.retry_after)
    return Attempt(
        message_id=message_id,
        endpoint_id=endpoint_id,
        outcome=outcome,
        manual=False,
        next_status=PENDING if delay is not None else FAILED,
        retry_at=outcome.at + delay if delay is not None else None,
    )
