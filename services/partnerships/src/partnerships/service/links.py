"""Use cases of sourcing links: declared by one side, confirmed by the other (or staff), ended by either."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from betterwork_contracts.events.partnerships import SourcingLinkChanged
from partnerships.adapters.buyers import BuyerRepository
from partnerships.adapters.links import LinkRepository
from partnerships.domain import relationships as rules
from partnerships.domain.relationships import RuleError, Side, SourcingLink
from partnerships.service.factories import check_not_merged, country_of, visible_factory
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, NotFound
from servicekit.pagination import PageParams


def _side(principal: Principal, buyer_id: uuid.UUID, factory_id: uuid.UUID, factory_country: str) -> Side:
    """Which side the caller speaks for on this link; anyone else may not touch it."""
    if principal.organisation(Role.BUYER) == buyer_id:
        return Side.BUYER
    if principal.organisation(Role.FACTORY) == factory_id:
        return Side.FACTORY
    if principal.is_admin or principal.staff_country == factory_country:
        return Side.STAFF
    raise NotFound("No such sourcing link.")


def _changed(link: SourcingLink, now: datetime) -> SourcingLinkChanged:
    return SourcingLinkChanged.model_validate(
        {
            "link_id": link.id,
            "buyer_id": link.buyer_id,
            "factory_id": link.factory_id,
            "status": link.status.value,
            "start_date": link.start_date,
            "end_date": link.end_date,
            "changed_at": now,
        }
    )


async def declare_link(
    uow: UnitOfWork, *, principal: Principal, buyer_id: uuid.UUID, factory_id: uuid.UUID, start_date: date | None
) -> SourcingLink:
    """A link declared by the buyer or the factory; staff's own are confirmed at once. One open link per pair."""
    found = await visible_factory(uow, principal, factory_id)
    side = _side(principal, buyer_id, factory_id, found.country)
    check_not_merged(found)
    if not await BuyerRepository(uow.session).exists(buyer_id):
        raise NotFound(f"No buyer {buyer_id}.")
    links = LinkRepository(uow.session)
    now = datetime.now(UTC)
    link = rules.declare(
        link_id=uuid.uuid4(), buyer_id=buyer_id, factory_id=factory_id, side=side, subject=principal.subject,
        start_date=start_date, now=now,
    )  # fmt: skip
    existing = await links.open_between(buyer_id, factory_id)
    if existing is not None:
        raise Conflict(
            f"Buyer {buyer_id} and factory {factory_id} already have link {existing}.", link_id=str(existing)
        )
    await links.add(link)
    await links.record(
        principal, action=f"sourcing_link.{link.status.value}", entity_type="sourcing_link", entity_id=link.id
    )
    uow.emit(_changed(link, now))
    await uow.commit()
    return link


async def _load(uow: UnitOfWork, principal: Principal, link_id: uuid.UUID) -> tuple[LinkRepository, SourcingLink, Side]:
    links = LinkRepository(uow.session)
    link = await links.load(link_id, for_update=True)
    if link is None:
        raise NotFound(f"No sourcing link {link_id}.")
    try:
        side = _side(principal, link.buyer_id, link.factory_id, await country_of(uow, link.factory_id))
    except NotFound:
        raise NotFound(f"No sourcing link {link_id}.") from None
    return links, link, side


async def _save(
    uow: UnitOfWork, links: LinkRepository, principal: Principal, link: SourcingLink, now: datetime
) -> None:
    await links.save(link)
    await links.record(
        principal, action=f"sourcing_link.{link.status.value}", entity_type="sourcing_link", entity_id=link.id
    )
    uow.emit(_changed(link, now))
    await uow.commit()


async def confirm_link(uow: UnitOfWork, *, principal: Principal, link_id: uuid.UUID) -> SourcingLink:
    """Confirmed by the other side or staff; nobody confirms their own declaration."""
    links, link, side = await _load(uow, principal, link_id)
    now = datetime.now(UTC)
    try:
        confirmed = rules.confirm(link, side, principal.subject, now)
    except RuleError as exc:
        raise Conflict(str(exc)) from exc
    await _save(uow, links, principal, confirmed, now)
    return confirmed


async def end_link(uow: UnitOfWork, *, principal: Principal, link_id: uuid.UUID, end_date: date) -> SourcingLink:
    links, link, _ = await _load(uow, principal, link_id)
    now = datetime.now(UTC)
    try:
        ended = rules.end(link, end_date, now)
    except RuleError as exc:
        raise Conflict(str(exc)) from exc
    await _save(uow, links, principal, ended, now)
    return ended


async def list_links(
    uow: UnitOfWork,
    *,
    principal: Principal,
    buyer_id: uuid.UUID | None,
    factory_id: uuid.UUID | None,
    status: str | None,
    page: PageParams,
) -> tuple[list[SourcingLink], str | None]:
    return await LinkRepository(uow.session).page(
        principal, page, buyer_id=buyer_id, factory_id=factory_id, status=status
    )
