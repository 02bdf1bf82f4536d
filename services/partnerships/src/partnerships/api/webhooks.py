"""Webhook endpoints and their delivery log over HTTP; the lifespan hook that runs the delivery worker.

Buyers manage their organisation's endpoints, service clients (SLCP integrations, a labour inspectorate's
system) their own; staff see buyers' endpoints and their country's service endpoints, admins all. An
endpoint the caller may not see answers 404, as if it did not exist.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from betterwork_contracts.countries import is_country
from partnerships.domain.webhooks import SUBSCRIBABLE
from partnerships.service import deliveries
from partnerships.settings import PartnershipsSettings
from servicekit.auth import Principal, Role, require
from servicekit.database import database_of
from servicekit.errors import PROBLEM_RESPONSES
from servicekit.pagination import Page, PageQuery

router = APIRouter(tags=["webhooks"], responses=PROBLEM_RESPONSES)

Subscriber = Annotated[Principal, Depends(require(Role.BUYER, Role.SERVICE, Role.STAFF))]
EventType = Literal["alert.raised", "*"]
assert set(EventType.__args__) == set(SUBSCRIBABLE), "EventType must list domain.webhooks.SUBSCRIBABLE"  # type: ignore[attr-defined]
EndpointStatus = Literal["enabled", "disabled"]
MessageStatus = Literal["pending", "delivered", "failed", "skipped"]


def _settings(request: Request) -> PartnershipsSettings:
    settings: PartnershipsSettings = request.app.state.settings
    return settings


# ---- models ----------------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EndpointIn(_Strict):
    url: str = Field(
        min_length=8, max_length=2000, description="HTTPS URL on a public address (checked, also when resolved)."
    )
    event_types: list[EventType] = Field(min_length=1, max_length=20, description='Event types, or "*" for all.')
    description: str | None = Field(default=None, max_length=500)
    country: str | None = Field(
        default=None, description="Service clients: ISO 3166-1 alpha-2 of the country whose alerts it takes."
    )
    party: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]{1,63}$",
        description="Service clients: the zero-tolerance protocol party it is, e.g. `ministry_of_labour`.",
    )

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is not None and not is_country(value.upper()):
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return value.upper() if value else None


class EndpointPatch(_Strict):
    url: str | None = Field(default=None, min_length=8, max_length=2000)
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = Field(
        default=None, description="true: deliver again (clears the failure count); false: stop delivering."
    )


class SecretInfo(BaseModel):
    created_at: datetime
    expires_at: datetime | None = Field(description="Set on a rotated-out secret: it signs until then.")


class EndpointOut(BaseModel):
    id: uuid.UUID
    url: str
    description: str | None
    event_types: list[str]
    owner_type: Literal["buyer", "service"]
    owner_id: str = Field(description="Buyer id, or the service client's token subject.")
    country: str | None
    party: str | None
    status: EndpointStatus
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str | None = Field(description="Why it stopped receiving, for its owner.")
    signing_secrets: list[SecretInfo] = Field(description="Live secrets (values are shown only when created).")
    created_at: datetime
    created_by: str
    updated_at: datetime


class EndpointWithSecret(EndpointOut):
    secret: str = Field(
        description="Signing secret (`whsec_...`), shown this once: verify deliveries with any Standard Webhooks "
        "library."
    )


class RotateIn(_Strict):
    overlap_hours: float | None = Field(
        default=None, ge=0, le=168, description="How long old secrets keep signing (default 24; 0 after a leak)."
    )


class AttemptOut(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status; none if it never answered.")
    latency_ms: float | None
    error: str | None
    manual: bool


class MessageOut(BaseModel):
    id: uuid.UUID = Field(description="The `webhook-id` header: the same on every attempt.")
    endpoint_id: uuid.UUID
    event_type: str
    body: str = Field(description="The exact JSON body signed and sent.")
    status: MessageStatus
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    attempt_log: list[AttemptOut] = Field(default_factory=list)


class Redelivery(BaseModel):
    message: MessageOut
    attempt: AttemptOut


def _endpoint(row: dict[str, Any]) -> EndpointOut:
    return EndpointOut.model_validate(row)


# ---- routes ----------------------------------------------------------------------------------------------------


@router.post("/v1/webhook-endpoints", status_code=201, summary="Register a webhook endpoint")
async def create_webhook_endpoint(
    body: EndpointIn, request: Request, response: Response, principal: Subscriber
) -> EndpointWithSecret:
    """Deliveries are signed per Standard Webhooks with the returned secret, which is not shown again."""
    async with database_of(request).unit_of_work() as uow:
        endpoint, secret = await deliveries.register_endpoint(
            uow,
            principal=principal,
            settings=_settings(request),
            url=body.url,
            event_types=body.event_types,
            description=body.description,
            country=body.country,
            party=body.party,
        )
    response.headers["Location"] = f"/v1/webhook-endpoints/{endpoint['id']}"
    return EndpointWithSecret.model_validate(endpoint | {"secret": secret})


@router.get("/v1/webhook-endpoints", summary="Webhook endpoints the caller may see (newest first)")
async def list_webhook_endpoints(
    request: Request, principal: Subscriber, page: PageQuery, status: EndpointStatus | None = None
) -> Page[EndpointOut]:
    async with database_of(request).unit_of_work() as uow:
        rows, cursor = await deliveries.list_endpoints(uow, principal=principal, page=page, status=status)
    return Page[EndpointOut](items=[_endpoint(r) for r in rows], next_cursor=cursor)


@router.get("/v1/webhook-endpoints/{endpoint_id}", summary="One webhook endpoint")
async def get_webhook_endpoint(endpoint_id: uuid.UUID, request: Request, principal: Subscriber) -> EndpointOut:
    async with database_of(request).unit_of_work() as uow:
        return _endpoint(await deliveries.get_endpoint(uow, principal=principal, endpoint_id=endpoint_id))


@router.patch("/v1/webhook-endpoints/{endpoint_id}", summary="Change, disable or enable again a webhook endpoint")
async def update_webhook_endpoint(
    endpoint_id: uuid.UUID, body: EndpointPatch, request: Request, principal: Subscriber
) -> EndpointOut:
    """Enabling a disabled endpoint does not resend what it missed: redeliver those messages by hand."""
    async with database_of(request).unit_of_work() as uow:
        row = await deliveries.update_endpoint(
            uow,
            principal=principal,
            settings=_settings(request),
            endpoint_id=endpoint_id,
            changes=body.model_dump(exclude_unset=True),
        )
    return _endpoint(row)


@router.delete("/v1/webhook-endpoints/{endpoint_id}", status_code=204, summary="Delete a webhook endpoint")
async def delete_webhook_endpoint(endpoint_id: uuid.UUID, request: Request, principal: Subscriber) -> Response:
    """Deliveries stop and the secrets are erased; the delivery log is kept for the audit trail."""
    async with database_of(request).unit_of_work() as uow:
        await deliveries.delete_endpoint(uow, principal=principal, endpoint_id=endpoint_id)
    return Response(status_code=204)


@router.post("/v1/webhook-endpoints/{endpoint_id}/rotate-secret", summary="Rotate a webhook endpoint's secret")
async def rotate_webhook_secret(
    endpoint_id: uuid.UUID,
    request: Request,
    principal: Subscriber,
    body: Annotated[RotateIn | None, Body()] = None,
) -> EndpointWithSecret:
    """The new secret is shown once; during the overlap every delivery carries a signature for each secret."""
    async with database_of(request).unit_of_work() as uow:
        endpoint, secret = await deliveries.rotate_secret(
            uow,
            principal=principal,
            settings=_settings(request),
            endpoint_id=endpoint_id,
            overlap_hours=body.overlap_hours if body else None,
        )
    return EndpointWithSecret.model_validate(endpoint | {"secret": secret})


@router.get("/v1/webhook-endpoints/{endpoint_id}/messages", summary="Messages of an endpoint with every attempt")
async def list_webhook_messages(
    endpoint_id: uuid.UUID,
    request: Request,
    principal: Subscriber,
    page: PageQuery,
    status: Annotated[MessageStatus | None, Query()] = None,
) -> Page[MessageOut]:
    async with database_of(request).unit_of_work() as uow:
        rows, cursor = await deliveries.list_messages(
            uow, principal=principal, endpoint_id=endpoint_id, page=page, status=status
        )
    return Page[MessageOut](items=[MessageOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.post("/v1/webhook-messages/{message_id}/redeliver", summary="Send a message again now")
async def redeliver_webhook_message(message_id: uuid.UUID, request: Request, principal: Subscriber) -> Redelivery:
    """One attempt at once, whatever the message's status, logged as manual; the answer says how it went."""
    async with _sender(request) as sender:
        result = await deliveries.redeliver(
            database_of(request), principal=principal, sender=sender, message_id=message_id
        )
    return Redelivery(message=MessageOut.model_validate(result["message"]), attempt=AttemptOut(**result["attempt"]))


@contextlib.asynccontextmanager
async def _sender(request: Request) -> AsyncIterator[deliveries.WebhookSender]:
    """The worker's pooled client when this process runs one; otherwise one for this request."""
    shared: deliveries.WebhookSender | None = getattr(request.app.state, "webhook_sender", None)
    if shared is not None:
        yield shared
        return
    sender = deliveries.WebhookSender(_settings(request))
    try:
        yield sender
    finally:
        await sender.aclose()


@contextlib.asynccontextmanager
async def webhook_worker(app: FastAPI) -> AsyncIterator[None]:
    """Lifespan hook: the HTTP client deliveries share, and the worker (unless `webhook_worker_enabled` is off)."""
    settings: PartnershipsSettings = app.state.settings
    sender = deliveries.WebhookSender(settings)
    app.state.webhook_sender = sender
    worker = None
    try:
        if settings.webhook_worker_enabled:
            worker = deliveries.WebhookWorker(app.state.database, settings, sender=sender)
            app.state.webhook_worker = worker
            await worker.start()
        yield
    finally:
        if worker is not None:
            await worker.stop()
        await sender.aclose()
        app.state.webhook_sender = None
        app.state.webhook_worker = None
