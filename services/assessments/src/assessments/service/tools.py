"""Tool versions: import (YAML), publish, read, export; zero-tolerance protocols; the shipped tool and protocol
loaded on an instance's first start."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from assessments.adapters.audit import audit
from assessments.adapters.tools import ToolRepository
from assessments.domain.tool import (
    Tool,
    ToolError,
    ToolStatus,
    ToolVersion,
    draft_version,
    parse_tool,
    to_documents,
    zero_tolerance_categories,
)
from assessments.domain.zero_tolerance import CaseError, Protocol, check_covers, parse_protocol
from servicekit.auth import Principal, Role, check_staff
from servicekit.database import Database, UnitOfWork
from servicekit.errors import BadRequest, Conflict, NotFound, Unprocessable
from servicekit.uploads import load_yaml_upload

DATA = Path(__file__).resolve().parent.parent / "data"
# the country tool and zero-tolerance protocol shipped for each country programme
SHIPPED: dict[str, tuple[str, str]] = {
    "KH": ("tool_kh_garment.yaml", "zt_protocol_kh.yaml"),
    "VN": ("tool_vn_garment.yaml", "zt_protocol_vn.yaml"),
}
_log = logging.getLogger("assessments.tools")
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
    protocol = await tools.protocol(draft.country)
    if protocol is not None:
        _, tool = await load_tool(uow, tool_version_id)
        try:
            check_covers(protocol, zero_tolerance_categories(tool), tool=tool.label)
        except CaseError as exc:
            raise Conflict(f"{exc}; load a protocol that covers them first (PUT /v1/zero-tolerance-protocol).") from exc
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
        document = load_yaml_upload(body.decode("utf-8"))
        protocol = parse_protocol(document)
    except (UnicodeDecodeError, yaml.YAMLError, CaseError, AttributeError, TypeError, ValueError) as exc:
        raise BadRequest(f"The protocol is not valid: {exc}") from exc
    check_staff(principal, protocol.country)
    for version in await ToolRepository(uow.session).versions(protocol.country):
        if version.status is ToolStatus.PUBLISHED:
            _, tool = await load_tool(uow, version.id)
            try:
                check_covers(protocol, zero_tolerance_categories(tool), tool=tool.label)
            except CaseError as exc:
                raise Unprocessable(f"The protocol is not valid: {exc}.") from exc
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


def shipped_for(country: str | None) -> list[tuple[str, str]]:
    """The shipped tool and protocol files an instance loads: those of its country (`COUNTRY`); an instance
    without one (development, tests) loads every country's. A country with nothing shipped loads nothing:
    its staff publish their own (POST /v1/tools, PUT /v1/zero-tolerance-protocol)."""
    if country is None:
        return list(SHIPPED.values())
    if country.upper() not in SHIPPED:
        _log.warning("no tool or protocol is shipped for %s; publish them through the API", country)
        return []
    return [SHIPPED[country.upper()]]


async def load_shipped(database: Database, country: str | None = None) -> None:
    """First start of an instance: publish the shipped country tool and protocol of its country (see
    `shipped_for`) where none is there yet.

    Idempotent and safe with several processes starting at once (one advisory lock).
    """
    async with database.unit_of_work() as uow:
        tools = ToolRepository(uow.session)
        await tools.lock_shipped_data()
        for tool_file, protocol_file in shipped_for(country):
            tool = parse_yaml((DATA / tool_file).read_bytes())
            if not await tools.has_any(tool.country, tool.sector):
                now = datetime.now(UTC)
                draft = draft_version(tool, by=SYSTEM.subject, now=now)
                await tools.add(
                    replace(draft, status=ToolStatus.PUBLISHED, published_at=now, published_by=SYSTEM.subject), tool
                )
            document = yaml.safe_load((DATA / protocol_file).read_text(encoding="utf-8"))
            protocol = parse_protocol(document)
            check_covers(protocol, zero_tolerance_categories(tool), tool=tool.label)
            if not await tools.has_protocol(protocol.country):
                await tools.put_protocol(protocol.country, document, at=datetime.now(UTC), by=SYSTEM.subject)
        await uow.commit()
