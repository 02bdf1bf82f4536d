"""Use cases on factories: load through the unit of work, apply the domain rule, save, emit, audit."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Protocol

from registry.adapters import repository as repo
from registry.adapters.repository import FactoryFilters as FactoryFilters  # the API builds searches with it
from registry.adapters.repository import FactoryRepository
from registry.adapters.reviews import insert_review, move_open_items
from registry.adapters.tables import SCHEMA, factory_values
from registry.domain import factory as rules
from registry.domain import merging
from registry.domain.enrolment import Enrolment, IllegalTransition, StatusChange, SuspensionReason
from registry.domain.factory import Factory, FactoryRuleError
from registry.domain.matching import EXACT_KEYS, GLOBAL_KEYS, Candidate, Decision, MatchResult, Thresholds, match
from registry.service.access import View, check_staff, list_scope, require_change, require_view
from registry.service.groups import resolve_group
from registry.settings import RegistrySettings
from servicekit.audit import audit_rows, record_audit
from servicekit.auth import Principal, Role
from servicekit.database import Database, UnitOfWork
from servicekit.errors import Conflict, Unprocessable, merged_factory
from servicekit.pagination import PageParams


class FactoryStore(Protocol):
    """What the use cases that change one factory need of storage: `FactoryRepository`, or a test's fake."""

    async def load(self, factory_id: uuid.UUID, *, for_update: bool = False) -> Factory | None: ...

    async def save(self, factory: Factory, *, names_changed: bool) -> None: ...

    async def external_id_conflicts(self, factory: Factory) -> dict[str, uuid.UUID]: ...

    async def add_status_change(self, factory_id: uuid.UUID, record: StatusChange) -> None: ...

    async def audit(
        self,
        actor: Principal,
        *,
        action: str,
        factory_id: uuid.UUID,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        country: str | None = None,
    ) -> None: ...


def _store(uow: UnitOfWork, repository: FactoryStore | None) -> FactoryStore:
    return repository if repository is not None else FactoryRepository(uow.session)


class InvalidFactory(Unprocessable):
    """A field breaks a registry rule (422, with a JSON pointer to the field, like request validation)."""

    def __init__(self, error: FactoryRuleError) -> None:
        pointer = "#/body/" + (error.field or "").replace(".", "/")
        super().__init__(
            str(error),
            title="Request validation failed",
            errors=[{"pointer": pointer.rstrip("/"), "detail": str(error), "code": "registry_rule"}],
        )


class Outcome(StrEnum):
    CREATED = "created"
    MATCHED = "matched"
    NEEDS_REVIEW = "needs_review"


@dataclass(frozen=True)
class Registration:
    outcome: Outcome
    factory: Factory | None
    score: float | None = None
    matched_on: str | None = None  # "name_address" or an external id field
    review_id: uuid.UUID | None = None
    candidate_id: uuid.UUID | None = None


def thresholds(settings: RegistrySettings) -> dict[str, Thresholds]:
    return {country.upper(): Thresholds(b.link, b.review) for country, b in settings.match_thresholds.items()}


def _now() -> datetime:
    return datetime.now(UTC)


def build(country: str, values: Mapping[str, Any], now: datetime) -> tuple[Factory, Any]:
    try:
        return rules.register(country=country, values=values, now=now)
    except FactoryRuleError as exc:
        raise InvalidFactory(exc) from exc


async def decide_match(
    uow: UnitOfWork,
    factory: Factory,
    settings: RegistrySettings,
    extra: list[Candidate] | None = None,
) -> tuple[MatchResult, str]:
    """How a submitted record relates to the registry: an external id of the same country decides first, then name
    and address. An OS ID or SLCP id held in another country is refused (409): it cannot be two factories'."""
    for field in EXACT_KEYS:
        value = getattr(factory, field)
        if value:
            holder = await repo.exact_key_holder(uow.session, field, value, factory.country)
            if holder is not None:
                return MatchResult(Decision.LINK, str(holder), 100.0, exact=True), field
            if field in GLOBAL_KEYS and await repo.holder_of_external_id(uow.session, field, value, factory.country):
                raise Conflict(f"{field} {value} belongs to a factory of another country.", code=f"{field}_taken")
    found = await repo.candidates(
        uow.session,
        country=factory.country,
        name=factory.name,
        address=factory.address,
        limit=settings.match_candidates,
    )
    result = match(factory.name, factory.address, factory.country, [*found, *(extra or ())], thresholds(settings))
    return result, "name_address"


async def register(
    uow: UnitOfWork, *, principal: Principal, settings: RegistrySettings, country: str, values: Mapping[str, Any]
) -> Registration:
    """Register a factory unless the registry already holds it: created, matched, or sent to a person."""
    check_staff(principal, settings.country, country.strip().upper())
    values = await resolve_group(uow, values)
    factory, event = build(country, values, _now())
    result, matched_on = await decide_match(uow, factory, settings)
    if result.decision is Decision.LINK:
        assert result.candidate_id is not None
        existing = await repo.load(uow.session, uuid.UUID(result.candidate_id))
        await record_audit(
            uow.session,
            schema=SCHEMA,
            actor=principal,
            action="factory.registration_matched",
            entity_type="factory",
            entity_id=result.candidate_id,
            details={"submitted_name": factory.name, "score": result.score, "matched_on": matched_on},
            country=factory.country,
        )
        await uow.commit()
        return Registration(Outcome.MATCHED, existing, result.score, matched_on)
    if result.decision is Decision.REVIEW:
        review_id = await open_review(uow, principal, factory, result, source="api")
        await uow.commit()
        assert result.candidate_id is not None
        return Registration(
            Outcome.NEEDS_REVIEW,
            None,
            result.score,
            matched_on,
            review_id=review_id,
            candidate_id=uuid.UUID(result.candidate_id),
        )
    registered = {
        "action": "factory.registered",
        "entity_type": "factory",
        "entity_id": str(factory.id),
        "details": {"name": factory.name, "score_of_nearest": result.score},
        "country": factory.country,
    }
    await repo.insert_factories(uow.session, [factory], audit=audit_rows(principal, [registered]))
    uow.emit(event, country=factory.country)
    await uow.commit()
    return Registration(Outcome.CREATED, factory, result.score)


def submitted_values(factory: Factory) -> dict[str, Any]:
    """A not-yet-created record as JSON (kept on its review item until a person decides)."""
    values = factory_values(factory)
    keep = rules.EDITABLE_FIELDS
    return {
        k: (v.isoformat() if isinstance(v, date | datetime) else str(v) if isinstance(v, uuid.UUID) else v)
        for k, v in values.items()
        if k in keep and v not in (None, [], ())
    }


async def open_review(
    uow: UnitOfWork,
    principal: Principal,
    factory: Factory,
    result: MatchResult,
    *,
    source: str,
    job_id: uuid.UUID | None = None,
    line: int | None = None,
) -> uuid.UUID:
    assert result.candidate_id is not None
    review_id = uuid.uuid4()
    await insert_review(
        uow.session,
        {
            "id": review_id,
            "country": factory.country,
            "status": "open",
            "submitted": submitted_values(factory),
            "candidate_id": uuid.UUID(result.candidate_id),
            "score": result.score,
            "alternatives": [{"factory_id": cid, "score": s} for cid, s in result.alternatives],
            "explanation": result.explanation(),
            "source": source,
            "import_job_id": job_id,
            "import_line": line,
            "created_at": _now(),
            "created_by": principal.subject,
        },
    )
    return review_id


async def get(database: Database, *, principal: Principal, factory_id: uuid.UUID) -> tuple[Factory, View]:
    """One factory as the caller may see it; a merged one is returned as is (the API redirects)."""
    factory = await repo.read(database, factory_id)
    if factory is not None and await _merged_into_it(database, principal, factory):
        return factory, View.FULL
    factory, view = require_view(principal, factory, factory_id)  # a merged id too: its redirect tells it exists
    if factory.merged_into is not None:
        return factory, View.BASIC  # only its new id is shown
    return factory, view


async def _merged_into_it(database: Database, principal: Principal, factory: Factory) -> bool:
    """A factory user whose token still names an id merged into this factory reads it as its own."""
    own = principal.organisation(Role.FACTORY)
    if own is None or own == factory.id:
        return False
    former = await repo.read(database, own)
    return former is not None and former.merged_into == factory.id


async def _load_for_change(
    factories: FactoryStore,
    principal: Principal,
    settings: RegistrySettings,
    factory_id: uuid.UUID,
    expected: int | None,
) -> Factory:
    """The factory, locked until the transaction ends, so a second change of it waits and then sees this one's
    version (and a stale `expected` version is refused)."""
    factory = require_change(principal, await factories.load(factory_id, for_update=True), factory_id, settings.country)
    if factory.merged_into is not None:
        raise Conflict(
            f"Factory {factory_id} was merged into {factory.merged_into}; change that one.",
            merged_into=str(factory.merged_into),
            survivor_id=str(factory.merged_into),
        )
    if expected is not None and expected != factory.version:
        raise Conflict(
            f"The factory is at version {factory.version}, not {expected}; reload and retry.",
            current_version=factory.version,
        )
    return factory


async def update(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: RegistrySettings,
    factory_id: uuid.UUID,
    values: Mapping[str, Any],
    expected_version: int | None,
    reason: str | None = None,
    action: str = "factory.updated",
    repository: FactoryStore | None = None,
) -> Factory:
    """Change fields (`factory.updated` with the changed fields only); no event when nothing changes."""
    factories = _store(uow, repository)
    factory = await _load_for_change(factories, principal, settings, factory_id, expected_version)
    values = await resolve_group(uow, values)
    return await apply_update(uow, principal, factory, values, reason=reason, action=action, repository=factories)


async def apply_update(
    uow: UnitOfWork,
    principal: Principal,
    factory: Factory,
    values: Mapping[str, Any],
    *,
    reason: str | None,
    action: str,
    repository: FactoryStore | None = None,
) -> Factory:
    """Apply new field values to a loaded factory, save, audit, emit and commit (nothing when nothing changes)."""
    factories = _store(uow, repository)
    try:
        changed, event, diff = rules.update(factory, values=values, now=_now())
    except FactoryRuleError as exc:
        raise InvalidFactory(exc) from exc
    if event is None:
        return changed
    conflicts = await factories.external_id_conflicts(changed)
    if conflicts:
        field, holder = next(iter(conflicts.items()))
        raise Conflict(
            f"Factory {holder} already carries this {field}; if they are one factory, merge them.",
            field=field,
            factory_id=str(holder),
        )
    await factories.save(changed, names_changed=bool(diff.keys() & {"name", "local_name", "aliases", "address"}))
    await factories.audit(
        principal,
        action=action,
        factory_id=changed.id,
        reason=reason,
        details={"changed": sorted(diff), "version": changed.version},
        country=changed.country,
    )
    uow.emit(event, country=changed.country)
    await uow.commit()
    return changed


async def change_status(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: RegistrySettings,
    factory_id: uuid.UUID,
    change: str,
    service_package: str | None = None,
    start_date: date | None = None,
    suspension_reason: SuspensionReason | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
    repository: FactoryStore | None = None,
) -> tuple[Factory, StatusChange]:
    """Move the enrolment (409 when the current status does not allow it); history, enrolment periods and event
    follow. `re_enrolled` brings an exited factory back in a new enrolment period."""
    factories = _store(uow, repository)
    factory = await _load_for_change(factories, principal, settings, factory_id, expected_version)
    enrolment = Enrolment(
        status=factory.status,
        service_package=factory.service_package,
        start_date=factory.start_date,
        joined_via=factory.joined_via,
        periods=factory.enrolment_periods,
    )
    now, by = _now(), principal.subject
    try:
        if change == "enrolled":
            if service_package is None or start_date is None:
                raise IllegalTransition("enrolment needs a service package and a start date")
            moved, record = enrolment.enrol(service_package=service_package, start_date=start_date, at=now, by=by)
        elif change == "re_enrolled":
            if service_package is None or start_date is None:
                raise IllegalTransition("a re-enrolment needs a service package and a start date")
            moved, record = enrolment.re_enrol(
                service_package=service_package, start_date=start_date, at=now, by=by, note=reason
            )
        elif change == "activated":
            moved, record = enrolment.activate(at=now, by=by)
        elif change == "suspended":
            if suspension_reason is None:
                raise IllegalTransition("a suspension needs a reason")
            moved, record = enrolment.suspend(reason=suspension_reason, note=reason, at=now, by=by)
        elif change == "reactivated":
            moved, record = enrolment.reactivate(at=now, by=by, note=reason)
        elif change == "exited":
            moved, record = enrolment.exit(reason=reason or "", at=now, by=by)
        else:
            raise IllegalTransition(f"unknown change {change!r}")
    except IllegalTransition as exc:
        raise Conflict(str(exc), current_status=factory.status.value) from exc
    changed = replace(
        factory,
        status=moved.status,
        service_package=moved.service_package,
        start_date=moved.start_date,
        enrolment_periods=moved.periods,
        version=factory.version + 1,
        updated_at=now,
    )
    await factories.save(changed, names_changed=False)
    await factories.add_status_change(factory.id, record)
    await factories.audit(
        principal,
        action=f"factory.{record.change.value}",
        factory_id=factory.id,
        reason=record.reason,
        details={
            "from": record.from_status.value,
            "to": record.to_status.value,
            "version": changed.version,
            "enrolment_period": len(moved.periods) or None,
        },
        country=changed.country,
    )
    uow.emit(rules.status_event(changed, record, version=changed.version), country=changed.country)
    await uow.commit()
    return changed, record


async def history(uow: UnitOfWork, *, principal: Principal, factory_id: uuid.UUID) -> list[dict[str, Any]]:
    factory, _ = require_view(principal, await repo.load(uow.session, factory_id), factory_id, at_least=View.FULL)
    return await repo.status_history(uow.session, factory.id)


async def merge(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: RegistrySettings,
    survivor_id: uuid.UUID,
    merged_id: uuid.UUID,
    reason: str | None,
) -> Factory:
    """`merged_id` becomes an alias of `survivor_id` (308 from then on); both histories stay readable."""
    first, second = sorted([survivor_id, merged_id])  # lock in one order, so two crossing merges cannot deadlock
    loaded = {fid: await repo.load(uow.session, fid, for_update=True) for fid in (first, second)}
    survivor = require_change(principal, loaded[survivor_id], survivor_id, settings.country)
    merged = require_change(principal, loaded[merged_id], merged_id, settings.country)
    for named in (survivor, merged):
        if named.merged_into is not None:
            raise merged_factory(named.id, named.merged_into)
    try:
        merging.check_enrolments(survivor.status, merged.status)
    except merging.EnrolmentConflict as exc:
        raise Conflict(str(exc), survivor_status=exc.survivor.value, merged_status=exc.merged.value) from exc
    try:
        outcome = rules.merge(survivor, merged, now=_now())
    except FactoryRuleError as exc:
        raise Conflict(str(exc)) from exc
    await repo.save(uow.session, outcome.merged, names_changed=True)
    await repo.save(uow.session, outcome.survivor, names_changed=True)
    await repo.repoint_merged(uow.session, merged.id, survivor.id)
    await move_open_items(uow.session, merged.id, survivor.id)
    for entity_id, role in ((survivor.id, "survivor"), (merged.id, "merged")):
        await record_audit(
            uow.session,
            schema=SCHEMA,
            actor=principal,
            action="factory.merged",
            entity_type="factory",
            entity_id=str(entity_id),
            reason=reason,
            details={"survivor_id": str(survivor.id), "merged_id": str(merged.id), "role": role},
            country=survivor.country,
        )
    if outcome.survivor_event is not None:
        uow.emit(outcome.survivor_event, country=survivor.country)
    uow.emit(outcome.merged_event, country=merged.country)
    await uow.commit()
    return outcome.survivor


async def search(
    uow: UnitOfWork, *, principal: Principal, filters: FactoryFilters, page: PageParams
) -> tuple[list[Factory], str | None, View]:
    """Filtered, sorted, cursor-paged factories the caller may see (`access.list_scope`): staff their country's,
    a factory's own users their factory, buyers and service clients the directory."""
    scope = list_scope(principal, filters.country)
    if scope.nothing:
        return [], None, View.BASIC
    factories, cursor = await repo.search(
        uow.session, replace(filters, country=scope.country), page, only=scope.factory_id
    )
    return factories, cursor, scope.view
