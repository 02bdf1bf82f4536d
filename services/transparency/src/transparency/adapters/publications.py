"""Publications, their files, the factories a release lists and the public change feed (all of their SQL)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.pagination import PageParams, SortOrder, paginate
from transparency.adapters.tables import PUBLIC_CHANGE, PUBLICATION, PUBLICATION_FILE, PUBLISHED_FACTORY
from transparency.domain.cycle import Publication
from transparency.domain.open_data import ReleaseFile

_FIELDS = tuple(Publication.__dataclass_fields__)


def _publication(row: Any) -> Publication:
    return Publication(**{name: row[name] for name in _FIELDS})


async def add(
    session: AsyncSession,
    publication: Publication,
    *,
    factories_listed: int,
    differences: list[dict[str, Any]],
    files: list[ReleaseFile],
) -> None:
    await session.execute(
        PUBLICATION.insert().values(
            **asdict(publication), factories_listed=factories_listed, differences=differences, lock_version=1
        )
    )
    await session.execute(
        PUBLICATION_FILE.insert(),
        [
            {
                "publication_id": publication.id,
                "name": f.name,
                "media_type": f.media_type,
                "sha256": f.sha256,
                "content": f.content,
            }
            for f in files
        ],
    )


async def get(session: AsyncSession, publication_id: uuid.UUID, *, for_update: bool = False) -> Publication | None:
    stmt = sa.select(PUBLICATION).where(PUBLICATION.c.id == publication_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return None if row is None else _publication(row)


async def save(session: AsyncSession, publication: Publication) -> None:
    values = asdict(publication)
    values.pop("id")
    await session.execute(
        PUBLICATION.update()
        .where(PUBLICATION.c.id == publication.id)
        .values(**values, lock_version=PUBLICATION.c.lock_version + 1)
    )


async def details(session: AsyncSession, publication_id: uuid.UUID) -> tuple[int, list[dict[str, Any]]]:
    row = (
        await session.execute(
            sa.select(PUBLICATION.c.factories_listed, PUBLICATION.c.differences).where(
                PUBLICATION.c.id == publication_id
            )
        )
    ).first()
    return (0, []) if row is None else (row[0], row[1])


async def page(
    session: AsyncSession, params: PageParams, *, countries: list[str] | None, status: str | None
) -> tuple[list[tuple[Publication, int]], str | None]:
    stmt = sa.select(PUBLICATION)
    if countries is not None:
        stmt = stmt.where(PUBLICATION.c.country.in_(countries))
    if status:
        stmt = stmt.where(PUBLICATION.c.status == status)
    rows, cursor = await paginate(
        session, stmt, SortOrder((PUBLICATION.c.prepared_at, PUBLICATION.c.id), descending=True), params
    )
    return [(_publication(r._mapping), r._mapping["factories_listed"]) for r in rows], cursor


async def latest_release(session: AsyncSession, country: str) -> Publication | None:
    row = (
        (
            await session.execute(
                sa.select(PUBLICATION)
                .where(PUBLICATION.c.country == country, PUBLICATION.c.status == "released")
                .order_by(PUBLICATION.c.release_number.desc())
                .limit(1)
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else _publication(row)


async def release(session: AsyncSession, country: str, number: int) -> Publication | None:
    row = (
        (
            await session.execute(
                sa.select(PUBLICATION).where(
                    PUBLICATION.c.country == country,
                    PUBLICATION.c.release_number == number,
                    PUBLICATION.c.status == "released",
                )
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else _publication(row)


async def releases(
    session: AsyncSession, params: PageParams, country: str | None
) -> tuple[list[Publication], str | None]:
    stmt = sa.select(PUBLICATION).where(PUBLICATION.c.status == "released")
    if country:
        stmt = stmt.where(PUBLICATION.c.country == country)
    rows, cursor = await paginate(
        session, stmt, SortOrder((PUBLICATION.c.released_at, PUBLICATION.c.id), descending=True), params
    )
    return [_publication(r._mapping) for r in rows], cursor


async def released_countries(session: AsyncSession) -> list[str]:
    rows = await session.execute(
        sa.select(PUBLICATION.c.country)
        .where(PUBLICATION.c.status == "released")
        .distinct()
        .order_by(PUBLICATION.c.country)
    )
    return [r[0] for r in rows]


async def files(session: AsyncSession, publication_id: uuid.UUID) -> list[ReleaseFile]:
    rows = await session.execute(
        sa.select(PUBLICATION_FILE.c.name, PUBLICATION_FILE.c.media_type, PUBLICATION_FILE.c.content)
        .where(PUBLICATION_FILE.c.publication_id == publication_id)
        .order_by(PUBLICATION_FILE.c.name)
    )
    return [ReleaseFile(name, media_type, bytes(content)) for name, media_type, content in rows]


async def file(session: AsyncSession, publication_id: uuid.UUID, name: str) -> ReleaseFile | None:
    row = (
        await session.execute(
            sa.select(PUBLICATION_FILE.c.name, PUBLICATION_FILE.c.media_type, PUBLICATION_FILE.c.content).where(
                PUBLICATION_FILE.c.publication_id == publication_id, PUBLICATION_FILE.c.name == name
            )
        )
    ).first()
    return None if row is None else ReleaseFile(row[0], row[1], bytes(row[2]))


async def documents(session: AsyncSession, publication_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    """The listed factories' public documents by factory id (for the differences of the next candidate)."""
    rows = await session.execute(
        sa.select(PUBLISHED_FACTORY.c.factory_id, PUBLISHED_FACTORY.c.document).where(
            PUBLISHED_FACTORY.c.publication_id == publication_id
        )
    )
    return {str(r[0]): r[1] for r in rows}


async def publish_factories(
    session: AsyncSession, publication: Publication, documents_by_id: dict[str, dict[str, Any]]
) -> None:
    if not documents_by_id:
        return
    await session.execute(
        PUBLISHED_FACTORY.insert(),
        [
            {
                "publication_id": publication.id,
                "factory_id": uuid.UUID(factory_id),
                "country": publication.country,
                "name": doc["name"],
                "province": doc["province"],
                "non_compliant": doc["non_compliant_issues"],
                "issue_codes": [i["question_code"] for i in doc["issues"] if i["result"] == "non_compliant"],
                "assessed_year": date.fromisoformat(doc["assessed_on"]).year,
                "document": doc,
            }
            for factory_id, doc in documents_by_id.items()
        ],
    )


async def record_changes(
    session: AsyncSession, publication: Publication, changes: list[tuple[str, str]], at: datetime
) -> None:
    if not changes:
        return
    await session.execute(
        PUBLIC_CHANGE.insert(),
        [
            {
                "publication_id": publication.id,
                "country": publication.country,
                "release_number": publication.release_number,
                "factory_id": uuid.UUID(factory_id),
                "change": change,
                "released_at": at,
            }
            for factory_id, change in changes
        ],
    )


async def changes_since(session: AsyncSession, since: int, limit: int, country: str | None) -> list[dict[str, Any]]:
    stmt = sa.select(PUBLIC_CHANGE).where(PUBLIC_CHANGE.c.seq > since)
    if country:
        stmt = stmt.where(PUBLIC_CHANGE.c.country == country)
    rows = await session.execute(stmt.order_by(PUBLIC_CHANGE.c.seq).limit(limit))
    return [dict(r) for r in rows.mappings()]


async def search(
    session: AsyncSession,
    params: PageParams,
    *,
    publication_ids: list[uuid.UUID],
    q: str | None,
    province: str | None,
    issue: str | None,
    status: str | None,
    year: int | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Listed factories of the given releases, filtered; `status` is non_compliant or compliant (on every
    published issue)."""
    stmt = sa.select(PUBLISHED_FACTORY.c.name, PUBLISHED_FACTORY.c.factory_id, PUBLISHED_FACTORY.c.document).where(
        PUBLISHED_FACTORY.c.publication_id.in_(publication_ids)
    )
    if q and q.strip():
        escaped = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(PUBLISHED_FACTORY.c.name.ilike(f"%{escaped}%", escape="\\"))
    if province:
        stmt = stmt.where(PUBLISHED_FACTORY.c.province == province)
    if issue:
        stmt = stmt.where(sa.literal(issue) == sa.any_(PUBLISHED_FACTORY.c.issue_codes))
    if status == "non_compliant":
        stmt = stmt.where(PUBLISHED_FACTORY.c.non_compliant > 0)
    elif status == "compliant":
        stmt = stmt.where(PUBLISHED_FACTORY.c.non_compliant == 0)
    if year:
        stmt = stmt.where(PUBLISHED_FACTORY.c.assessed_year == year)
    rows, cursor = await paginate(
        session, stmt, SortOrder((PUBLISHED_FACTORY.c.name, PUBLISHED_FACTORY.c.factory_id)), params
    )
    return [r._mapping["document"] for r in rows], cursor


async def factory_history(
    session: AsyncSession, factory_id: uuid.UUID, *, merged: Sequence[uuid.UUID] = ()
) -> list[tuple[Publication, dict[str, Any]]]:
    """Every release that listed the factory or a record merged into it, newest first, with what it showed:
    one entry per release (the factory's own listing where a release listed both)."""
    ids = [factory_id, *merged]
    rows = await session.execute(
        sa.select(PUBLICATION, PUBLISHED_FACTORY.c.document, PUBLISHED_FACTORY.c.factory_id.label("listed_id"))
        .join(PUBLISHED_FACTORY, PUBLISHED_FACTORY.c.publication_id == PUBLICATION.c.id)
        .where(PUBLISHED_FACTORY.c.factory_id.in_(ids), PUBLICATION.c.status == "released")
        .order_by(PUBLICATION.c.released_at.desc(), PUBLISHED_FACTORY.c.factory_id != factory_id)
    )
    history: list[tuple[Publication, dict[str, Any]]] = []
    seen: set[Any] = set()
    for r in rows:
        if r._mapping["id"] in seen:
            continue
        seen.add(r._mapping["id"])
        history.append((_publication(r._mapping), r._mapping["document"]))
    return history
