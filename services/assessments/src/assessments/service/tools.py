"""Tool versions: import (YAML), publish, read, export; zero-tolerance protocols; the shipped tool and protocol
loaded on an instance's first start; and, where the country pack names a tool or protocol this release does not
ship, the rules that make the instance run the one its pack names (`CountryProgramme`)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:  # country_pack builds on this module
    from assessments.service.country_pack import CountryProgramme

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


async def current(
    uow: UnitOfWork, country: str, sector: str, *, programme: CountryProgramme | None = None
) -> ToolVersion:
    """The published version of a country and sector (409 if none is; naming the pack's tool where the
    programme loads its own)."""
    version = await ToolRepository(uow.session).current(country, sector)
    if version is None:
        if programme is not None and programme.uploads_tool and programme.country == country:
            raise Conflict(
                f"No tool is published for {country} yet: this instance's country pack runs tool {programme.tool} "
                f"{programme.tool_version}; {programme.tool_step()}.",
                expected_tool={"code": programme.tool, "version": programme.tool_version},
            )
        raise Conflict(f"No published tool for {country} {sector}; publish one first (POST /v1/tools).")
    return version


def _uploads_tool(programme: CountryProgramme | None, country: str) -> bool:
    return programme is not None and programme.uploads_tool and programme.country == country


def _identity(code: str | None, version: str | None) -> dict[str, str | None]:
    return {"code": code, "version": version}


def _check_pack_tool(programme: CountryProgramme | None, tool: Tool, *, doing: str) -> None:
    """Where the pack names a tool this release does not ship, only that tool (its code and version, for the
    pack's country) may be uploaded or published: an instance runs the tool its pack says (409 naming both)."""
    if programme is None or not programme.uploads_tool:
        return
    if (tool.country, tool.code, tool.version) == (programme.country, programme.tool, programme.tool_version):
        return
    raise Conflict(
        f"This instance's country pack runs tool {programme.tool} {programme.tool_version} for {programme.country}; "
        f"the tool {doing} is {tool.code or '(no code)'} {tool.version or '(no version)'} for {tool.country}. "
        f'Give the document `code: {programme.tool}` and `version: "{programme.tool_version}"`, or change the '
        "pack. Nothing was changed.",
        expected_tool=_identity(programme.tool, programme.tool_version) | {"country": programme.country},
        received_tool=_identity(tool.code, tool.version) | {"country": tool.country},
    )


async def pack_tool(uow: UnitOfWork, programme: CountryProgramme) -> ToolVersion | None:
    """The published version that runs the pack's tool: one whose document names the pack's code and version
    (a tool the programme uploads), or any published version of the country (a shipped tool)."""
    for version in await ToolRepository(uow.session).versions(programme.country):
        if version.status is not ToolStatus.PUBLISHED:
            continue
        if not programme.uploads_tool:
            return version
        _, tool = await load_tool(uow, version.id)
        if (tool.code, tool.version) == (programme.tool, programme.tool_version):
            return version
    return None


async def pack_protocol(uow: UnitOfWork, programme: CountryProgramme) -> Protocol | None:
    """The loaded protocol if it is the pack's (for a shipped one: whichever protocol of the country is loaded)."""
    protocol = await ToolRepository(uow.session).protocol(programme.country)
    if protocol is None or not programme.uploads_protocol:
        return protocol
    return protocol if (protocol.code, protocol.version) == (programme.protocol, programme.protocol_version) else None


async def check_runs_pack(
    uow: UnitOfWork, *, programme: CountryProgramme | None, country: str, tool_version_id: uuid.UUID
) -> None:
    """Before an assessment of `country` is scheduled with a tool version: where the programme loads its own tool
    or protocol, the version must be the pack's tool and the pack's protocol must be loaded (409 naming what to
    load). So no zero-tolerance finding is ever recorded on an instance that lacks the protocol saying who is
    told: the gap is found when the visit is planned, not in the factory."""
    if programme is None or programme.country != country:
        return
    if programme.uploads_tool:
        _, tool = await load_tool(uow, tool_version_id)
        if (tool.code, tool.version) != (programme.tool, programme.tool_version):
            raise Conflict(
                f"Tool {tool.label} ({tool.code or 'no code'} {tool.version or 'no version'}) is not the tool this "
                f"instance's country pack runs, {programme.tool} {programme.tool_version}: {programme.tool_step()}.",
                expected_tool=_identity(programme.tool, programme.tool_version),
                received_tool=_identity(tool.code, tool.version),
            )
    if programme.uploads_protocol and await pack_protocol(uow, programme) is None:
        raise Conflict(
            f"No zero-tolerance protocol {programme.protocol} {programme.protocol_version} is loaded for "
            f"{programme.country}, so a zero-tolerance finding could not be acted on: {programme.protocol_step()} "
            "before scheduling assessments.",
            expected_protocol=_identity(programme.protocol, programme.protocol_version),
        )


async def create_version(
    uow: UnitOfWork, *, principal: Principal, tool: Tool, programme: CountryProgramme | None = None
) -> ToolVersion:
    check_staff(principal, tool.country)
    _check_pack_tool(programme, tool, doing="uploaded")
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
        details={"label": tool.label, "questions": len(tool.questions), "code": tool.code, "version": tool.version},
    )
    await uow.commit()
    return version


async def publish(
    uow: UnitOfWork, *, principal: Principal, tool_version_id: uuid.UUID, programme: CountryProgramme | None = None
) -> ToolVersion:
    """The draft becomes the country and sector's current version; the one before is retired (assessments
    already pinned to it keep it). Where the pack names a tool this release does not ship, only that tool."""
    tools = ToolRepository(uow.session)
    draft = await tools.version(tool_version_id, for_update=True)
    if draft is None:
        raise NotFound(f"No tool version {tool_version_id}.")
    check_staff(principal, draft.country)
    if draft.status is not ToolStatus.DRAFT:
        raise Conflict(f"Tool version {draft.label} is {draft.status.value}; only a draft can be published.")
    if _uploads_tool(programme, draft.country):
        _check_pack_tool(programme, (await load_tool(uow, tool_version_id))[1], doing="to publish")
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


async def put_protocol(
    uow: UnitOfWork, *, principal: Principal, body: bytes, programme: CountryProgramme | None = None
) -> Protocol:
    try:
        document = load_yaml_upload(body.decode("utf-8"))
        protocol = parse_protocol(document)
    except (UnicodeDecodeError, yaml.YAMLError, CaseError, AttributeError, TypeError, ValueError) as exc:
        raise BadRequest(f"The protocol is not valid: {exc}") from exc
    check_staff(principal, protocol.country)
    _check_pack_protocol(programme, protocol)
    _check_referrals(programme, protocol)
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


def _check_pack_protocol(programme: CountryProgramme | None, protocol: Protocol) -> None:
    """Where the pack names a protocol this release does not ship, only that one may be loaded (409 naming both)."""
    if programme is None or not programme.uploads_protocol:
        return
    expected = (programme.country, programme.protocol, programme.protocol_version)
    if (protocol.country, protocol.code, protocol.version) == expected:
        return
    raise Conflict(
        f"This instance's country pack runs zero-tolerance protocol {programme.protocol} {programme.protocol_version} "
        f"for {programme.country}; the protocol sent is {protocol.code or '(no code)'} "
        f"{protocol.version or '(no version)'} for {protocol.country}. Give the document "
        f'`code: {programme.protocol}` and `version: "{programme.protocol_version}"`, or change the pack. '
        "Nothing was changed.",
        expected_protocol=_identity(programme.protocol, programme.protocol_version) | {"country": programme.country},
        received_protocol=_identity(protocol.code, protocol.version) | {"country": protocol.country},
    )


def _check_referrals(programme: CountryProgramme | None, protocol: Protocol) -> None:
    """A protocol for the pack's country must define every party the pack refers findings to (422 naming them)."""
    if programme is None or protocol.country != programme.country:
        return
    problem = programme.referral_problem(protocol)
    if problem is not None:
        unknown = programme.unknown_referrals(protocol)
        raise Unprocessable(
            f"The protocol is not valid for this instance: {problem}. Nothing was changed.",
            errors=[{"pointer": "#/body/parties", "detail": f"missing referral parties: {', '.join(unknown)}"}],
            unknown_parties=unknown,
        )


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


async def load_shipped(
    database: Database, country: str | None = None, programme: CountryProgramme | None = None
) -> None:
    """First start of an instance: publish the shipped country tool and protocol of its country (see
    `shipped_for`) where none is there yet; with a country pack, those of the pack's tool and protocol that this
    release ships (none of a programme that loads its own).

    Idempotent and safe with several processes starting at once (one advisory lock).
    """
    files: list[tuple[str | None, str | None]] = (
        list(shipped_for(country)) if programme is None else [(programme.tool_file, programme.protocol_file)]
    )
    async with database.unit_of_work() as uow:
        tools = ToolRepository(uow.session)
        await tools.lock_shipped_data()
        for tool_file, protocol_file in files:
            tool = parse_yaml((DATA / tool_file).read_bytes()) if tool_file else None
            if tool is not None and not await tools.has_any(tool.country, tool.sector):
                now = datetime.now(UTC)
                draft = draft_version(tool, by=SYSTEM.subject, now=now)
                await tools.add(
                    replace(draft, status=ToolStatus.PUBLISHED, published_at=now, published_by=SYSTEM.subject), tool
                )
            if protocol_file is None:
                continue
            document = yaml.safe_load((DATA / protocol_file).read_text(encoding="utf-8"))
            protocol = parse_protocol(document)
            if tool is not None:
                check_covers(protocol, zero_tolerance_categories(tool), tool=tool.label)
            if not await tools.has_protocol(protocol.country):
                await tools.put_protocol(protocol.country, document, at=datetime.now(UTC), by=SYSTEM.subject)
        await uow.commit()
