"""Manufacturing groups over HTTP: list them with their member counts, read one, create one."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from registry.api.schemas import GroupCreate, GroupOut, group_out
from registry.service import groups
from registry.settings import RegistrySettings
from servicekit.edge import StaffPrincipal, UnitOfWorkDep, settings_of
from servicekit.errors import PROBLEM_RESPONSES
from servicekit.pagination import Page, PageQuery

router = APIRouter(prefix="/v1/manufacturing-groups", tags=["manufacturing groups"], responses=PROBLEM_RESPONSES)


@router.get("", summary="Manufacturing groups with their member counts")
async def list_manufacturing_groups(
    request: Request,
    uow: UnitOfWorkDep,
    staff: StaffPrincipal,
    page: PageQuery,
    q: Annotated[str | None, Query(max_length=200, description="Text in the group's name.")] = None,
) -> Page[GroupOut]:
    """Sort by `name` (default) or `created_at`, `-` for descending; cursor pages. A group counts its factories
    in every country (`members_by_country` splits the count); merged and exited records do not count."""
    found, cursor = await groups.list_groups(
        uow, principal=staff, settings=settings_of(request, RegistrySettings), q=q, page=page
    )
    return Page[GroupOut](items=[group_out(m) for m in found], next_cursor=cursor)


@router.get("/{group_id}", summary="One manufacturing group and its member count")
async def get_manufacturing_group(
    group_id: uuid.UUID, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> GroupOut:
    """Its members are listed by `GET /v1/factories?group_id=...`."""
    membership = await groups.get_group(
        uow, principal=staff, settings=settings_of(request, RegistrySettings), group_id=group_id
    )
    return group_out(membership)


@router.post("", status_code=201, summary="Create a manufacturing group")
async def create_manufacturing_group(
    body: GroupCreate, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> GroupOut:
    """A group before any factory names it (naming it in a factory's `group_name` creates it too); 409 with the
    existing group's id when a group of that name exists."""
    membership = await groups.create_group(
        uow, principal=staff, settings=settings_of(request, RegistrySettings), name=body.name
    )
    return group_out(membership)
