"""Tool versions: import (YAML), publish, read, export; the shipped tool and protocol loaded on first start."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select, text

from assessments.adapters.tables import SCHEMA, TOOL_VERSION, ZT_PROTOCOL
from assessments.domain.tool import Tool, ToolError, parse_tool, to_documents
from assessments.domain.zero_tolerance import CaseError, Protocol, parse_protocol
from servicekit.audit import record_audit
from servicekit.auth import Principal, Role, check_staff
from servicekit.database import Database, UnitOfWork
from servicekit.errors import BadRequest, Conflict, NotFound

DATA = Path(__file__).resolve().parent.parent / "data"
SHIPPED_TOOLS = ("tool_kh_garment.yaml",)
SHIPPED_PROTOCOLS = ("zt_protocol_kh.yaml",)
SYSTEM = Principal(subject="system:shipped-data", roles=frozenset({Role.ADMIN}))


@cache
def shipped_global() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DATA / "cat_global.yaml").read_text(encoding="utf-8"))
    return document


def parse_yaml(body: bytes) -> Tool:
    """A tool version from YAML: `kind: cat-tool-version` (both parts, as exported) or a country tool alone
    (joined with the shipped global template)."""
    try:
        document = yaml.safe_load(body.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BadRequest(f"The body is not UTF-8 YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise BadRequest("The YAML must be a mapping with a `kind`.")
    try:
        if document.get("kind") == "cat-tool-version":
            return parse_tool(document.get("global") or {}, document.get("tool") or {})
        return parse_tool(shipped_global(), document)
    except ToolError as exc:
        raise BadRequest(f"The tool is not valid: {exc}") from exc
    except (TypeError, AttributeError, ValueError) as exc:
        raise BadRequest(f"The tool is not valid: {exc}") from exc


def export_yaml(tool: Tool) -> str:
    global_template, country_tool = to_documents(tool)
    document = {"kind": "cat-tool-version", "global": global_template, "tool": country_tool}
    return str(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))


_tools: dict[uuid.UUID, Tool] = {}
# A version's columns without its two documents (what most reads need: id, country, status, label...).
_META = [column for column in TOOL_VERSION.c if column.name not in ("global_template", "country_tool")]


def tool_of(row: Any) -> Tool:
    """The parsed tool of a tool_version row (published versions never change, so they are kept)."""
    cached = _tools.get(row["id"])
    if cached is not None:
        return cached
    tool = parse_tool(row["global_template"], row["country_tool"])
    if row["status"] in ("published", "retired"):
        _tools[row["id"]] = tool
    return tool


async def load_tool(uow: UnitOfWork, tool_version_id: uuid.UUID) -> tuple[dict[str, Any], Tool]:
    """A version's row (without its documents) and its parsed tool; a published one is parsed once per process."""
    cached = _tools.get(tool_version_id)
    columns = _META if cached is not None else list(TOOL_VERSION.c)
    row = (await uow.session.execute(select(*columns).where(TOOL_VERSION.c.id == tool_version_id))).mappings().first()
    if row is None:
        raise NotFound(f"No tool version {tool_version_id}.")
    tool = cached or tool_of(row)
    return {k: v for k, v in row.items() if k not in ("global_template", "country_tool")}, tool


async def create_version(uow: UnitOfWork, *, principal: Principal, tool: Tool) -> dict[str, Any]:
    check_staff(principal, tool.country)
    global_template, country_tool = to_documents(tool)
    row = {
        "id": uuid.uuid4(),
        "country": tool.country,
        "sector": tool.sector,
        "label": tool.label,
        "status": "draft",
        "effective_from": tool.effective_from,
        "global_template": global_template,
        "country_tool": country_tool,
        "question_count": len(tool.questions),
        "created_at": datetime.now(UTC),
        "created_by": principal.subject,
    }
    exists = await uow.session.execute(
        select(TOOL_VERSION.c.id).where(
            TOOL_VERSION.c.country == tool.country,
            TOOL_VERSION.c.sector == tool.sector,
            TOOL_VERSION.c.label == tool.label,
        )
    )
    if exists.first() is not None:
        raise Conflict(f"Tool {tool.label} ({tool.country}, {tool.sector}) exists; give the new version a new label.")
    await uow.session.execute(TOOL_VERSION.insert().values(**row))
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="tool_version.created",
        entity_type="tool_version",
        entity_id=str(row["id"]),
        details={"label": tool.label, "questions": len(tool.questions)},
    )
    await uow.commit()
    return {**row, "published_at": None, "published_by": None}


async def publish(uow: UnitOfWork, *, principal: Principal, tool_version_id: uuid.UUID) -> dict[str, Any]:
    """The draft becomes the country and sector's current version; the one before is retired (assessments
    already pinned to it keep it)."""
    row = (
        (await uow.session.execute(select(TOOL_VERSION).where(TOOL_VERSION.c.id == tool_version_id).with_for_update()))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"No tool version {tool_version_id}.")
    check_staff(principal, row["country"])
    if row["status"] != "draft":
        raise Conflict(f"Tool version {row['label']} is {row['status']}; only a draft can be published.")
    now = datetime.now(UTC)
    await uow.session.execute(
        TOOL_VERSION.update()
        .where(
            TOOL_VERSION.c.country == row["country"],
            TOOL_VERSION.c.sector == row["sector"],
            TOOL_VERSION.c.status == "published",
        )
        .values(status="retired")
    )
    await uow.session.execute(
        TOOL_VERSION.update()
        .where(TOOL_VERSION.c.id == tool_version_id)
        .values(status="published", published_at=now, published_by=principal.subject)
    )
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="tool_version.published",
        entity_type="tool_version",
        entity_id=str(tool_version_id),
        details={"label": row["label"]},
    )
    await uow.commit()
    return {**dict(row), "status": "published", "published_at": now, "published_by": principal.subject}


async def current(uow: UnitOfWork, country: str, sector: str) -> dict[str, Any]:
    """The published version's row, without its documents (`load_tool` gives the tool)."""
    row = (
        (
            await uow.session.execute(
                select(*_META).where(
                    TOOL_VERSION.c.country == country,
                    TOOL_VERSION.c.sector == sector,
                    TOOL_VERSION.c.status == "published",
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise Conflict(f"No published tool for {country} {sector}; publish one first (POST /v1/tools).")
    return dict(row)


async def list_versions(uow: UnitOfWork, *, country: str | None) -> list[dict[str, Any]]:
    stmt = select(*_META).order_by(TOOL_VERSION.c.created_at.desc())
    if country:
        stmt = stmt.where(TOOL_VERSION.c.country == country.upper())
    return [dict(r) for r in (await uow.session.execute(stmt)).mappings()]


async def load_protocol(uow: UnitOfWork, country: str) -> Protocol | None:
    row = (await uow.session.execute(select(ZT_PROTOCOL.c.document).where(ZT_PROTOCOL.c.country == country))).first()
    return parse_protocol(row[0]) if row is not None else None


async def put_protocol(uow: UnitOfWork, *, principal: Principal, body: bytes) -> Protocol:
    try:
        document = yaml.safe_load(body.decode("utf-8"))
        protocol = parse_protocol(document)
    except (UnicodeDecodeError, yaml.YAMLError, CaseError, AttributeError, TypeError, ValueError) as exc:
        raise BadRequest(f"The protocol is not valid: {exc}") from exc
    check_staff(principal, protocol.country)
    from sqlalchemy.dialects.postgresql import insert

    now = datetime.now(UTC)
    stmt = insert(ZT_PROTOCOL).values(
        country=protocol.country, document=document, loaded_at=now, loaded_by=principal.subject
    )
    await uow.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["country"], set_={"document": document, "loaded_at": now, "loaded_by": principal.subject}
        )
    )
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="zero_tolerance_protocol.loaded",
        entity_type="zero_tolerance_protocol",
        entity_id=protocol.country,
    )
    await uow.commit()
    return protocol


async def load_shipped(database: Database) -> None:
    """First start of an instance: publish the shipped country tool(s) and protocol(s) that are not there yet.

    Idempotent and safe with several processes starting at once (one advisory lock).
    """
    async with database.unit_of_work() as uow:
        await uow.session.execute(text("SELECT pg_advisory_xact_lock(hashtext('assessments.shipped-data'))"))
        for name in SHIPPED_TOOLS:
            tool = parse_yaml((DATA / name).read_bytes())
            count = await uow.session.scalar(
                select(func.count())
                .select_from(TOOL_VERSION)
                .where(TOOL_VERSION.c.country == tool.country, TOOL_VERSION.c.sector == tool.sector)
            )
            if count:
                continue
            global_template, country_tool = to_documents(tool)
            now = datetime.now(UTC)
            await uow.session.execute(
                TOOL_VERSION.insert().values(
                    id=uuid.uuid4(),
                    country=tool.country,
                    sector=tool.sector,
                    label=tool.label,
                    status="published",
                    effective_from=tool.effective_from,
                    global_template=global_template,
                    country_tool=country_tool,
                    question_count=len(tool.questions),
                    created_at=now,
                    created_by=SYSTEM.subject,
                    published_at=now,
                    published_by=SYSTEM.subject,
                )
            )
        for name in SHIPPED_PROTOCOLS:
            document = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
            protocol = parse_protocol(document)
            exists = await uow.session.scalar(
                select(func.count()).select_from(ZT_PROTOCOL).where(ZT_PROTOCOL.c.country == protocol.country)
            )
            if not exists:
                await uow.session.execute(
                    ZT_PROTOCOL.insert().values(
                        country=protocol.country,
                        document=document,
                        loaded_at=datetime.now(UTC),
                        loaded_by=SYSTEM.subject,
                    )
                )
        await uow.commit()
