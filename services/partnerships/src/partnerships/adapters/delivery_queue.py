"""The delivery queue: webhook messages waiting for their endpoint, as SQL.

A message is one event for one endpoint, written by `enqueue` in the caller's transaction (so an alert and its
webhooks are stored together or not at all); the workers are woken after that commit (`servicekit.wake`: directly
in this process, by NOTIFY in others). Workers claim due messages in batches (`FOR UPDATE SKIP LOCKED`, then a
lease on `next_attempt_at`, so no transaction stays open across HTTP calls and claims of several workers never
overlap), and listen for the NOTIFY on a connection of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import ARRAY, Integer, Text, and_, bindparam, func, literal, or_, select, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession

from partnerships.adapters.tables import WEBHOOK_ATTEMPT, WEBHOOK_ENDPOINT, WEBHOOK_MESSAGE
from partnerships.domain import webhooks as rules
from partnerships.domain.deliveries import PENDING, SKIPPED, LoggedAttempt, Message
from partnerships.domain.endpoints import BUYER_OWNER, ENABLED, SERVICE_OWNER
from servicekit.database import after_commit
from servicekit.pagination import PageParams, paginate, resolve_sort
from servicekit.wake import CommitWaker, waiting_here

_log = logging.getLogger("partnerships.webhooks")

NOTIFY_CHANNEL = "partnerships_webhooks"
WAKER = CommitWaker(NOTIFY_CHANNEL)  # after an enqueue's commit: the workers of this process directly, else NOTIFY
ENDPOINTS = WEBHOOK_ENDPOINT
MESSAGES = WEBHOOK_MESSAGE
ATTEMPTS = WEBHOOK_ATTEMPT


async def enqueue(
    session: AsyncSession,
    *,
    event_type: str,
    data: dict[str, Any],
    buyer_ids: Iterable[uuid.UUID] = (),
    parties: Iterable[str] = (),
    country: str | None = None,
) -> int:
    """Queue `event_type` for every enabled endpoint that subscribes to it: the buyers' own endpoints, and
    service clients of `country` that are one of `parties`. Returns how many messages were queued.

    Runs in the caller's transaction (the caller commits); the workers are woken once it has committed.
    """
    if event_type not in rules.EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}; add it to EVENT_TYPES first")
    buyers = [str(b) for b in buyer_ids]
    party_list = list(parties)
    audience = [and_(ENDPOINTS.c.owner_type == BUYER_OWNER, ENDPOINTS.c.owner_id.in_(buyers))] if buyers else []
    if party_list and country:
        audience.append(
            and_(
                ENDPOINTS.c.owner_type == SERVICE_OWNER,
                ENDPOINTS.c.party.in_(party_list),
                ENDPOINTS.c.party_granted_at.is_not(None),
                ENDPOINTS.c.country == country.upper(),
            )
        )
    if not audience:
        return 0
    body = rules.build_body(event_type, data, datetime.now(UTC))
    chosen = select(
        func.gen_random_uuid(),
        ENDPOINTS.c.id,
        literal(event_type, Text),
        literal(body, Text),
        literal(PENDING, Text),
        literal(0, Integer),
        func.now(),
        func.now(),
    ).where(
        ENDPOINTS.c.status == ENABLED,
        ENDPOINTS.c.event_types.overlap(literal([event_type, rules.ANY_EVENT], ARRAY(Text))),
        or_(*audience),
    )
    columns = ["id", "endpoint_id", "event_type", "body", "status", "attempts", "next_attempt_at", "created_at"]
    result = await session.execute(MESSAGES.insert().from_select(columns, chosen))
    queued = int(result.rowcount)  # type: ignore[attr-defined]
    if queued:
        after_commit(session, WAKER.wake)
    return queued


_CLAIM = text(
    """
WITH due AS (
    SELECT id FROM partnerships.webhook_message
    WHERE status = 'pending' AND next_attempt_at <= now() AND endpoint_id <> ALL(:saturated)
    ORDER BY next_attempt_at
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
UPDATE partnerships.webhook_message AS m
SET next_attempt_at = now() + make_interval(secs => :lease_s)
FROM due, partnerships.webhook_endpoint AS e
WHERE m.id = due.id AND e.id = m.endpoint_id
RETURNING m.id, m.endpoint_id, m.body, m.attempts, e.url, e.secrets, e.status AS endpoint_status
"""
).bindparams(bindparam("saturated", type_=ARRAY(UUID(as_uuid=True))))


@dataclass(frozen=True)
class Claimed:
    """A claimed message with what sending it needs of its endpoint."""

    id: uuid.UUID
    endpoint_id: uuid.UUID
    body: str
    attempts: int
    url: str
    secrets: list[dict[str, Any]]
    endpoint_status: str


async def claim(session: AsyncSession, *, limit: int, lease_s: float, saturated: Sequence[uuid.UUID]) -> list[Claimed]:
    """Up to `limit` due messages, leased for `lease_s` seconds, passing over the endpoints `saturated`."""
    rows = await session.execute(_CLAIM, {"limit": limit, "lease_s": lease_s, "saturated": list(saturated)})
    return [Claimed(*row) for row in rows]


async def skip(session: AsyncSession, message_ids: Sequence[uuid.UUID]) -> None:
    """Claimed messages whose endpoint stopped receiving meanwhile."""
    if message_ids:
        await session.execute(
            MESSAGES.update()
            .where(MESSAGES.c.id.in_(list(message_ids)), MESSAGES.c.status == PENDING)
            .values(status=SKIPPED, next_attempt_at=None)
        )


async def hand_back(session: AsyncSession, message_ids: Sequence[uuid.UUID]) -> None:
    """Claimed messages this worker cannot take now: due again at once, for whichever worker has room."""
    if message_ids:
        await session.execute(
            MESSAGES.update().where(MESSAGES.c.id.in_(list(message_ids))).values(next_attempt_at=func.now())
        )


async def skip_pending(session: AsyncSession, endpoint_ids: Sequence[uuid.UUID]) -> None:
    """Messages still waiting for endpoints that stopped receiving: their owner redelivers what they want."""
    await session.execute(
        MESSAGES.update()
        .where(MESSAGES.c.endpoint_id.in_(list(endpoint_ids)), MESSAGES.c.status == PENDING)
        .values(status=SKIPPED, next_attempt_at=None)
    )


def _message(row: Mapping[Any, Any], log: list[LoggedAttempt] | None = None) -> Message:
    return Message(**{k: row[k] for k in _MESSAGE_FIELDS}, attempt_log=log or [])


def _logged(row: Mapping[Any, Any]) -> LoggedAttempt:
    return LoggedAttempt(**{k: row[k] for k in _ATTEMPT_FIELDS})


_MESSAGE_FIELDS = [c.name for c in MESSAGES.c]
_ATTEMPT_FIELDS = ["attempt", "at", "status_code", "latency_ms", "error", "manual"]


async def load(session: AsyncSession, message_id: uuid.UUID) -> Message | None:
    row = (await session.execute(select(MESSAGES).where(MESSAGES.c.id == message_id))).mappings().first()
    return _message(row) if row is not None else None


async def last_attempt(session: AsyncSession, message_id: uuid.UUID) -> LoggedAttempt:
    """The message's latest attempt in the log."""
    stmt = select(ATTEMPTS).where(ATTEMPTS.c.message_id == message_id).order_by(ATTEMPTS.c.id.desc()).limit(1)
    return _logged((await session.execute(stmt)).mappings().one())


async def page(
    session: AsyncSession, endpoint_id: uuid.UUID, page: PageParams, *, status: str | None
) -> tuple[list[Message], str | None]:
    """The endpoint's messages, newest first, each with every attempt."""
    order = resolve_sort(page.sort, {"created_at": (MESSAGES.c.created_at, MESSAGES.c.id)}, "-created_at")
    stmt = select(MESSAGES).where(MESSAGES.c.endpoint_id == endpoint_id)
    if status is not None:
        stmt = stmt.where(MESSAGES.c.status == status)
    rows, cursor = await paginate(session, stmt, order, page)
    logs: dict[uuid.UUID, list[LoggedAttempt]] = {r._mapping["id"]: [] for r in rows}
    if logs:
        found = await session.execute(
            select(ATTEMPTS).where(ATTEMPTS.c.message_id.in_(list(logs))).order_by(ATTEMPTS.c.id)
        )
        for attempt in found.mappings():
            logs[attempt["message_id"]].append(_logged(attempt))
    return [_message(r._mapping, logs[r._mapping["id"]]) for r in rows], cursor


async def listen(dsn: str, wakeup: asyncio.Event, stopping: asyncio.Event) -> None:
    """Set `wakeup` after every enqueue's commit, until `stopping`: directly for this process's enqueues, by LISTEN
    on a connection of its own for other processes', connecting again after losing it (the workers' poll covers
    the gap)."""
    backoff = 0.5
    while not stopping.is_set():
        try:
            conn: asyncpg.Connection = await asyncpg.connect(dsn, timeout=10)
        except Exception as exc:
            _log.warning("webhook listener cannot connect (%s); retrying in %.1f s", exc, backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), backoff)
            backoff = min(backoff * 2, 10.0)
            continue
        backoff = 0.5
        waiting_here(dsn, NOTIFY_CHANNEL, wakeup)  # this process's enqueues wake the workers directly
        try:
            await _listen_on(conn, wakeup, stopping)
        except Exception as exc:
            _log.warning("webhook listener lost its connection (%s)", exc)
        finally:
            waiting_here(dsn, NOTIFY_CHANNEL, None)
            with contextlib.suppress(Exception):
                await conn.close(timeout=5)


async def _listen_on(conn: asyncpg.Connection, wakeup: asyncio.Event, stopping: asyncio.Event) -> None:
    """Until stopped or the connection drops."""
    lost = asyncio.Event()
    await conn.add_listener(NOTIFY_CHANNEL, lambda *_: wakeup.set())
    conn.add_termination_listener(lambda _conn: lost.set())
    wakeup.set()  # whatever was queued while nobody listened
    waits = [asyncio.ensure_future(stopping.wait()), asyncio.ensure_future(lost.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
