"""Signed webhooks: endpoints, the message queue, and the worker that delivers it.

A message is one event for one endpoint, written by `enqueue` in the caller's transaction (so an alert
and its webhooks are stored together or not at all) with a `pg_notify` that wakes a worker at commit.
The worker claims due messages in batches (`FOR UPDATE SKIP LOCKED`, then a lease on `next_attempt_at`,
so no transaction stays open across HTTP calls), signs and posts them concurrently over pooled keep-alive
connections, and records ended attempts many at a time, each group in one transaction: every attempt
(status, latency, response code), each message's next step (delivered, retry later, failed), and each
endpoint's run of failures, which disables it when it gets too long. Any number of workers can run:
claims never overlap. Round trips are per batch, never per message.

Delivery is at least once: a worker that dies after sending but before recording sends those messages
again once their lease ends. Receivers deduplicate on `webhook-id`, as Standard Webhooks asks them to.

Target URLs are checked at registration and again at each delivery (the name may now resolve elsewhere:
DNS rebinding). In production the connection then goes to the checked address itself, with the name
kept for TLS (SNI and certificate) and the Host header, so nothing can re-resolve in between.

Endpoints are never hard-deleted: deleting one erases its secrets and hides it, and keeps its delivery
log, which an auditor reads when a subscriber says it was never told.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import socket
import ssl
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import certifi
import httpx
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import ARRAY, Boolean, Float, Integer, Text, and_, bindparam, false, func, literal, or_, select, text
from sqlalchemy.dialects.postgresql import TIMESTAMP, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from partnerships.adapters.tables import SCHEMA, WEBHOOK_ATTEMPT, WEBHOOK_ENDPOINT, WEBHOOK_MESSAGE
from partnerships.domain import webhooks as rules
from partnerships.settings import PartnershipsSettings
from servicekit.audit import record_audit
from servicekit.auth import Principal, Role
from servicekit.database import Database, UnitOfWork
from servicekit.errors import Conflict, Forbidden, NotFound, Problem
from servicekit.pagination import PageParams, paginate, resolve_sort
from servicekit.settings import libpq_dsn

_log = logging.getLogger("partnerships.webhooks")

NOTIFY_CHANNEL = "partnerships_webhooks"
SYSTEM = Principal(subject="partnerships-webhook-worker", roles=frozenset({Role.SERVICE}))
USER_AGENT = "BetterWork-Webhooks/1.0"
MAX_RESPONSE_BYTES = 64 * 1024  # read at most this much of an answer (a receiver could send gigabytes)
MAX_ERROR_CHARS = 500
DNS_TIMEOUT_S = 5.0

ENDPOINTS = WEBHOOK_ENDPOINT
MESSAGES = WEBHOOK_MESSAGE
ATTEMPTS = WEBHOOK_ATTEMPT

# Endpoint states: `enabled` receives, `disabled` (by its owner or after repeated failure) does not,
# `deleted` is gone for its owner: its secrets are erased and it is hidden, its delivery log is kept.
ENABLED, DISABLED, DELETED = "enabled", "disabled", "deleted"


class WebhookUrlRefused(Problem):
    """422: the URL is not one this deployment delivers to (scheme, private address, does not resolve)."""

    status = 422
    slug = "webhook-url-refused"


# ---- enqueue: called by the use cases that raise events --------------------------------------------------------


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

    Runs in the caller's transaction (the caller commits); the NOTIFY reaches the workers at that commit.
    """
    if event_type not in rules.EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}; add it to EVENT_TYPES first")
    buyers = [str(b) for b in buyer_ids]
    party_list = list(parties)
    audience = [and_(ENDPOINTS.c.owner_type == "buyer", ENDPOINTS.c.owner_id.in_(buyers))] if buyers else []
    if party_list and country:
        audience.append(
            and_(
                ENDPOINTS.c.owner_type == "service",
                ENDPOINTS.c.party.in_(party_list),
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
        literal("pending", Text),
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
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
    return queued


# ---- who may see and change an endpoint ------------------------------------------------------------------------


def _buyer_of(principal: Principal) -> str | None:
    """The caller's buyer id as `enqueue` writes buyer ids (canonical UUID text), whatever case the token used."""
    buyer = principal.organisation(Role.BUYER)
    return str(buyer) if buyer is not None else None


def _visible(principal: Principal) -> ColumnElement[bool]:
    """Endpoints the caller may see: its own (buyer organisation or service client), staff their country's."""
    live = ENDPOINTS.c.status != DELETED
    if principal.is_admin:
        return live
    mine: list[ColumnElement[bool]] = []
    if (buyer := _buyer_of(principal)) is not None:
        mine.append(and_(ENDPOINTS.c.owner_type == "buyer", ENDPOINTS.c.owner_id == buyer))
    if Role.SERVICE in principal.roles:
        mine.append(and_(ENDPOINTS.c.owner_type == "service", ENDPOINTS.c.owner_id == principal.subject))
    if Role.STAFF in principal.roles:
        # Buyers work across countries, so staff see their endpoints; service clients only of their country.
        mine.append(ENDPOINTS.c.owner_type == "buyer")
        if principal.country:
            mine.append(ENDPOINTS.c.country == principal.country)
    return and_(live, or_(*mine)) if mine else false()


def _owns(principal: Principal, endpoint: dict[str, Any]) -> bool:
    owner: str = endpoint["owner_id"]
    if endpoint["owner_type"] == "buyer":
        return _buyer_of(principal) == owner
    return Role.SERVICE in principal.roles and principal.subject == owner


def _check_owner(principal: Principal, endpoint: dict[str, Any], what: str) -> None:
    """Where alerts go and the secret that proves them are the owner's business (and an admin's)."""
    if not (_owns(principal, endpoint) or principal.is_admin):
        raise Forbidden(f"Only the endpoint's owner may {what}.")


async def _load_endpoint(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, *, lock: bool = False
) -> dict[str, Any]:
    """The endpoint if the caller may see it; otherwise 404, so ids of other owners' endpoints do not leak."""
    stmt = select(ENDPOINTS).where(ENDPOINTS.c.id == endpoint_id, _visible(principal))
    if lock:
        stmt = stmt.with_for_update(key_share=True)  # FOR NO KEY UPDATE: enqueue's inserts still pass
    row = (await session.execute(stmt)).mappings().first()
    if row is None:
        raise NotFound(f"No webhook endpoint {endpoint_id}.")
    return dict(row)


def public_endpoint(row: dict[str, Any]) -> dict[str, Any]:
    """An endpoint as its readers see it: secret values never leave after they were shown once."""
    out = {k: v for k, v in row.items() if k != "secrets"}
    out["signing_secrets"] = rules.secret_dates(row["secrets"] or [])
    return out


class FernetBox:
    """Seals signing secrets with the deployment's key (Fernet: AES-128-CBC with HMAC-SHA256), so a copy of
    the database alone cannot sign webhooks. Secrets stored before a key was set are read as they are."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("a sealed webhook secret does not open with this key") from exc


@functools.cache
def _box(key: str) -> FernetBox:
    return FernetBox(key)


def secret_box(settings: PartnershipsSettings) -> FernetBox | None:
    """The box for `PARTNERSHIPS_WEBHOOK_SECRET_KEY`, or None when secrets are stored as they are."""
    key = settings.webhook_secret_key
    return _box(key.get_secret_value()) if key is not None else None


# ---- checking target URLs --------------------------------------------------------------------------------------

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6), by the system resolver, within DNS_TIMEOUT_S."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP), DNS_TIMEOUT_S
        )
    except (OSError, TimeoutError) as exc:
        raise rules.TargetRefused(f"{host} does not resolve ({exc}).") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check_target(url: str, *, allow_private: bool, resolver: Resolver | None = None) -> list[str]:
    """Raise TargetRefused unless `url` is a target this deployment delivers to; the addresses it may use.

    With private targets allowed nothing is resolved (local names such as a compose service are fine).
    """
    target = rules.check_url(url, allow_private=allow_private)
    if allow_private:
        return []
    if target.is_ip_literal:
        return [target.host]
    addresses = await (resolver or resolve_host)(target.host, target.port)
    rules.check_addresses(target, addresses, allow_private=False)
    return addresses


async def _checked_url(url: str, settings: PartnershipsSettings, resolver: Resolver | None) -> str:
    try:
        await check_target(url, allow_private=settings.webhook_allow_private_targets, resolver=resolver)
    except rules.TargetRefused as exc:
        raise WebhookUrlRefused(
            str(exc), title="Webhook URL refused", errors=[{"pointer": "#/body/url", "detail": str(exc)}]
        ) from exc
    return url.strip()


# ---- endpoint use cases ----------------------------------------------------------------------------------------


async def register_endpoint(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: PartnershipsSettings,
    url: str,
    event_types: Sequence[str],
    description: str | None = None,
    country: str | None = None,
    party: str | None = None,
    resolver: Resolver | None = None,
) -> tuple[dict[str, Any], str]:
    """A buyer's endpoint (its organisation's), or a service client's for one protocol party of one country.

    Returns the endpoint and its signing secret, which is shown this once and never again.
    """
    if party is not None or country is not None:
        if Role.SERVICE not in principal.roles:
            raise Forbidden("Only service clients register endpoints for a protocol party and country.")
        if party is None:
            raise Problem("A service client's endpoint names the protocol `party` it is.", status=422)
        country = (country or principal.country or "").upper() or None
        if country is None:
            raise Problem("A service client's endpoint names the `country` whose alerts it takes.", status=422)
        if principal.country and principal.country != country and not principal.is_admin:
            raise Forbidden(f"The token is for {principal.country}; it cannot subscribe to {country}.")
        owner_type, owner_id = "service", principal.subject
    elif Role.BUYER in principal.roles:
        buyer = _buyer_of(principal)
        if buyer is None:
            raise Forbidden("The token names no buyer organisation.")
        owner_type, owner_id = "buyer", buyer
    else:
        raise Forbidden(
            "Endpoints are registered by the buyer or service client that receives them "
            "(service clients give `party` and `country`)."
        )
    url = await _checked_url(url, settings, resolver)
    now = datetime.now(UTC)
    signing, secret = rules.first_secret(now)
    endpoint_id = uuid.uuid4()
    await uow.session.execute(
        ENDPOINTS.insert().values(
            id=endpoint_id,
            owner_type=owner_type,
            owner_id=owner_id,
            country=country,
            party=party,
            url=url,
            description=description,
            event_types=sorted(set(event_types)),
            secrets=[s.to_json(secret_box(settings)) for s in signing],
            status=ENABLED,
            consecutive_failures=0,
            created_at=now,
            created_by=principal.subject,
            updated_at=now,
        )
    )
    await _audit(uow.session, principal, "webhook_endpoint.registered", endpoint_id, {"url": url})
    await uow.commit()
    endpoint = await _load_endpoint(uow.session, principal, endpoint_id)
    return public_endpoint(endpoint), secret


async def list_endpoints(
    uow: UnitOfWork, *, principal: Principal, page: PageParams, status: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    order = resolve_sort(page.sort, {"created_at": (ENDPOINTS.c.created_at, ENDPOINTS.c.id)}, "-created_at")
    stmt = select(ENDPOINTS).where(_visible(principal))
    if status is not None:
        stmt = stmt.where(ENDPOINTS.c.status == status)
    rows, cursor = await paginate(uow.session, stmt, order, page)
    return [public_endpoint(dict(r._mapping)) for r in rows], cursor


async def get_endpoint(uow: UnitOfWork, *, principal: Principal, endpoint_id: uuid.UUID) -> dict[str, Any]:
    return public_endpoint(await _load_endpoint(uow.session, principal, endpoint_id))


async def update_endpoint(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: PartnershipsSettings,
    endpoint_id: uuid.UUID,
    changes: dict[str, Any],
    resolver: Resolver | None = None,
) -> dict[str, Any]:
    """Change url, event types, description; `enabled` switches delivery on (clearing the failure run) or off.

    Staff may switch an endpoint on or off and describe it; where it points is up to its owner.
    """
    endpoint = await _load_endpoint(uow.session, principal, endpoint_id, lock=True)
    if changes.keys() - {"enabled", "description"}:
        _check_owner(principal, endpoint, "change where its webhooks go")
    elif not (_owns(principal, endpoint) or principal.has_any_role(Role.STAFF)):
        raise Forbidden("Only the endpoint's owner or programme staff may change it.")
    now = datetime.now(UTC)
    values: dict[str, Any] = {"updated_at": now}
    if "url" in changes:
        values["url"] = await _checked_url(changes["url"], settings, resolver)
    if "event_types" in changes:
        values["event_types"] = sorted(set(changes["event_types"]))
    if "description" in changes:
        values["description"] = changes["description"]
    enabled = changes.get("enabled")
    if enabled is True and endpoint["status"] != ENABLED:
        values.update(status=ENABLED, consecutive_failures=0, disabled_at=None, disabled_reason=None)
    elif enabled is False and endpoint["status"] == ENABLED:
        values.update(status=DISABLED, disabled_at=now, disabled_reason=f"disabled by {principal.subject}")
        await _skip_pending(uow.session, [endpoint_id])
    await uow.session.execute(ENDPOINTS.update().where(ENDPOINTS.c.id == endpoint_id).values(**values))
    details = {k: v for k, v in changes.items() if k != "description"}
    await _audit(uow.session, principal, "webhook_endpoint.changed", endpoint_id, details)
    await uow.commit()
    return public_endpoint(await _load_endpoint(uow.session, principal, endpoint_id))


async def delete_endpoint(uow: UnitOfWork, *, principal: Principal, endpoint_id: uuid.UUID) -> None:
    """Stop delivering, erase the secrets and hide the endpoint; its delivery log stays for the record.

    Not a hard delete: messages and attempts refer to the endpoint, and a batch in flight may still
    report on it; the log is also what an auditor looks at when a subscriber says it was never told.
    """
    endpoint = await _load_endpoint(uow.session, principal, endpoint_id, lock=True)
    _check_owner(principal, endpoint, "delete it")
    now = datetime.now(UTC)
    await uow.session.execute(
        ENDPOINTS.update()
        .where(ENDPOINTS.c.id == endpoint_id)
        .values(status=DELETED, secrets=[], disabled_at=now, disabled_reason=f"deleted by {principal.subject}")
    )
    await _skip_pending(uow.session, [endpoint_id])
    await _audit(uow.session, principal, "webhook_endpoint.deleted", endpoint_id, {"url": endpoint["url"]})
    await uow.commit()


async def rotate_secret(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: PartnershipsSettings,
    endpoint_id: uuid.UUID,
    overlap_hours: float | None = None,
) -> tuple[dict[str, Any], str]:
    """A new secret, shown once; the old ones keep signing beside it for the overlap (0: retire them now)."""
    endpoint = await _load_endpoint(uow.session, principal, endpoint_id, lock=True)
    _check_owner(principal, endpoint, "rotate its secret")
    now = datetime.now(UTC)
    overlap = timedelta(hours=settings.webhook_secret_overlap_h if overlap_hours is None else overlap_hours)
    box = secret_box(settings)
    signing, secret = rules.rotate(rules.secrets_of(endpoint["secrets"], box), now=now, overlap=overlap)
    await uow.session.execute(
        ENDPOINTS.update()
        .where(ENDPOINTS.c.id == endpoint_id)
        .values(secrets=[s.to_json(box) for s in signing], updated_at=now)
    )
    await _audit(
        uow.session,
        principal,
        "webhook_endpoint.secret_rotated",
        endpoint_id,
        {"overlap_hours": overlap.total_seconds() / 3600},
    )
    await uow.commit()
    return public_endpoint(await _load_endpoint(uow.session, principal, endpoint_id)), secret


async def list_messages(
    uow: UnitOfWork,
    *,
    principal: Principal,
    endpoint_id: uuid.UUID,
    page: PageParams,
    status: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """The endpoint's messages, newest first, each with every attempt (status code, latency, error, manual)."""
    await _load_endpoint(uow.session, principal, endpoint_id)
    order = resolve_sort(page.sort, {"created_at": (MESSAGES.c.created_at, MESSAGES.c.id)}, "-created_at")
    stmt = select(MESSAGES).where(MESSAGES.c.endpoint_id == endpoint_id)
    if status is not None:
        stmt = stmt.where(MESSAGES.c.status == status)
    rows, cursor = await paginate(uow.session, stmt, order, page)
    messages = [dict(r._mapping) for r in rows]
    attempts: dict[uuid.UUID, list[dict[str, Any]]] = {m["id"]: [] for m in messages}
    if messages:
        found = await uow.session.execute(
            select(ATTEMPTS).where(ATTEMPTS.c.message_id.in_(list(attempts))).order_by(ATTEMPTS.c.id)
        )
        for attempt in found.mappings():
            attempts[attempt["message_id"]].append(dict(attempt))
    return [m | {"attempt_log": attempts[m["id"]]} for m in messages], cursor


async def redeliver(
    database: Database, *, principal: Principal, sender: WebhookSender, message_id: uuid.UUID
) -> dict[str, Any]:
    """Send a message again now, whatever became of it (delivered, failed, skipped), and log it as manual.

    The attempt runs outside any transaction (a receiver may take seconds); it then counts like any other:
    a success marks the message delivered and clears the endpoint's failure run. A failure leaves a message
    as it was (a pending one keeps its schedule).
    """
    async with database.unit_of_work() as uow:
        row = (await uow.session.execute(select(MESSAGES).where(MESSAGES.c.id == message_id))).mappings().first()
        if row is None:
            raise NotFound(f"No webhook message {message_id}.")
        try:
            endpoint = await _load_endpoint(uow.session, principal, row["endpoint_id"])
        except NotFound:
            raise NotFound(f"No webhook message {message_id}.") from None
    if endpoint["status"] != ENABLED:
        raise Conflict(
            "The endpoint is disabled: enable it (PATCH with enabled=true) before redelivering.",
            endpoint_status=endpoint["status"],
        )
    outcome = await sender.send(
        url=endpoint["url"],
        signing=rules.signing_secrets(rules.secrets_of(endpoint["secrets"], sender.box), datetime.now(UTC)),
        msg_id=str(message_id),
        body=row["body"],
    )
    attempt = Attempt(message_id, endpoint["id"], outcome, manual=True, next_status=row["status"], retry_at=None)
    async with database.unit_of_work() as uow:
        await record_attempts(uow.session, [attempt], disable_after=sender.settings.webhook_disable_after)
        await _audit(
            uow.session,
            principal,
            "webhook_message.redelivered",
            endpoint["id"],
            {"message_id": str(message_id), "status_code": outcome.status_code, "error": outcome.error},
        )
        await uow.commit()
        message = (await uow.session.execute(select(MESSAGES).where(MESSAGES.c.id == message_id))).mappings().one()
        logged = (
            (
                await uow.session.execute(
                    select(ATTEMPTS).where(ATTEMPTS.c.message_id == message_id).order_by(ATTEMPTS.c.id.desc()).limit(1)
                )
            )
            .mappings()
            .one()
        )
    return {"message": dict(message), "attempt": dict(logged)}


async def _skip_pending(session: AsyncSession, endpoint_ids: Sequence[uuid.UUID]) -> None:
    """Messages still waiting for an endpoint that stopped receiving: its owner redelivers what it wants."""
    await session.execute(
        MESSAGES.update()
        .where(MESSAGES.c.endpoint_id.in_(list(endpoint_ids)), MESSAGES.c.status == "pending")
        .values(status="skipped", next_attempt_at=None)
    )


async def _audit(
    session: AsyncSession, actor: Principal, action: str, endpoint_id: uuid.UUID, details: dict[str, Any]
) -> None:
    await record_audit(
        session,
        schema=SCHEMA,
        actor=actor,
        action=action,
        entity_type="webhook_endpoint",
        entity_id=str(endpoint_id),
        details=details,
    )


# ---- sending ---------------------------------------------------------------------------------------------------


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


@dataclass
class _OriginPool:
    """The connections to one origin: a small pool, never asked for more than it holds."""

    client: httpx.AsyncClient
    slots: asyncio.Semaphore
    in_flight: int = 0


class WebhookSender:
    """Signs and posts deliveries: keep-alive connections, a pool per origin, redirects never followed.

    A pool per origin rather than one shared pool: httpcore looks at every connection of a pool for every
    request, so one pool of a hundred connections costs several times more CPU per request than ten pools
    of ten (measured in bench/webhook_delivery.py). It also keeps one slow receiver from holding every
    connection: an origin gets at most `webhook_connections_per_host` at once, and tasks waiting for it
    hold no global slot.
    """

    MAX_POOLS = 512  # origins kept warm; the least recently used idle one is closed beyond that

    def __init__(self, settings: PartnershipsSettings, *, resolver: Resolver | None = None) -> None:
        self.box = secret_box(settings)
        self.settings = settings
        self._resolver = resolver or resolve_host
        self._slots = asyncio.Semaphore(settings.webhook_concurrency)
        self._pools: OrderedDict[tuple[str, str, int, str | None], _OriginPool] = OrderedDict()
        self._ssl = ssl.create_default_context(cafile=certifi.where())  # loaded once, shared by every pool
        self._closing: set[asyncio.Future[None]] = set()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.client.aclose()

    def _pool(self, url: httpx.URL, sni: str | None) -> _OriginPool:
        key = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80), sni)
        pool = self._pools.get(key)
        if pool is None:
            per_host = self.settings.webhook_connections_per_host
            pool = self._pools[key] = _OriginPool(
                httpx.AsyncClient(
                    verify=self._ssl,
                    timeout=httpx.Timeout(self.settings.webhook_timeout_s),
                    limits=httpx.Limits(
                        max_connections=per_host, max_keepalive_connections=per_host, keepalive_expiry=30
                    ),
                    follow_redirects=False,
                    headers={"user-agent": USER_AGENT},
                    trust_env=False,  # a proxy from the environment would bypass the address checks
                ),
                asyncio.Semaphore(per_host),
            )
            self._evict()
        self._pools.move_to_end(key)
        return pool

    def _evict(self) -> None:
        for key in [k for k, p in self._pools.items() if p.in_flight == 0][: len(self._pools) - self.MAX_POOLS]:
            closing = asyncio.ensure_future(self._pools.pop(key).client.aclose())
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)

    async def _route(
        self, url: str, dns: dict[tuple[str, int], asyncio.Task[list[str]]] | None
    ) -> tuple[httpx.URL, dict[str, str], str | None]:
        """Where to connect. Without private targets: the checked address itself, the name kept for TLS."""
        if self.settings.webhook_allow_private_targets:
            return httpx.URL(url), {}, None
        target = rules.check_url(url, allow_private=False)
        if target.is_ip_literal:
            return httpx.URL(url), {}, None
        key = (target.host, target.port)
        cache = {} if dns is None else dns
        if key not in cache:
            cache[key] = asyncio.ensure_future(self._resolver(target.host, target.port))
        addresses = await asyncio.shield(cache[key])
        rules.check_addresses(target, addresses, allow_private=False)
        pinned = httpx.URL(url)
        host_header = pinned.netloc.decode("ascii")
        return pinned.copy_with(host=addresses[0]), {"host": host_header}, target.host

    async def send(
        self,
        *,
        url: str,
        signing: Sequence[str],
        msg_id: str,
        body: str,
        dns: dict[tuple[str, int], asyncio.Task[list[str]]] | None = None,
    ) -> Outcome:
        """One attempt; never raises for what the receiver or the network did (that is the outcome).

        Signed when it leaves (after any wait for a connection), so `webhook-timestamp` is fresh.
        """
        at = datetime.now(UTC)
        started = time.perf_counter()
        try:
            target, headers, sni = await self._route(url, dns)
            pool = self._pool(target, sni)
            async with pool.slots, self._slots:
                pool.in_flight += 1
                try:
                    at, started = datetime.now(UTC), time.perf_counter()
                    headers.update(rules.delivery_headers(signing, msg_id, int(time.time()), body))
                    request = pool.client.build_request(
                        "POST",
                        target,
                        content=body.encode(),
                        headers=headers,
                        extensions={"sni_hostname": sni} if sni else None,
                    )
                    response = await pool.client.send(request, stream=True)
                    try:
                        received = bytearray()
                        async for chunk in response.aiter_raw():
                            received += chunk
                            if len(received) >= MAX_RESPONSE_BYTES:
                                break
                    finally:
                        await response.aclose()
                finally:
                    pool.in_flight -= 1
            latency = (time.perf_counter() - started) * 1000
            error, retry_after = None, None
            if not rules.is_success(response.status_code):
                snippet = bytes(received[:200]).decode("utf-8", "replace").strip()
                error = f"HTTP {response.status_code}" + (f": {snippet}" if snippet else "")
                retry_after = rules.parse_retry_after(response.status_code, response.headers.get("retry-after"), at)
                if retry_after is not None:
                    error = f"{error} (asked to retry after {retry_after.total_seconds():g} s)"[:MAX_ERROR_CHARS]
            return Outcome(at, response.status_code, round(latency, 3), error, retry_after)
        except rules.TargetRefused as exc:
            return Outcome(at, None, None, f"refused: {exc}")
        except httpx.TimeoutException:
            latency = (time.perf_counter() - started) * 1000
            return Outcome(at, None, round(latency, 3), f"no answer within {self.settings.webhook_timeout_s:g} s")
        except (httpx.HTTPError, OSError, ValueError) as exc:
            latency = (time.perf_counter() - started) * 1000
            reason = str(exc) or type(exc).__name__
            return Outcome(at, None, round(latency, 3), f"{type(exc).__name__}: {reason}"[:MAX_ERROR_CHARS])


# ---- recording attempts ----------------------------------------------------------------------------------------


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


async def record_attempts(session: AsyncSession, attempts: Sequence[Attempt], *, disable_after: int) -> list[uuid.UUID]:
    """Log `attempts`, move their messages on, keep each endpoint's failure run; the endpoints disabled now.

    The endpoints are locked first, in id order, as every other writer of an endpoint and its messages
    does, so concurrent batches and API calls queue instead of deadlocking.
    """
    if not attempts:
        return []
    endpoint_ids = sorted({a.endpoint_id for a in attempts})
    locked = (
        await session.execute(
            select(ENDPOINTS.c.id, ENDPOINTS.c.status, ENDPOINTS.c.consecutive_failures)
            .where(ENDPOINTS.c.id.in_(endpoint_ids))
            .order_by(ENDPOINTS.c.id)
            .with_for_update(key_share=True)  # FOR NO KEY UPDATE
        )
    ).all()
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
    by_endpoint: dict[uuid.UUID, list[Attempt]] = {}
    for attempt in sorted(attempts, key=lambda a: a.ended):
        by_endpoint.setdefault(attempt.endpoint_id, []).append(attempt)
    counts: list[dict[str, Any]] = []
    disabled: list[tuple[uuid.UUID, int, Attempt]] = []
    for endpoint_id, status, previous in locked:
        tried = by_endpoint[endpoint_id]
        failures = rules.consecutive_failures(previous, (a.outcome.ok for a in tried))
        if failures != previous:
            counts.append({"e_id": endpoint_id, "e_failures": failures})
        if status == ENABLED and rules.should_disable(failures, disable_after):
            disabled.append((endpoint_id, failures, tried[-1]))
    if counts:
        await session.execute(
            ENDPOINTS.update()
            .where(ENDPOINTS.c.id == bindparam("e_id"))
            .values(consecutive_failures=bindparam("e_failures")),
            counts,
        )
    for endpoint_id, failures, last in disabled:
        notice = rules.disable_notice(failures, last.outcome.status_code, last.outcome.error)
        now = datetime.now(UTC)
        await session.execute(
            ENDPOINTS.update()
            .where(ENDPOINTS.c.id == endpoint_id)
            .values(status=DISABLED, disabled_at=now, disabled_reason=notice, updated_at=now)
        )
        await _audit(session, SYSTEM, "webhook_endpoint.disabled", endpoint_id, {"reason": notice})
        _log.warning("webhook endpoint %s %s", endpoint_id, notice)
    if disabled:
        await _skip_pending(session, [d[0] for d in disabled])
    return [d[0] for d in disabled]


# ---- the worker ------------------------------------------------------------------------------------------------

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


RECORD_LINGER_S = 0.02


@dataclass(frozen=True)
class _Claimed:
    id: uuid.UUID
    endpoint_id: uuid.UUID
    body: str
    attempts: int
    url: str
    secrets: list[dict[str, Any]]
    endpoint_status: str


class WebhookWorker:
    """Delivers due messages until stopped: woken by NOTIFY at each enqueue's commit, polling as a fallback.

    A pipeline rather than batch-after-batch: the claimer tops up the deliveries in flight whenever there
    is room, and the recorder writes whatever attempts have ended in one transaction, again and again.
    So a slow receiver holds only its own connections, never a whole batch, and under load each
    transaction records many attempts. An endpoint has at most `2 * webhook_connections_per_host`
    messages in this worker: claims pass over endpoints that have that many, and hand back any claimed
    beyond it, so one receiver with a large backlog cannot fill the worker.
    """

    def __init__(
        self, database: Database, settings: PartnershipsSettings, *, sender: WebhookSender | None = None
    ) -> None:
        self.database = database
        self.settings = settings
        self.sender = sender or WebhookSender(settings)
        self._owns_sender = sender is None
        self.wakeup = asyncio.Event()
        self.delivered_total = 0  # benchmarks and tests watch these
        self.attempted_total = 0
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._in_flight: set[asyncio.Task[None]] = set()
        self._per_endpoint: dict[uuid.UUID, int] = {}
        self._ended: list[Attempt] = []
        self._attempts_ended = asyncio.Event()
        self._room = asyncio.Event()
        self.capacity = 2 * settings.webhook_batch_size
        self.endpoint_cap = 2 * settings.webhook_connections_per_host
        # A claimed message is this worker's until its attempt is recorded: long enough for it to wait behind
        # everything queued here for its origin (at worst all of `capacity`, a few connections at a time, each
        # timing out), short enough that a crashed worker's messages are tried again within minutes.
        rounds = math.ceil(self.capacity / settings.webhook_connections_per_host) + 1
        self.lease_s = rounds * (settings.webhook_timeout_s + DNS_TIMEOUT_S) + 30

    async def start(self) -> None:
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._listen(), name="partnerships-webhook-listener"),
            asyncio.create_task(self._claim_loop(), name="partnerships-webhook-claimer"),
            asyncio.create_task(self._record_loop(), name="partnerships-webhook-recorder"),
        ]

    async def stop(self) -> None:
        """Stop claiming, let the deliveries in flight end and record them, then stop."""
        self._stopping.set()
        self.wakeup.set()
        self._attempts_ended.set()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=self.settings.webhook_timeout_s + 10)
            for task in pending:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self._tasks = []
        for task in list(self._in_flight):  # only if recording could not finish in time
            task.cancel()
        if self._owns_sender:
            await self.sender.aclose()

    # -- claiming -------------------------------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        """Claim a batch whenever at most one batch is in flight: claims stay large under load, prompt when idle."""
        batch = self.settings.webhook_batch_size
        while not self._stopping.is_set():
            if len(self._in_flight) > self.capacity - batch:
                self._room.clear()
                await _first_of(self._room, self._stopping, timeout=self.settings.webhook_poll_s)
                continue
            self.wakeup.clear()  # before the claim: a NOTIFY during it starts the next one at once
            try:
                claimed = await self._claim(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("webhook claim failed; retrying shortly")
                claimed = 0
            if claimed < batch:
                await _first_of(self.wakeup, self._stopping, timeout=self.settings.webhook_poll_s)

    async def _claim(self, limit: int) -> int:
        """Claim up to `limit` due messages and start delivering them; how many were claimed."""
        saturated = [e for e, n in self._per_endpoint.items() if n >= self.endpoint_cap]
        async with self.database.unit_of_work() as uow:
            rows = [
                _Claimed(*row)
                for row in await uow.session.execute(
                    _CLAIM, {"limit": limit, "lease_s": self.lease_s, "saturated": saturated}
                )
            ]
            stale = [m.id for m in rows if m.endpoint_status != ENABLED]
            live, handed_back = [], []
            for message in (m for m in rows if m.endpoint_status == ENABLED):
                held = self._per_endpoint.get(message.endpoint_id, 0)
                if held >= self.endpoint_cap:
                    handed_back.append(message.id)
                else:
                    self._per_endpoint[message.endpoint_id] = held + 1
                    live.append(message)
            if stale:
                await uow.session.execute(
                    MESSAGES.update()
                    .where(MESSAGES.c.id.in_(stale), MESSAGES.c.status == "pending")
                    .values(status="skipped", next_attempt_at=None)
                )
            if handed_back:  # due again at once; the next claims pass over their endpoint while it is full
                await uow.session.execute(
                    MESSAGES.update().where(MESSAGES.c.id.in_(handed_back)).values(next_attempt_at=func.now())
                )
            await uow.commit()
        now = datetime.now(UTC)
        signing: dict[uuid.UUID, list[str]] = {}
        dns: dict[tuple[str, int], asyncio.Task[list[str]]] = {}  # one lookup per name per claim
        for message in live:
            if message.endpoint_id not in signing:
                signing[message.endpoint_id] = rules.signing_secrets(
                    rules.secrets_of(message.secrets, self.sender.box), now
                )
            task = asyncio.create_task(self._attempt(message, signing[message.endpoint_id], dns))
            self._in_flight.add(task)
        return len(rows)

    async def _attempt(
        self,
        message: _Claimed,
        signing: list[str],
        dns: dict[tuple[str, int], asyncio.Task[list[str]]],
    ) -> None:
        try:
            outcome = await self.sender.send(
                url=message.url, signing=signing, msg_id=str(message.id), body=message.body, dns=dns
            )
            scale = self.settings.webhook_backoff_scale
            delay = (
                None
                if outcome.ok
                else rules.next_delay(message.attempts + 1, scale=scale, retry_after=outcome.retry_after)
            )
            self._ended.append(
                Attempt(
                    message_id=message.id,
                    endpoint_id=message.endpoint_id,
                    outcome=outcome,
                    manual=False,
                    next_status="pending" if delay is not None else "failed",
                    retry_at=outcome.at + delay if delay is not None else None,
                )
            )
            self._attempts_ended.set()
        finally:
            self._per_endpoint[message.endpoint_id] -= 1
            if not self._per_endpoint[message.endpoint_id]:
                del self._per_endpoint[message.endpoint_id]
            current = asyncio.current_task()
            if current is not None:
                self._in_flight.discard(current)  # type: ignore[arg-type]
            if len(self._in_flight) <= self.capacity - self.settings.webhook_batch_size:
                self._room.set()

    # -- recording ------------------------------------------------------------------------------------------------

    async def _record_loop(self) -> None:
        """Record ended attempts, many per transaction under load; after a stop, until nothing is in flight."""
        while True:
            if not self._ended:
                if self._stopping.is_set() and not self._in_flight:
                    return
                self._attempts_ended.clear()
                await _first_of(self._attempts_ended, timeout=self.settings.webhook_poll_s)
                continue
            if self._in_flight and len(self._ended) < self.settings.webhook_batch_size:
                await asyncio.sleep(RECORD_LINGER_S)  # let a few more end: one transaction records them all
            ended, self._ended = self._ended, []
            try:
                async with self.database.unit_of_work() as uow:
                    await record_attempts(uow.session, ended, disable_after=self.settings.webhook_disable_after)
                    await uow.commit()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The messages keep their lease and are tried again when it ends (receivers deduplicate).
                _log.exception("recording %d webhook attempts failed", len(ended))
                await asyncio.sleep(min(self.settings.webhook_poll_s, 1.0))
                continue
            self.attempted_total += len(ended)
            self.delivered_total += sum(1 for a in ended if a.outcome.ok)

    # -- listening ------------------------------------------------------------------------------------------------

    async def _listen(self) -> None:
        """LISTEN on a connection of its own; reconnects after losing it (the poll covers the gap)."""
        dsn = libpq_dsn(self.settings.service_database_url())
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                conn: asyncpg.Connection = await asyncpg.connect(dsn, timeout=10)
            except Exception as exc:
                _log.warning("webhook listener cannot connect (%s); retrying in %.1f s", exc, backoff)
                await _first_of(self._stopping, timeout=backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.5
            try:
                await self._listen_on(conn)
            except Exception as exc:
                _log.warning("webhook listener lost its connection (%s)", exc)
            finally:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=5)

    async def _listen_on(self, conn: asyncpg.Connection) -> None:
        """Until stopped or the connection drops."""
        lost = asyncio.Event()
        await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self.wakeup.set())
        conn.add_termination_listener(lambda _conn: lost.set())
        self.wakeup.set()  # whatever was queued while nobody listened
        await _first_of(self._stopping, lost)


async def _first_of(*events: asyncio.Event, timeout: float | None = None) -> None:
    """Wait until any of `events` is set, or `timeout` seconds."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
