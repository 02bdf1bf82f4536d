"""Tool versions: import (YAML), publish, read, export; zero-tolerance protocols; the shipped tool and protocol
loaded on an instance's first start."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from assessments.adapters.audit import audit
from assessments.adapters.tools import ToolRepository
from assessments.domain.tool import Tool, ToolError, ToolStatus, ToolVersion, draft_version, parse_tool, to_documents
from assessments.domain.zero_tolerance import CaseError, Protocol, parse_protocol
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


async def load_tool(uow: UnitOfWork, tool_version_id: uuid.UUID) -> tuple[ToolVersion, Tool]:
    """A version and its parsed tool (404 if there is none); a published one is parsed once per process."""
    found = await ToolRepository(uow.session).load(tool_version_id)
    if found is None:
        raise NotFound(f"No tool version {tool_version_id}.")
    return found


async def current(uow: UnitOfWork, country: str, sector: str) -> ToolVersion:
    """The published version of a country and sector (409 if none is)."""
    version = await ToolRepository(uow.session).current(country, sector)
    if version is None:
        raise Conflict(f"No published tool for {country} {sector}; publish one first (POST /v1/tools).")
    return version


async def create_version(uow: UnitOfWork, *, principal: Principal, tool: Tool) -> ToolVersion:
    check_staff(principal, tool.country)
    tools = ToolRepository(uow.session)
    version = draft_version(tool, by=principal.subject, now=datetime.now(UTC))
    if await tools.label_taken(tool.country, tool.sector, tool.label):
        raise Conflict(f"Tool {tool.label} ({tool.country}, {tool.sector}) exists; give the new version a new label.")
    await tools.add(version, tool)
    await audit(
        uow.session,
        principal,
        action="tool_version.created",
        entity_type="tool_version",
        entity_id=str(version.id),
        details={"label": tool.label, "questions": len(tool.questions)},
    )
    await uow.commit()
    return version


async def publish(uow: UnitOfWork, *, principal: Principal, tool_version_id: uuid.UUID) -> ToolVersion:
    """The draft becomes the country and sector's current version; the one before is retired (assessments
    already pinned to it keep it)."""
    tools = ToolRepository(uow.session)
    draft = await tools.version(tool_version_id, for_update=True)
    if draft is None:
        raise NotFound(f"No tool version {tool_version_id}.")
    check_staff(principal, draft.country)
    if draft.status is not ToolStatus.DRAFT:
        raise Conflict(f"Tool version {draft.label} is {draft.status.value}; only a draft can be published.")
    published = replace(
        draft, status=ToolStatus.PUBLISHED, published_at=datetime.now(UTC), published_by=principal.subject
    )
    await tools.publish(published)
    await audit(
        uow.session,
        principal,
        action="tool_version.published",
        entity_type="tool_version",
        entity_id=str(tool_version_id),
        details={"label": draft.label},
    )
    await uow.commit()
    return published


async def list_versions(uow: UnitOfWork, *, country: str | None) -> list[ToolVersion]:
    return await ToolRepository(uow.session).versions(country.upper() if country else None)


async def protocol_of(uow: UnitOfWork, country: str) -> Protocol:
    """The country's zero-tolerance protocol (409 if none is loaded)."""
    protocol = await ToolRepository(uow.session).protocol(country)
    if protocol is None:
        raise Conflict(
            f"No zero-tolerance protocol is loaded for {country}; load one (PUT /v1/zero-tolerance-protocol)."
        )
    return protocol


async def put_protocol(uow: UnitOfWork, *, principal: Principal, body: bytes) -> Protocol:
    try:
        document = yaml.safe_load(body.decode("utf-8"))
        protocol = parse_protocol(document)
    except (UnicodeDecodeError, yaml.YAMLError, CaseError, AttributeError, TypeError, ValueError) as exc:
        raise BadRequest(f"The protocol is not valid: {exc}") from exc
    check_staff(principal, protocol.country)
    await ToolRepository(uow.session).put_protocol(
        protocol.country, document, at=datetime.now(UTC), by=principal.subject
    )
    await audit(
        uow.session,
        principal,
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
        tools = ToolRepository(uow.session)
        await tools.lock_shipped_data()
        for name in SHIPPED_TOOLS:
            tool = parse_yaml((DATA / name).read_bytes())
            if await tools.has_any(tool.country, tool.sector):
                continue
            now = datetime.now(UTC)
            draft = draft_version(tool, by=SYSTEM.subject, now=now)
            await tools.add(
                replace(draft, status=ToolStatus.PUBLISHED, published_at=now, published_by=SYSTEM.subject), tool
            )
        for name in SHIPPED_PROTOCOLS:
            document = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
            protocol = parse_protocol(document)
            if not await tools.has_protocol(protocol.country):
                await tools.put_protocol(protocol.country, document, at=datetime.now(UTC), by=SYSTEM.subject)
        await uow.commit()
