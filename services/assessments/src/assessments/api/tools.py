"""The Compliance Assessment Tool over HTTP: tool versions (import, publish, read, export as YAML) and the
country's zero-tolerance protocol."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from assessments.api.programme import CountryProgrammeDep
from assessments.api.schemas import ProtocolOut, ToolVersionDetailOut, ToolVersionOut
from assessments.service import tools
from servicekit.downloads import content_disposition
from servicekit.edge import AnyPrincipal, StaffPrincipal, UnitOfWorkDep
from servicekit.errors import PROBLEM_RESPONSES, BadRequest

router = APIRouter(responses=PROBLEM_RESPONSES)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
YAML_BODY = {"requestBody": {"required": True, "content": {t: {"schema": {"type": "string"}} for t in YAML_TYPES[:1]}}}


async def _yaml_body(request: Request) -> bytes:
    if request.headers.get("content-type", "").split(";")[0].strip() not in YAML_TYPES:
        raise BadRequest(f"Send YAML with Content-Type {YAML_TYPES[0]}.")
    body = await request.body()
    if len(body) > 5 * 1024 * 1024:
        raise BadRequest("The document is larger than 5 MB.")
    return body


@router.post(
    "/v1/tools", status_code=201, tags=["tool"], summary="Import a tool version (YAML)", openapi_extra=YAML_BODY
)
async def import_tool(
    request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal, programme: CountryProgrammeDep
) -> ToolVersionOut:
    """A country tool (`kind: cat-country-tool`, joined with the shipped global template) or a whole exported
    version (`kind: cat-tool-version`). It starts as a draft; publish it to use it. Where the country pack names
    a tool this release does not ship, only that tool is accepted: the document says so with `code` and `version`
    (409 naming both otherwise; see `GET /v1/programme`)."""
    tool = tools.parse_yaml(await _yaml_body(request))
    return ToolVersionOut.of(await tools.create_version(uow, principal=staff, tool=tool, programme=programme))


@router.get("/v1/tools", tags=["tool"], summary="Tool versions")
async def list_tools(
    uow: UnitOfWorkDep, staff: StaffPrincipal, country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None
) -> list[ToolVersionOut]:
    return [ToolVersionOut.of(v) for v in await tools.list_versions(uow, country=country)]


@router.get(
    "/v1/tools/{tool_version_id}",
    tags=["tool"],
    summary="A tool version with its questions",
    response_model_exclude_unset=True,  # a question's optional keys only where its document has them
)
async def get_tool(tool_version_id: uuid.UUID, uow: UnitOfWorkDep, principal: AnyPrincipal) -> ToolVersionDetailOut:
    """Clusters, compliance points and questions (texts, legal references, tags, SLCP mappings)."""
    version, tool = await tools.load_tool(uow, tool_version_id)
    return ToolVersionDetailOut.of_tool(version, tool)


@router.get(
    "/v1/tools/{tool_version_id}/export",
    tags=["tool"],
    summary="Export a tool version as YAML",
    response_class=Response,
    responses={200: {"content": {"application/yaml": {}}}},
)
async def export_tool(tool_version_id: uuid.UUID, uow: UnitOfWorkDep, principal: AnyPrincipal) -> Response:
    version, tool = await tools.load_tool(uow, tool_version_id)
    return Response(
        tools.export_yaml(tool),
        media_type="application/yaml",
        headers={"Content-Disposition": content_disposition(f"{version.label.replace(' ', '_')}.yaml")},
    )


@router.post("/v1/tools/{tool_version_id}/publish", tags=["tool"], summary="Publish a draft tool version")
async def publish_tool(
    tool_version_id: uuid.UUID, uow: UnitOfWorkDep, staff: StaffPrincipal, programme: CountryProgrammeDep
) -> ToolVersionOut:
    """It becomes current for its country and sector; assessments started earlier keep their version."""
    return ToolVersionOut.of(
        await tools.publish(uow, principal=staff, tool_version_id=tool_version_id, programme=programme)
    )


@router.put(
    "/v1/zero-tolerance-protocol",
    tags=["zero tolerance"],
    summary="Load a country's zero-tolerance protocol (YAML)",
    openapi_extra=YAML_BODY,
)
async def put_protocol(
    request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal, programme: CountryProgrammeDep
) -> ProtocolOut:
    """Which issues are zero tolerance, who is told, and each step's deadline (`kind: zero-tolerance-protocol`).
    Where the country pack names a protocol this release does not ship, only that one is accepted (its `code`
    and `version`; 409 naming both otherwise). A protocol for the pack's country must define every party of the
    pack's referral list (422 naming the missing ones in `unknown_parties`)."""
    protocol = await tools.put_protocol(uow, principal=staff, body=await _yaml_body(request), programme=programme)
    return ProtocolOut(
        country=protocol.country,
        issues=sorted(protocol.issues),
        parties=sorted(protocol.parties),
        code=protocol.code,
        version=protocol.version,
    )
