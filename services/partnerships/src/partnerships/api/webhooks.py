"""Webhook endpoints and their delivery log over HTTP.

Buyers manage their organisation's endpoints, service clients (SLCP integrations, a labour inspectorate's
system) their own; staff see their country's service endpoints and those of the buyers their programme
manages (the buyer's `home_country`), admins all. An endpoint the caller may not see answers 404, as if it did
not exist (deleting another programme's endpoint too).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from partnerships.adapters.webhook_sender import WebhookSender
from partnerships.api.webhook_models import (
    AttemptOut,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointStatus,
    EndpointWithSecret,
    MessageOut,
    MessageStatus,
    PartyGrantIn,
    Redelivery,
    RotateIn,
)
from partnerships.domain.endpoints import Endpoint
from partnerships.service import endpoints
from partnerships.settings import PartnershipsSettings
from servicekit.auth import Principal, Role
from servicekit.edge import DatabaseDep, StaffPrincipal, UnitOfWorkDep, principal_with_scope, settings_of
from servicekit.errors import PROBLEM_RESPONSES
from servicekit.limits import per_client_rate_limit
from servicekit.pagination import Page, PageQuery

router = APIRouter(tags=["webhooks"], responses=PROBLEM_RESPONSES)

# Service clients act here only through a `zt:receive:<party>:<country>` scope in their token.
Subscriber = Annotated[
    Principal, principal_with_scope(Role.BUYER, Role.SERVICE, Role.STAFF, service_scope="zt:receive:*")
]


def _endpoint(endpoint: Endpoint) -> EndpointOut:
    return EndpointOut.model_validate(endpoint, from_attributes=True)


def _with_secret(endpoint: Endpoint, secret: str) -> EndpointWithSecret:
    return EndpointWithSecret.model_validate(
        {**asdict(endpoint), "signing_secrets": endpoint.signing_secrets, "secret": secret}
    )


@router.post("/v1/webhook-endpoints", status_code=201, summary="Register a webhook endpoint")
async def create_webhook_endpoint(
    body: EndpointIn, request: Request, response: Response, uow: UnitOfWorkDep, principal: Subscriber
) -> EndpointWithSecret:
    """Deliveries are signed per Standard Webhooks with the returned secret, which is not shown again."""
    endpoint, secret = await endpoints.register_endpoint(
        uow,
        principal=principal,
        settings=settings_of(request, PartnershipsSettings),
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        country=body.country,
        party=body.party,
    )
    response.headers["Location"] = f"/v1/webhook-endpoints/{endpoint.id}"
    return _with_secret(endpoint, secret)


@router.get("/v1/webhook-endpoints", summary="Webhook endpoints the caller may see (newest first)")
async def list_webhook_endpoints(
    uow: UnitOfWorkDep, principal: Subscriber, page: PageQuery, status: EndpointStatus | None = None
) -> Page[EndpointOut]:
    found, cursor = await endpoints.list_endpoints(uow, principal=principal, page=page, status=status)
    return Page[EndpointOut](items=[_endpoint(e) for e in found], next_cursor=cursor)


@router.get("/v1/webhook-endpoints/{endpoint_id}", summary="One webhook endpoint")
async def get_webhook_endpoint(endpoint_id: uuid.UUID, uow: UnitOfWorkDep, principal: Subscriber) -> EndpointOut:
    return _endpoint(await endpoints.get_endpoint(uow, principal=principal, endpoint_id=endpoint_id))


@router.patch("/v1/webhook-endpoints/{endpoint_id}", summary="Change, disable or enable again a webhook endpoint")
async def update_webhook_endpoint(
    endpoint_id: uuid.UUID, body: EndpointPatch, request: Request, uow: UnitOfWorkDep, principal: Subscriber
) -> EndpointOut:
    """Enabling a disabled endpoint does not resend what it missed: redeliver those messages by hand."""
    endpoint = await endpoints.update_endpoint(
        uow,
        principal=principal,
        settings=settings_of(request, PartnershipsSettings),
        endpoint_id=endpoint_id,
        changes=body.model_dump(exclude_unset=True),
    )
    return _endpoint(endpoint)


@router.post(
    "/v1/webhook-endpoints/{endpoint_id}/party-grant", summary="Grant a service client's endpoint its protocol party"
)
async def grant_webhook_party(
    endpoint_id: uuid.UUID, body: PartyGrantIn, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> EndpointOut:
    """Staff of the endpoint's country decide which protocol party (ministry, union, ...) it receives alerts
    for; until then it receives none by party. Replaces an earlier grant."""
    return _endpoint(await endpoints.grant_party(uow, principal=staff, endpoint_id=endpoint_id, party=body.party))


@router.delete("/v1/webhook-endpoints/{endpoint_id}", status_code=204, summary="Delete a webhook endpoint")
async def delete_webhook_endpoint(endpoint_id: uuid.UUID, uow: UnitOfWorkDep, principal: Subscriber) -> Response:
    """Deliveries stop and the secrets are erased; the delivery log is kept for the audit trail."""
    await endpoints.delete_endpoint(uow, principal=principal, endpoint_id=endpoint_id)
    return Response(status_code=204)


@router.post("/v1/webhook-endpoints/{endpoint_id}/rotate-secret", summary="Rotate a webhook endpoint's secret")
async def rotate_webhook_secret(
    endpoint_id: uuid.UUID,
    request: Request,
    uow: UnitOfWorkDep,
    principal: Subscriber,
    body: Annotated[RotateIn | None, Body()] = None,
) -> EndpointWithSecret:
    """The new secret is shown once; during the overlap every delivery carries a signature for each secret."""
    endpoint, secret = await endpoints.rotate_secret(
        uow,
        principal=principal,
        settings=settings_of(request, PartnershipsSettings),
        endpoint_id=endpoint_id,
        overlap_hours=body.overlap_hours if body else None,
    )
    return _with_secret(endpoint, secret)


@router.get("/v1/webhook-endpoints/{endpoint_id}/messages", summary="Messages of an endpoint with every attempt")
async def list_webhook_messages(
    endpoint_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: Subscriber,
    page: PageQuery,
    status: Annotated[MessageStatus | None, Query()] = None,
) -> Page[MessageOut]:
    found, cursor = await endpoints.list_messages(
        uow, principal=principal, endpoint_id=endpoint_id, page=page, status=status
    )
    items = [MessageOut.model_validate(m, from_attributes=True) for m in found]
    return Page[MessageOut](items=items, next_cursor=cursor)


@router.post(
    "/v1/webhook-messages/{message_id}/redeliver",
    summary="Send a message again now",
    dependencies=[Depends(per_client_rate_limit("webhook redelivery", "redelivery_rate_limit"))],
)
async def redeliver_webhook_message(
    message_id: uuid.UUID, request: Request, database: DatabaseDep, principal: Subscriber
) -> Redelivery:
    """One attempt at once, whatever the message's status, logged as manual; the answer says how it went."""
    async with _sender(request) as sender:
        result = await endpoints.redeliver(database, principal=principal, sender=sender, message_id=message_id)
    return Redelivery(
        message=MessageOut.model_validate(result.message, from_attributes=True),
        attempt=AttemptOut.model_validate(result.attempt, from_attributes=True),
    )


@contextlib.asynccontextmanager
async def _sender(request: Request) -> AsyncIterator[WebhookSender]:
    """The worker's pooled client when this process runs one; otherwise one for this request."""
    shared: WebhookSender | None = getattr(request.app.state, "webhook_sender", None)
    if shared is not None:
        yield shared
        return
    sender = WebhookSender(settings_of(request, PartnershipsSettings))
    try:
        yield sender
    finally:
        await sender.aclose()
