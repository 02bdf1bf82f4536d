"""Use cases of webhook endpoints: register, read, change, delete, rotate the secret; read the delivery log and
redeliver a message by hand.

Buyers manage their organisation's endpoints, service clients (SLCP integrations, a labour inspectorate's
system) their own; staff see the endpoints of their country's service clients and of the buyers their
programme manages (the buyer's home country), admins all. An endpoint
the caller may not see answers 404, as if it did not exist. Endpoints are never hard-deleted: deleting one
erases its secrets and hides it, and keeps its delivery log, which an auditor reads when a subscriber says it
was never told.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from partnerships.adapters import delivery_queue
from partnerships.adapters.endpoints import EndpointRepository, buyer_of
from partnerships.adapters.secret_box import secret_box
from partnerships.adapters.webhook_sender import Resolver, WebhookSender, check_target
from partnerships.domain import endpoints as states
from partnerships.domain import webhooks as rules
from partnerships.domain.deliveries import Attempt, LoggedAttempt, Message
from partnerships.domain.endpoints import BUYER_OWNER, ENABLED, SERVICE_OWNER, Endpoint
from partnerships.service.attempts import record_attempts
from partnerships.settings import PartnershipsSettings
from servicekit.auth import Principal, Role
from servicekit.database import Database, UnitOfWork
from servicekit.errors import Conflict, Forbidden, NotFound, Problem, Unprocessable
from servicekit.pagination import PageParams


class WebhookUrlRefused(Problem):
    """422: the URL is not one this deployment delivers to (scheme, private address, does not resolve)."""

    status = 422
    slug = "webhook-url-refused"


async def checked_url(url: str, settings: PartnershipsSettings, resolver: Resolver | None = None) -> str:
    try:
        await check_target(
            url,
            allow_private=settings.webhook_allow_private_targets,
            resolver=resolver,
            ports=settings.webhook_allowed_ports,
        )
    except rules.TargetRefused as exc:
        raise WebhookUrlRefused(
            str(exc), title="Webhook URL refused", errors=[{"pointer": "#/body/url", "detail": str(exc)}]
        ) from exc
    return url.strip()


def check_receivable(event_types: Sequence[str], owner_type: str) -> None:
    """422 naming each event type an owner of this kind can never be sent (a buyer is never a protocol party, a
    service client never a buyer with report access), so nobody subscribes to silence."""
    refused = rules.never_received(event_types, owner_type)
    if refused:
        who = "a buyer" if owner_type == BUYER_OWNER else "a service client"
        raise Unprocessable(
            f"{', '.join(refused)}: never sent to {who}'s endpoint.",
            title="Event type not receivable",
            errors=[
                {"pointer": "#/body/event_types", "detail": f"{event_type} is never sent to {who}'s endpoint"}
                for event_type in refused
            ],
        )


def _owns(principal: Principal, endpoint: Endpoint) -> bool:
    if endpoint.owner_type == BUYER_OWNER:
        return buyer_of(principal) == endpoint.owner_id
    return Role.SERVICE in principal.roles and principal.subject == endpoint.owner_id


def _check_owner(principal: Principal, endpoint: Endpoint, what: str) -> None:
    """Where alerts go and the secret that proves them are the owner's business (and an admin's)."""
    if not (_owns(principal, endpoint) or principal.is_admin):
        raise Forbidden(f"Only the endpoint's owner may {what}.")


async def _visible(
    endpoints: EndpointRepository, principal: Principal, endpoint_id: uuid.UUID, *, lock: bool = False
) -> Endpoint:
    """The endpoint if the caller may see it; otherwise 404, so ids of other owners' endpoints do not leak."""
    endpoint = await endpoints.visible(principal, endpoint_id, lock=lock)
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {endpoint_id}.")
    return endpoint


def receive_scope(party: str, country: str) -> str:
    """The token scope that lets a service client receive a protocol party's alerts in a country."""
    return f"zt:receive:{party}:{country.upper()}"


def _owner(principal: Principal, country: str | None, party: str | None) -> tuple[str, str, str | None]:
    """(owner type, owner id, country) of a new endpoint: a buyer's (its organisation's), or a service client's
    for one protocol party of one country, which its token's scopes must cover."""
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
        if not principal.is_admin and not principal.has_scopes(receive_scope(party, country)):
            raise Forbidden(f"The token lacks the scope {receive_scope(party, country)}.")
        return SERVICE_OWNER, principal.subject, country
    if Role.BUYER in principal.roles:
        buyer = buyer_of(principal)
        if buyer is None:
            raise Forbidden("The token names no buyer organisation.")
        return BUYER_OWNER, buyer, country
    raise Forbidden(
        "Endpoints are registered by the buyer or service client that receives them "
        "(service clients give `party` and `country`)."
    )


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
) -> tuple[Endpoint, str]:
    """A buyer's endpoint, or a service client's; returns it and its signing secret, shown this once only."""
    owner_type, owner_id, country = _owner(principal, country, party)
    check_receivable(event_types, owner_type)
    url = await checked_url(url, settings, resolver)
    endpoints = EndpointRepository(uow.session)
    held = await endpoints.count_live(owner_type, owner_id)  # counted under a lock per owner
    if held >= settings.webhook_endpoints_per_owner:
        raise Conflict(
            f"This owner already has {held} webhook endpoints, the most allowed; delete one first.",
            limit=settings.webhook_endpoints_per_owner,
        )
    now = datetime.now(UTC)
    signing, secret = rules.first_secret(now)
    endpoint = states.new_endpoint(
        owner_type=owner_type, owner_id=owner_id, country=country, party=party, url=url, description=description,
        event_types=event_types, secrets=[s.to_json(secret_box(settings)) for s in signing],
        subject=principal.subject, now=now,
    )  # fmt: skip
    await endpoints.add(endpoint)
    await endpoints.audit(principal, "webhook_endpoint.registered", endpoint.id, {"url": url}, endpoint.country)
    await uow.commit()
    return endpoint, secret


async def list_endpoints(
    uow: UnitOfWork, *, principal: Principal, page: PageParams, status: str | None = None
) -> tuple[list[Endpoint], str | None]:
    return await EndpointRepository(uow.session).page(principal, page, status=status)


async def get_endpoint(uow: UnitOfWork, *, principal: Principal, endpoint_id: uuid.UUID) -> Endpoint:
    return await _visible(EndpointRepository(uow.session), principal, endpoint_id)


async def update_endpoint(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: PartnershipsSettings,
    endpoint_id: uuid.UUID,
    changes: Mapping[str, Any],
    resolver: Resolver | None = None,
) -> Endpoint:
    """Change url, event types, description; `enabled` switches delivery on (clearing the failure run) or off.

    Staff may switch an endpoint on or off and describe it; where it points is up to its owner.
    """
    endpoints = EndpointRepository(uow.session)
    endpoint = await _visible(endpoints, principal, endpoint_id, lock=True)
    if changes.keys() - {"enabled", "description"}:
        _check_owner(principal, endpoint, "change where its webhooks go")
    elif not (_owns(principal, endpoint) or principal.has_any_role(Role.STAFF)):
        raise Forbidden("Only the endpoint's owner or programme staff may change it.")
    now = datetime.now(UTC)
    changed = replace(endpoint, updated_at=now)
    if "url" in changes:
        changed = replace(changed, url=await checked_url(changes["url"], settings, resolver))
    if "event_types" in changes:
        check_receivable(changes["event_types"], endpoint.owner_type)
        changed = replace(changed, event_types=sorted(set(changes["event_types"])))
    if "description" in changes:
        changed = replace(changed, description=changes["description"])
    enabled = changes.get("enabled")
    if enabled is True:
        changed = states.enabled(changed, now)
    elif enabled is False and endpoint.status == ENABLED:
        changed = states.disabled(changed, f"disabled by {principal.subject}", now)
        await delivery_queue.skip_pending(uow.session, [endpoint_id])
    await endpoints.save(changed)
    details = {k: v for k, v in changes.items() if k != "description"}
    await endpoints.audit(principal, "webhook_endpoint.changed", endpoint_id, details, endpoint.country)
    await uow.commit()
    return changed


async def grant_party(uow: UnitOfWork, *, principal: Principal, endpoint_id: uuid.UUID, party: str) -> Endpoint:
    """Staff of the endpoint's country make a service client's endpoint the receiver of a protocol party.

    The service client cannot grant it to itself; whoever else may not see the endpoint gets 404.
    """
    endpoints = EndpointRepository(uow.session)
    endpoint = await _visible(endpoints, principal, endpoint_id, lock=True)
    if not (principal.is_admin or (endpoint.country is not None and principal.is_staff_of(endpoint.country))):
        if _owns(principal, endpoint) or Role.STAFF in principal.roles:
            raise Forbidden(f"Only staff of {endpoint.country or 'its country'} grant an endpoint its party.")
        raise NotFound(f"No webhook endpoint {endpoint_id}.")
    if endpoint.owner_type != SERVICE_OWNER:
        raise Conflict("Only service clients' endpoints receive alerts by protocol party.")
    granted = states.party_granted(endpoint, party, principal.subject, datetime.now(UTC))
    await endpoints.save(granted)
    await endpoints.audit(
        principal,
        "webhook_endpoint.party_granted",
        endpoint_id,
        {"party": party, "previous": endpoint.party},
        endpoint.country,
    )
    await uow.commit()
    return granted


async def delete_endpoint(uow: UnitOfWork, *, principal: Principal, endpoint_id: uuid.UUID) -> None:
    """Stop delivering, erase the secrets and hide the endpoint; its delivery log stays for the record.

    Not a hard delete: messages and attempts refer to the endpoint, and a batch in flight may still
    report on it; the log is also what an auditor looks at when a subscriber says it was never told.
    """
    endpoints = EndpointRepository(uow.session)
    endpoint = await _visible(endpoints, principal, endpoint_id, lock=True)
    _check_owner(principal, endpoint, "delete it")
    await endpoints.save(states.deleted(endpoint, principal.subject, datetime.now(UTC)))
    await delivery_queue.skip_pending(uow.session, [endpoint_id])
    await endpoints.audit(principal, "webhook_endpoint.deleted", endpoint_id, {"url": endpoint.url}, endpoint.country)
    await uow.commit()


async def rotate_secret(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: PartnershipsSettings,
    endpoint_id: uuid.UUID,
    overlap_hours: float | None = None,
) -> tuple[Endpoint, str]:
    """A new secret, shown once; the old ones keep signing beside it for the overlap (0: retire them now)."""
    endpoints = EndpointRepository(uow.session)
    endpoint = await _visible(endpoints, principal, endpoint_id, lock=True)
    _check_owner(principal, endpoint, "rotate its secret")
    now = datetime.now(UTC)
    overlap = timedelta(hours=settings.webhook_secret_overlap_h if overlap_hours is None else overlap_hours)
    box = secret_box(settings)
    signing, secret = rules.rotate(rules.secrets_of(endpoint.secrets, box), now=now, overlap=overlap)
    rotated = replace(endpoint, secrets=[s.to_json(box) for s in signing], updated_at=now)
    await endpoints.save(rotated)
    details = {"overlap_hours": overlap.total_seconds() / 3600}
    await endpoints.audit(principal, "webhook_endpoint.secret_rotated", endpoint_id, details, endpoint.country)
    await uow.commit()
    return rotated, secret


async def list_messages(
    uow: UnitOfWork,
    *,
    principal: Principal,
    endpoint_id: uuid.UUID,
    page: PageParams,
    status: str | None = None,
) -> tuple[list[Message], str | None]:
    """The endpoint's messages, newest first, each with every attempt (status code, latency, error, manual)."""
    await _visible(EndpointRepository(uow.session), principal, endpoint_id)
    return await delivery_queue.page(uow.session, endpoint_id, page, status=status)


@dataclass(frozen=True)
class Redelivered:
    message: Message
    attempt: LoggedAttempt


async def redeliver(
    database: Database, *, principal: Principal, sender: WebhookSender, message_id: uuid.UUID
) -> Redelivered:
    """Send a message again now, whatever became of it (delivered, failed, skipped), and log it as manual.

    The attempt runs outside any transaction (a receiver may take seconds); it then counts like any other:
    a success marks the message delivered and clears the endpoint's failure run. A failure leaves a message
    as it was (a pending one keeps its schedule).
    """
    async with database.unit_of_work() as uow:
        message = await delivery_queue.load(uow.session, message_id)
        endpoint = None
        if message is not None:
            endpoint = await EndpointRepository(uow.session).visible(principal, message.endpoint_id)
    if message is None or endpoint is None:
        raise NotFound(f"No webhook message {message_id}.")
    if endpoint.status != ENABLED:
        raise Conflict(
            "The endpoint is disabled: enable it (PATCH with enabled=true) before redelivering.",
            endpoint_status=endpoint.status,
        )
    outcome = await sender.send(
        url=endpoint.url,
        signing=rules.signing_secrets(rules.secrets_of(endpoint.secrets, sender.box), datetime.now(UTC)),
        msg_id=str(message_id),
        body=message.body,
    )
    attempt = Attempt(message_id, endpoint.id, outcome, manual=True, next_status=message.status, retry_at=None)
    async with database.unit_of_work() as uow:
        await record_attempts(uow.session, [attempt], disable_after=sender.settings.webhook_disable_after)
        details = {"message_id": str(message_id), "status_code": outcome.status_code, "error": outcome.error}
        await EndpointRepository(uow.session).audit(
            principal, "webhook_message.redelivered", endpoint.id, details, endpoint.country
        )
        await uow.commit()
        after = await delivery_queue.load(uow.session, message_id)
        assert after is not None
        return Redelivered(after, await delivery_queue.last_attempt(uow.session, message_id))
