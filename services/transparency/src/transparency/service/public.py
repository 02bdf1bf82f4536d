"""What the public may read, without a token: released publications only (never a candidate), their files, the
factories they list, and the change feed. Past releases stay readable; `latest` is each country's newest."""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

from servicekit.database import UnitOfWork
from servicekit.errors import NotFound
from servicekit.pagination import PageParams
from transparency.adapters import facts, publications
from transparency.domain.cycle import Publication
from transparency.domain.open_data import ReleaseFile

ZIP_TIME = (2000, 1, 1, 0, 0, 0)  # fixed, so the one-file download of a release is byte-identical every time


async def release(uow: UnitOfWork, *, country: str, number: int | None) -> Publication:
    """Release `number` of the country, or its latest when `number` is None."""
    found = (
        await publications.latest_release(uow.session, country)
        if number is None
        else await publications.release(uow.session, country, number)
    )
    if found is None:
        raise NotFound(f"No such release of {country}.")
    return found


async def release_file(uow: UnitOfWork, *, country: str, number: int, name: str) -> ReleaseFile:
    found = await release(uow, country=country, number=number)
    f = await publications.file(uow.session, found.id, name)
    if f is None:
        raise NotFound(f"Release {number} of {country} has no file {name}.")
    return f


async def release_zip(uow: UnitOfWork, *, country: str, number: int) -> bytes:
    found = await release(uow, country=country, number=number)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for f in await publications.files(uow.session, found.id):
            info = zipfile.ZipInfo(f"betterwork-{country.lower()}-{number}/{f.name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, f.content)
    return buffer.getvalue()


async def releases(uow: UnitOfWork, *, params: PageParams, country: str | None) -> tuple[list[Publication], str | None]:
    return await publications.releases(uow.session, params, country)


async def countries(uow: UnitOfWork) -> list[Publication]:
    """The latest release of every country that has one."""
    found = []
    for country in await publications.released_countries(uow.session):
        latest = await publications.latest_release(uow.session, country)
        if latest is not None:
            found.append(latest)
    return found


async def search(
    uow: UnitOfWork,
    *,
    params: PageParams,
    country: str | None,
    q: str | None,
    province: str | None,
    issue: str | None,
    status: str | None,
    year: int | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Factories listed by the latest release of `country` (of every country when None)."""
    latest = [r for r in await countries(uow) if country is None or r.country == country]
    if not latest:
        return [], None
    return await publications.search(
        uow.session,
        params,
        publication_ids=[r.id for r in latest],
        q=q,
        province=province,
        issue=issue,
        status=status,
        year=year,
    )


@dataclass(frozen=True)
class FactoryPage:
    document: dict[str, Any] | None  # what the latest release shows; None when it no longer lists the factory
    release: Publication  # the latest release of the factory's country
    history: list[tuple[Publication, dict[str, Any]]]


class MergedFactory(Exception):
    """The factory was merged into another, which the public page answers for (a redirect)."""

    def __init__(self, survivor_id: uuid.UUID) -> None:
        super().__init__(str(survivor_id))
        self.survivor_id = survivor_id


async def factory(uow: UnitOfWork, *, factory_id: uuid.UUID) -> FactoryPage:
    """The factory's public page: every release that listed it or a record merged into it, once each. A merged
    id is answered by its survivor's page (`MergedFactory`: a permanent redirect) when that page exists, and as
    never listed (404) when neither record was ever published."""
    survivor = await facts.factory(uow.session, factory_id)
    if survivor is not None and survivor.factory_id != factory_id:
        if await _history(uow, survivor.factory_id):
            raise MergedFactory(survivor.factory_id)
        raise NotFound("No release lists this factory.")
    history = await _history(uow, factory_id)
    if not history:
        raise NotFound("No release lists this factory.")
    latest = await publications.latest_release(uow.session, history[0][0].country)
    assert latest is not None
    current = history[0][1] if history[0][0].id == latest.id else None
    return FactoryPage(document=current, release=latest, history=history)


async def _history(uow: UnitOfWork, factory_id: uuid.UUID) -> list[tuple[Publication, dict[str, Any]]]:
    merged = await facts.merged_into(uow.session, factory_id)
    return await publications.factory_history(uow.session, factory_id, merged=merged)


async def changes(uow: UnitOfWork, *, since: int, limit: int, country: str | None) -> list[dict[str, Any]]:
    return await publications.changes_since(uow.session, since, limit, country)


@dataclass(frozen=True)
class CountryOverview:
    release: Publication
    documents: list[dict[str, Any]]
    aggregates: list[dict[str, str]]


async def country_overview(uow: UnitOfWork, *, country: str) -> CountryOverview:
    """The latest release's listed factories and its published aggregates (the overview and issue pages)."""
    import csv
    import io
    import json

    latest = await release(uow, country=country, number=None)
    listed = await publications.file(uow.session, latest.id, "factories.json")
    aggregates = await publications.file(uow.session, latest.id, "aggregates.csv")
    documents = json.loads(listed.content) if listed else []
    rows = list(csv.DictReader(io.StringIO(aggregates.content.decode()))) if aggregates else []
    return CountryOverview(release=latest, documents=documents, aggregates=rows)
