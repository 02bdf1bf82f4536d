"""What invoicing does with other services' events: keep its copies of factories and buyers, draft the
service package invoice of a factory the registry enrols where the country charges per cycle (finance staff
review and issue it), and move a merged factory's invoicing to the survivor."""

from __future__ import annotations

import logging
from typing import Any

from betterwork_contracts.events.assessments import AssessmentCyclesRenumbered
from betterwork_contracts.events.partnerships import BuyerRegistered
from betterwork_contracts.events.registry import FactoryMerged, FactoryRegistered, FactoryStatusChanged, FactoryUpdated
from invoicing.adapters import factory_merges, price_lists, references
from invoicing.adapters import invoices as invoice_repo
from invoicing.adapters.references import FACTORIES
from invoicing.adapters.tables import SCHEMA
from invoicing.domain import invoice as rules
from invoicing.domain.assessment_charges import ChargeBasis, charge_basis
from invoicing.domain.invoice import CustomerKind, Party, Purpose
from invoicing.domain.issuers import issuer_for
from invoicing.domain.pricing import PricingError, Service, price
from invoicing.domain.service_packages import next_package_cycle, redundant_package_drafts, waiting_package_draft
from invoicing.service.country_pack import payment_terms_for
from invoicing.service.invoices import today
from invoicing.service.issuing import now
from messaging.envelope import Envelope
from messaging.read_model import Apply
from servicekit.audit import record_audit
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork

_log = logging.getLogger("invoicing.references")
REGISTRY_EVENTS = Principal(subject="invoicing:registry-events", roles=frozenset({Role.SERVICE}))
ASSESSMENT_EVENTS = Principal(subject="invoicing:assessment-events", roles=frozenset({Role.SERVICE}))
_PROFILE_FIELDS = ("address", "group_name", "group_id")


async def factory_registered(uow: UnitOfWork, event: FactoryRegistered, envelope: Envelope) -> None:
    profile = event.profile
    await FACTORIES.register(
        uow.session,
        event.factory_id,
        event.version,
        {
            "name": event.name,
            "country": event.country,
            "address": profile.address if profile else None,
            "group_name": profile.group_name if profile else None,
            "group_id": profile.group_id if profile else None,
            "status": "registered",
        },
    )


async def factory_updated(uow: UnitOfWork, event: FactoryUpdated, envelope: Envelope) -> None:
    changes = event.changes
    values: dict[str, Any] = {f: getattr(changes, f) for f in ("name", *_PROFILE_FIELDS) if getattr(changes, f)}
    values.update({f: None for f in changes.cleared if f in _PROFILE_FIELDS})
    if "group_name" in changes.cleared or (changes.group_name and changes.group_id is None):
        values["group_id"] = None  # the id changes with the name (an event without it leaves the name to count)
    await FACTORIES.apply(uow.session, event.factory_id, event.version, values)


async def factory_merged(uow: UnitOfWork, event: FactoryMerged, envelope: Envelope) -> None:
    """Two records were one factory: what invoicing keys by the retired id moves to the survivor (invoices,
    payments, refunds due, buyers' credit spends), so its cycles continue one history; a package draft the merge
    makes redundant (its cycle is charged already) is dropped."""
    duplicate = await references.factory(uow.session, event.factory_id)
    applied = await FACTORIES.apply(uow.session, event.factory_id, event.version, {"merged_into": event.survivor_id})
    if applied is not Apply.APPLY:
        return  # a repeat: moved already
    survivor = await references.factory(uow.session, event.survivor_id)
    moved = await factory_merges.repoint(uow.session, event.factory_id, survivor, event.survivor_id)
    dropped = redundant_package_drafts(
        await invoice_repo.package_invoices_of(uow.session, event.survivor_id),
        duplicate_status=duplicate.status if duplicate is not None else "registered",
    )
    for invoice_id in dropped:
        await invoice_repo.drop_draft(uow.session, invoice_id)
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=REGISTRY_EVENTS,
        action="factory.merged",
        entity_type="factory",
        entity_id=str(event.survivor_id),
        details={
            "merged_id": str(event.factory_id),
            "invoices": [str(i) for i in moved.invoices],
            "payments": moved.payments,
            "refunds_due": moved.refunds,
            "credit_spends": moved.credit_spends,
            "redundant_drafts_dropped": [str(i) for i in dropped],
        },
    )


async def cycles_renumbered(uow: UnitOfWork, event: AssessmentCyclesRenumbered, envelope: Envelope) -> None:
    """After a merge the assessments service numbered both records' cycles again: invoices (service packages,
    assessment charges) and buyers' credit spends keyed by (factory, cycle) take the new numbers, whether the
    registry's `factory.merged` came before or after. A repeat is recognised by the audit row of the first and
    changes nothing (the survivor's cycles must not move twice). Issued documents keep the text they were
    issued with; only the key changes."""
    retired, survivor = event.retired_id, event.factory_id
    if await factory_merges.renumbering_recorded(uow.session, retired):
        return
    moves = {(m.factory_id, m.from_cycle): m.to_cycle for m in event.moves}
    rekeyed = await factory_merges.rekey_cycles(uow.session, retired, survivor, moves)
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=ASSESSMENT_EVENTS,
        action="factory.cycles_renumbered",
        entity_type="factory",
        entity_id=str(retired),
        details={
            "survivor_id": str(survivor),
            "invoices": [str(i) for i in rekeyed.invoices],
            "credit_entries": rekeyed.credit_entries,
            "moves": [m.model_dump(mode="json") for m in event.moves],
        },
    )


async def factory_status_changed(uow: UnitOfWork, event: FactoryStatusChanged, envelope: Envelope) -> None:
    values: dict[str, Any] = {"status": event.status}
    if event.service_package:
        values["service_package"] = event.service_package
    applied = await FACTORIES.apply(uow.session, event.factory_id, event.version, values)
    if applied is Apply.APPLY and event.change == "enrolled":
        await draft_service_package(uow, event)


async def draft_service_package(uow: UnitOfWork, event: FactoryStatusChanged) -> None:
    """An enrolled factory's service package for its next cycle, as a draft (skipped when nothing prices it)."""
    factory = await references.factory(uow.session, event.factory_id)
    version = await price_lists.in_force(uow.session, event.country, event.start_date or today())
    if factory is None or version is None or charge_basis(version) is not ChargeBasis.PER_CYCLE:
        # No price, or the country charges per assessment (each scheduled assessment is invoiced instead).
        _log.info("no service package charged for %s in %s: no invoice drafted", event.factory_id, event.country)
        return
    packages = await invoice_repo.package_invoices_of(uow.session, factory.factory_id)
    waiting = waiting_package_draft(packages)
    if waiting is not None:
        _log.info("a service package draft of %s waits already (%s): none added", factory.factory_id, waiting.id)
        return
    cycle = next_package_cycle(packages)
    try:
        line = price(
            version,
            Service.SERVICE_PACKAGE,
            1,
            group_size=await references.group_size(uow.session, factory),
            description=f"Service package {event.service_package or ''}, cycle {cycle}".replace("  ", " "),
        )
    except PricingError as exc:
        _log.warning("service package of %s not priced: %s", event.factory_id, exc)
        return
    invoice = rules.draft(
        purpose=Purpose.SERVICES,
        country=factory.country,
        currency=version.currency,
        issuer=issuer_for(factory.country).code,
        customer=Party(CustomerKind.FACTORY, factory.factory_id, factory.name, factory.country, factory.address),
        lines=[line],
        created_at=now(),
        created_by=REGISTRY_EVENTS.subject,
        cycle=cycle,
        price_list_id=version.id,
        terms_days=await payment_terms_for(uow.session, factory.country),
    )
    await invoice_repo.add(uow.session, invoice)
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=REGISTRY_EVENTS,
        action="invoice.drafted",
        entity_type="invoice",
        entity_id=str(invoice.id),
        details={"reason": "factory enrolled", "factory_id": str(factory.factory_id), "cycle": cycle},
    )


async def buyer_registered(uow: UnitOfWork, event: BuyerRegistered, envelope: Envelope) -> None:
    await references.record_buyer(uow.session, event.buyer_id, event.name, event.headquarters_country)
