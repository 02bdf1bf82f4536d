"""SQL of tool versions and zero-tolerance protocols; a published tool is parsed once per process."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from assessments.adapters.tables import TOOL_VERSION, ZT_PROTOCOL
from assessments.domain.tool import Tool, ToolStatus, ToolVersion, parse_tool, to_documents
from assessments.domain.zero_tolerance import Protocol, parse_protocol

_tools: dict[uuid.UUID, Tool] = {}
# A version's columns without its two documents (what most reads need: id, country, status, label...).
_META = [column for column in TOOL_VERSION.c if column.name not in ("global_template", "country_tool")]


def _version_of(row: Any) -> ToolVersion:
    return ToolVersion(
        id=row["id"],
        country=row["country"],
        sector=row["sector"],
        label=row["label"],
        status=ToolStatus(row["status"]),
        effective_from=row["effective_from"],
        question_count=row["question_count"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        published_at=row["published_at"],
        published_by=row["published_by"],
    )


def _tool_of(row: Any) -> Tool:
    """The parsed tool of a tool_version row (published versions never change, so they are kept)."""
    cached = _tools.get(row["id"])
    if cached is not None:
        return cached
    tool = parse_tool(row["global_template"], row["country_tool"])
    if row["status"] in (ToolStatus.PUBLISHED, ToolStatus.RETIRED):
        _tools[row["id"]] = tool
    return tool


class ToolRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def load(self, tool_version_id: uuid.UUID) -> tuple[ToolVersion, Tool] | None:
        """A version and its parsed tool; the documents are read only when the tool is not cached."""
        cached = _tools.get(tool_version_id)
        stmt = select(*(_META if cached is not None else TOOL_VERSION.c)).where(TOOL_VERSION.c.id == tool_version_id)
        row = (await self.session.execute(stmt)).mappings().first()
        if row is None:
            return None
        return _version_of(row), cached or _tool_of(row)

    async def version(self, tool_version_id: uuid.UUID, *, for_update: bool = False) -> ToolVersion | None:
        stmt = select(*_META).where(TOOL_VERSION.c.id == tool_version_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self.session.execute(stmt)).mappings().first()
        return _version_of(row) if row is not None else None

    async def current(self, country: str, sector: str) -> ToolVersion | None:
        """The published version of a country and sector."""
        stmt = select(*_META).where(
            TOOL_VERSION.c.country == country,
            TOOL_VERSION.c.sector == sector,
            TOOL_VERSION.c.status == ToolStatus.PUBLISHED.value,
        )
        row = (await self.session.execute(stmt)).mappings().first()
        return _version_of(row) if row is not None else None

    async def versions(self, country: str | None) -> list[ToolVersion]:
        stmt = select(*_META).order_by(TOOL_VERSION.c.created_at.desc())
        if country:
            stmt = stmt.where(TOOL_VERSION.c.country == country)
        return [_version_of(r) for r in (await self.session.execute(stmt)).mappings()]

    async def label_taken(self, country: str, sector: str, label: str) -> bool:
        stmt = select(TOOL_VERSION.c.id).where(
            TOOL_VERSION.c.country == country, TOOL_VERSION.c.sector == sector, TOOL_VERSION.c.label == label
        )
        return (await self.session.execute(stmt)).first() is not None

    async def has_any(self, country: str, sector: str) -> bool:
        count = await self.session.scalar(
            select(func.count())
            .select_from(TOOL_VERSION)
            .where(TOOL_VERSION.c.country == country, TOOL_VERSION.c.sector == sector)
        )
        return bool(count)

    async def add(self, version: ToolVersion, tool: Tool) -> None:
        global_template, country_tool = to_documents(tool)
        await self.session.execute(
            TOOL_VERSION.insert().values(
                id=version.id,
                country=version.country,
                sector=version.sector,
                label=version.label,
                status=version.status.value,
                effective_from=version.effective_from,
                global_template=global_template,
                country_tool=country_tool,
                question_count=version.question_count,
                created_at=version.created_at,
                created_by=version.created_by,
                published_at=version.published_at,
                published_by=version.published_by,
            )
        )

    async def publish(self, version: ToolVersion) -> None:
        """`version` (published) becomes its country and sector's current one; the one before is retired."""
        await self.session.execute(
            TOOL_VERSION.update()
            .where(
                TOOL_VERSION.c.country == version.country,
                TOOL_VERSION.c.sector == version.sector,
                TOOL_VERSION.c.status == ToolStatus.PUBLISHED.value,
            )
            .values(status=ToolStatus.RETIRED.value)
        )
        await self.session.execute(
            TOOL_VERSION.update()
            .where(TOOL_VERSION.c.id == version.id)
            .values(status=version.status.value, published_at=version.published_at, published_by=version.published_by)
        )

    async def protocol(self, country: str) -> Protocol | None:
        row = (
            await self.session.execute(select(ZT_PROTOCOL.c.document).where(ZT_PROTOCOL.c.country == country))
        ).first()
        return parse_protocol(row[0]) if row is not None else None

    async def has_protocol(self, country: str) -> bool:
        count = await self.session.scalar(
            select(func.count()).select_from(ZT_PROTOCOL).where(ZT_PROTOCOL.c.country == country)
        )
        return bool(count)

    async def put_protocol(self, country: str, document: dict[str, Any], *, at: datetime, by: str) -> None:
        """Store a country's protocol document, replacing the one before."""
        stmt = insert(ZT_PROTOCOL).values(country=country, document=document, loaded_at=at, loaded_by=by)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["country"], set_={"document": document, "loaded_at": at, "loaded_by": by}
            )
        )

    async def lock_shipped_data(self) -> None:
        """Serialise the instances that load the shipped data at start (until the transaction ends)."""
        await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext('assessments.shipped-data'))"))
