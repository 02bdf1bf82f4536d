"""The publication cycle: compute a candidate from the fact log, review its differences against the last release,
approve by a second person (which releases it), reject; and rebuild a release from the log to prove it unchanged.

Only staff of the country (or an admin) see or move its publications; anyone else gets 404."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from betterwork_contracts.events.transparency import PublicationReleased
from servicekit.audit import record_audit
from servicekit.auth.principal import Principal
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, Forbidden, NotFound, Unprocessable
from servicekit.pagination import PageParams
from transparency.adapters import facts, publications
from transparency.domain import cycle
from transparency.domain.cycle import Publication
from transparency.domain.differences import differences
from transparency.domain.disclosure import shipped_thresholds
from transparency.domain.facts import fold
from transparency.domain.listing import compute_listing
from transparency.domain.open_data import ReleaseFile, content_hash, release_files
from transparency.domain.rules import PublicationRuleSet, rule_set_for, shipped_rule_sets

SCHEMA = "transparency"


@dataclass(frozen=True)
class Built:
    files: list[ReleaseFile]
    content_hash: str
    factories: int


def cut_off_moment(cut_off: date) -> datetime:
    """Facts that happened up to the end of the cut-off day (UTC) count."""
    return datetime.combine(cut_off, time.max, tzinfo=UTC)


async def build(
    session: AsyncSession, rules: PublicationRuleSet, country: str, cut_off: date, log_position: int
) -> Built:
    """The release's files from the log up to `log_position` (the one computation: candidate and rebuild)."""
    snapshot = fold(await facts.facts_up_to(session, log_position, country), cut_off=cut_off_moment(cut_off))
    listing = compute_listing(snapshot, rules, country, cut_off)
    files = release_files(snapshot, rules, listing, shipped_thresholds())
    return Built(files=files, content_hash=content_hash(files), factories=len(listing.factories))


def _documents(files: list[ReleaseFile]) -> dict[str, dict[str, Any]]:
    found = next(f for f in files if f.name == "factories.json")
    return {doc["factory_id"]: doc for doc in json.loads(found.content)}


def _visible(principal: Principal, publication: Publication | None) -> Publication:
    if publication is None or not principal.is_staff_of(publication.country):
        raise NotFound("No such publication.")
    return publication


async def compute_candidate(uow: UnitOfWork, *, principal: Principal, country: str, cut_off: date) -> Publication:
    if not principal.is_staff_of(country):
        raise Forbidden(f"Only staff of {country}'s programme prepare its publications.")
    rules = rule_set_for(country)
    if rules is None:
        raise Unprocessable(f"{country} has no publication rule set.")
    if cut_off > datetime.now(UTC).date():
        raise Unprocessable("The data cut-off cannot be in the future.")
    session = uow.session
    log_position = await facts.position(session)
    built = await build(session, rules, country, cut_off, log_position)
    latest = await publications.latest_release(session, country)
    previous = await publications.documents(session, latest.id) if latest else {}
    diffs = [asdict(d) for d in differences(previous, _documents(built.files))]
    publication = Publication(
        id=uuid.uuid4(),
        country=country,
        rule_set=rules.key,
        cut_off=cut_off,
        log_position=log_position,
        status="candidate",
        prepared_by=principal.subject,
        prepared_at=datetime.now(UTC),
        base_release=latest.release_number if latest else None,
        content_hash=built.content_hash,
    )
    await publications.add(session, publication, factories_listed=built.factories, differences=diffs, files=built.files)
    await record_audit(
        session,
        schema=SCHEMA,
        actor=principal,
        action="publication.computed",
        entity_type="publication",
        entity_id=str(publication.id),
        country=country,
        details={
            "rule_set": rules.key,
            "cut_off": cut_off.isoformat(),
            "log_position": log_position,
            "content_hash": built.content_hash,
            "differences": len(diffs),
        },
    )
    await uow.commit()
    return publication


async def get(uow: UnitOfWork, *, principal: Principal, publication_id: uuid.UUID) -> tuple[Publication, int]:
    publication = _visible(principal, await publications.get(uow.session, publication_id))
    listed, _ = await publications.details(uow.session, publication_id)
    return publication, listed


async def list_publications(
    uow: UnitOfWork, *, principal: Principal, params: PageParams, country: str | None, status: str | None
) -> tuple[list[tuple[Publication, int]], str | None]:
    if principal.is_admin:
        countries = [country] if country else None
    else:
        own = principal.staff_country
        countries = [own] if own and (country is None or country == own) else []
    return await publications.page(uow.session, params, countries=countries, status=status)


async def differences_of(uow: UnitOfWork, *, principal: Principal, publication_id: uuid.UUID) -> list[dict[str, Any]]:
    _visible(principal, await publications.get(uow.session, publication_id))
    _, diffs = await publications.details(uow.session, publication_id)
    return diffs


async def _move(uow: UnitOfWork, principal: Principal, publication_id: uuid.UUID) -> Publication:
    return _visible(principal, await publications.get(uow.session, publication_id, for_update=True))


async def review(uow: UnitOfWork, *, principal: Principal, publication_id: uuid.UUID) -> Publication:
    publication = await _move(uow, principal, publication_id)
    try:
        moved = cycle.review(publication, by=principal.subject, at=datetime.now(UTC))
    except cycle.PublicationRuleError as exc:
        raise Conflict(str(exc)) from exc
    await publications.save(uow.session, moved)
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="publication.reviewed",
        entity_type="publication",
        entity_id=str(moved.id),
        country=moved.country,
    )
    await uow.commit()
    return moved


async def reject(uow: UnitOfWork, *, principal: Principal, publication_id: uuid.UUID, reason: str) -> Publication:
    publication = await _move(uow, principal, publication_id)
    try:
        moved = cycle.reject(publication, by=principal.subject, reason=reason)
    except cycle.PublicationRuleError as exc:
        raise Conflict(str(exc)) from exc
    await publications.save(uow.session, moved)
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="publication.rejected",
        entity_type="publication",
        entity_id=str(moved.id),
        reason=reason,
        country=moved.country,
    )
    await uow.commit()
    return moved


async def approve(uow: UnitOfWork, *, principal: Principal, publication_id: uuid.UUID) -> Publication:
    """The second person approves: the candidate becomes the country's next release, public at once."""
    session = uow.session
    publication = await _move(uow, principal, publication_id)
    # one release at a time per country: the number and the base check cannot race
    await session.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"transparency:{publication.country}")))
    )
    latest = await publications.latest_release(session, publication.country)
    now = datetime.now(UTC)
    try:
        released = cycle.approve(
            publication, by=principal.subject, at=now, latest_release=latest.release_number if latest else None
        )
    except cycle.FourEyesError as exc:
        raise Forbidden(str(exc)) from exc
    except cycle.PublicationRuleError as exc:
        raise Conflict(str(exc)) from exc
    files = await publications.files(session, publication.id)
    documents = _documents(files)
    listed, diffs = await publications.details(session, publication.id)
    try:
        await publications.publish_factories(session, released, documents)
        await publications.record_changes(session, released, [(d["factory_id"], d["change"]) for d in diffs], now)
        await publications.save(session, released)
    except IntegrityError as exc:
        raise Conflict("Another release of this country was published at the same time.") from exc
    assert released.release_number is not None and released.approved_by is not None
    uow.emit(
        PublicationReleased(
            publication_id=released.id,
            country=released.country,
            release_number=released.release_number,
            rule_set=released.rule_set,
            data_cut_off=released.cut_off,
            approved_by=released.approved_by,
            content_hash=released.content_hash,
            factories_listed=listed,
            previous_release_number=latest.release_number if latest else None,
            released_at=now,
        ),
        country=released.country,
    )
    await record_audit(
        session,
        schema=SCHEMA,
        actor=principal,
        action="publication.released",
        entity_type="publication",
        entity_id=str(released.id),
        country=released.country,
        details={"release_number": released.release_number, "content_hash": released.content_hash},
    )
    await uow.commit()
    return released


@dataclass(frozen=True)
class Rebuild:
    content_hash: str
    matches: bool
    files: list[tuple[str, str, bool]]  # name, sha256 rebuilt, same bytes as stored


async def rebuild(uow: UnitOfWork, *, principal: Principal, publication_id: uuid.UUID) -> Rebuild:
    """Recompute the publication from the log (same position, cut-off and rule set version) and compare bytes."""
    session = uow.session
    publication = _visible(principal, await publications.get(session, publication_id))
    rules = shipped_rule_sets().get(publication.rule_set)
    if rules is None:
        raise Conflict(f"The rule set {publication.rule_set} is no longer shipped: this release cannot be rebuilt.")
    built = await build(session, rules, publication.country, publication.cut_off, publication.log_position)
    stored = {f.name: f.content for f in await publications.files(session, publication.id)}
    compared = [(f.name, f.sha256, stored.get(f.name) == f.content) for f in built.files]
    same = (
        built.content_hash == publication.content_hash
        and all(m for _, _, m in compared)
        and len(stored) == len(compared)
    )
    return Rebuild(content_hash=built.content_hash, matches=same, files=compared)
