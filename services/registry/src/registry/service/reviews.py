"""People decide what matching could not: review items (possible duplicates) and factories' change proposals."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from registry.adapters import repository as repo
from registry.adapters import reviews as decisions
from registry.adapters.imports import link_row
from registry.adapters.tables import SCHEMA
from registry.domain import factory as rules
from registry.domain.factory import PROPOSABLE_FIELDS, Contact, FactoryRuleError
from registry.service.access import check_staff, is_own_factory
from registry.service.factories import InvalidFactory, apply_update
from registry.settings import RegistrySettings
from servicekit.audit import record_audit
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, Forbidden, NotFound
from servicekit.pagination import PageParams


def _now() -> datetime:
    return datetime.now(UTC)


async def list_reviews(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: RegistrySettings,
    status: str | None,
    import_job_id: uuid.UUID | None,
    page: PageParams,
) -> tuple[list[dict[str, Any]], str | None]:
    check_staff(principal, settings.country)
    return await decisions.review_page(
        uow.session,
        country=None if principal.is_admin else principal.country,
        status=status,
        import_job_id=import_job_id,
        page=page,
    )


async def _load_review(uow: UnitOfWork, principal: Principal, review_id: uuid.UUID) -> dict[str, Any]:
    review = await decisions.lock_review(uow.session, review_id)
    if review is None or not principal.is_staff_of(review["country"]):
        raise NotFound(f"No review item {review_id}.")
    return review


async def get_review(uow: UnitOfWork, *, principal: Principal, review_id: uuid.UUID) -> dict[str, Any]:
    return await _load_review(uow, principal, review_id)


async def decide_review(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: RegistrySettings,
    review_id: uuid.UUID,
    same_factory: bool,
    note: str | None,
) -> dict[str, Any]:
    """Confirm (it is the candidate: linked) or reject (a different factory: created now)."""
    review = await _load_review(uow, principal, review_id)
    check_staff(principal, settings.country, review["country"])
    if review["status"] != "open":
        raise Conflict(f"Review item {review_id} was already {review['status']}.", current_status=review["status"])
    now = _now()
    if same_factory:
        candidate = await repo.load(uow.session, review["candidate_id"])
        assert candidate is not None
        factory_id = candidate.merged_into or candidate.id
        status, action = "confirmed", "factory.match_confirmed"
    else:
        submitted = dict(review["submitted"])
        if "contacts" in submitted:
            submitted["contacts"] = tuple(Contact(**c) for c in submitted["contacts"])
        if "aliases" in submitted:
            submitted["aliases"] = tuple(submitted["aliases"])
        try:
            factory, event = rules.register(country=review["country"], values=submitted, now=now)
        except FactoryRuleError as exc:
            raise InvalidFactory(exc) from exc
        conflicts = await repo.external_id_conflicts(uow.session, factory)
        if conflicts:
            field, holder = next(iter(conflicts.items()))
            raise Conflict(f"Factory {holder} already carries this {field}; confirm the match instead.", field=field)
        await repo.insert_factories(uow.session, [factory])
        uow.emit(event, country=factory.country)
        factory_id = factory.id
        status, action = "rejected", "factory.match_rejected"
    await decisions.record_review_decision(
        uow.session,
        review_id,
        status=status,
        decided_at=now,
        decided_by=principal.subject,
        decision_note=note,
        factory_id=factory_id,
    )
    if review["import_job_id"] is not None:
        await link_row(uow.session, review["import_job_id"], review["import_line"], factory_id)
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action=action,
        entity_type="match_review",
        entity_id=str(review_id),
        reason=note,
        details={"factory_id": str(factory_id), "candidate_id": str(review["candidate_id"])},
    )
    await uow.commit()
    return {**review, "status": status, "decided_at": now, "decided_by": principal.subject, "factory_id": factory_id}


# ---- change proposals ---------------------------------------------------------------------------------------


async def propose(
    uow: UnitOfWork, *, principal: Principal, factory_id: uuid.UUID, values: dict[str, Any], note: str | None
) -> dict[str, Any]:
    """A factory's own users propose a new name or address; staff approve or reject it."""
    factory = await repo.load(uow.session, factory_id)
    if factory is None or not (is_own_factory(principal, factory) or principal.is_staff_of(factory.country)):
        raise NotFound(f"No factory {factory_id}.")
    if factory.merged_into is not None:
        raise Conflict(f"Factory {factory_id} was merged into {factory.merged_into}.")
    unknown = set(values) - PROPOSABLE_FIELDS
    if unknown:
        raise Forbidden(f"A factory may propose changes to {sorted(PROPOSABLE_FIELDS)} only, not {sorted(unknown)}.")
    try:
        _, event, diff = rules.update(factory, values=values, now=_now())
    except FactoryRuleError as exc:
        raise InvalidFactory(exc) from exc
    if event is None:
        raise Conflict("The proposal changes nothing: the record already says this.")
    row = {
        "id": uuid.uuid4(),
        "factory_id": factory.id,
        "country": factory.country,
        "status": "open",
        "proposed": diff,
        "based_on_version": factory.version,
        "note": note,
        "proposed_at": _now(),
        "proposed_by": principal.subject,
    }
    await decisions.insert_proposal(uow.session, row)
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="factory.change_proposed",
        entity_type="factory",
        entity_id=str(factory.id),
        reason=note,
        details={"proposal_id": str(row["id"]), "fields": sorted(diff)},
    )
    await uow.commit()
    return {**row, "decided_at": None, "decided_by": None, "decision_note": None}


async def list_proposals(
    uow: UnitOfWork,
    *,
    principal: Principal,
    status: str | None,
    factory_id: uuid.UUID | None,
    page: PageParams,
) -> tuple[list[dict[str, Any]], str | None]:
    country, of_factory = None, None
    if principal.is_admin:
        pass
    elif Role.STAFF in principal.roles and principal.country:
        country = principal.country
    elif Role.FACTORY in principal.roles and principal.organisation_id:
        try:
            of_factory = uuid.UUID(principal.organisation_id)
        except ValueError:
            return [], None
    else:
        raise Forbidden("Only staff and factories see change proposals.")
    return await decisions.proposal_page(
        uow.session, country=country, of_factory=of_factory, status=status, factory_id=factory_id, page=page
    )


async def decide_proposal(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: RegistrySettings,
    proposal_id: uuid.UUID,
    approve: bool,
    note: str | None,
) -> dict[str, Any]:
    proposal = await decisions.lock_proposal(uow.session, proposal_id)
    if proposal is None or not principal.is_staff_of(proposal["country"]):
        raise NotFound(f"No change proposal {proposal_id}.")
    check_staff(principal, settings.country, proposal["country"])
    if proposal["status"] != "open":
        raise Conflict(
            f"Change proposal {proposal_id} was already {proposal['status']}.", current_status=proposal["status"]
        )
    now = _now()
    status = "approved" if approve else "rejected"
    await decisions.record_proposal_decision(
        uow.session, proposal_id, status=status, decided_at=now, decided_by=principal.subject, decision_note=note
    )
    decided = {**proposal, "status": status, "decided_at": now, "decided_by": principal.subject, "decision_note": note}
    if not approve:
        await record_audit(
            uow.session,
            schema=SCHEMA,
            actor=principal,
            action="factory.change_rejected",
            entity_type="factory",
            entity_id=str(proposal["factory_id"]),
            reason=note,
            details={"proposal_id": str(proposal_id)},
        )
        await uow.commit()
        return decided
    factory = await repo.load(uow.session, proposal["factory_id"], for_update=True)
    assert factory is not None
    if factory.merged_into is not None:
        raise Conflict(f"Factory {factory.id} was merged into {factory.merged_into}; the proposal no longer applies.")
    await apply_update(
        uow,
        principal,
        replace(factory),
        proposal["proposed"],
        reason=note or f"change proposal {proposal_id}",
        action="factory.change_approved",
    )
    await uow.commit()  # apply_update commits only when something changed
    return decided
