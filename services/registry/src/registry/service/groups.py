"""Use cases on manufacturing groups: list them with their member counts, read one, create one, and turn the
group a factory's create or patch names (by id or by name) into the group it is."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from registry.adapters import repository as repo
from registry.adapters.tables import SCHEMA
from registry.domain.groups import GroupMembership, GroupRuleError, group_key, new_group
from registry.service.access import check_staff
from registry.settings import RegistrySettings
from servicekit.audit import record_audit
from servicekit.auth import Principal
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, NotFound, Unprocessable
from servicekit.pagination import PageParams


def _invalid(pointer: str, detail: str) -> Unprocessable:
    return Unprocessable(
        detail,
        title="Request validation failed",
        errors=[{"pointer": pointer, "detail": detail, "code": "registry_rule"}],
    )


async def resolve_group(uow: UnitOfWork, values: Mapping[str, Any]) -> dict[str, Any]:
    """The factory values with the group they name made whole: an id becomes that group's id and name (422 when
    no such group), a name becomes the group of that name when there is one (its spelling of the name), else a
    new group of that name (created with the factory). An id and a name of two different groups: 422."""
    resolved = dict(values)
    group_id, name = values.get("group_id"), values.get("group_name")
    if group_id is not None:
        group = await repo.group_by_id(uow.session, group_id)
        if group is None:
            raise _invalid("#/body/group_id", f"No manufacturing group {group_id}.")
        if name is not None and _key(name) != group.key:
            raise _invalid("#/body/group_name", f"Group {group_id} is {group.name!r}, not {name!r}.")
        resolved["group_name"] = group.name
    elif name is not None:
        if "group_id" in values:  # an explicit null beside a name
            raise _invalid("#/body/group_id", "A group name with a null group id contradicts itself.")
        group = await repo.group_by_key(uow.session, _key(name))
        if group is not None:
            resolved["group_id"], resolved["group_name"] = group.id, group.name
    return resolved


def _key(name: str) -> str:
    try:
        return group_key(name)
    except GroupRuleError as exc:
        raise _invalid("#/body/group_name", str(exc)) from exc


async def list_groups(
    uow: UnitOfWork, *, principal: Principal, settings: RegistrySettings, q: str | None, page: PageParams
) -> tuple[list[GroupMembership], str | None]:
    """Groups with their member counts, for programme staff (a group spans countries; counts cover them all)."""
    check_staff(principal, settings.country)
    needle = None
    if q and q.strip():
        try:
            needle = group_key(q)
        except GroupRuleError:
            return [], None
    groups, cursor = await repo.search_groups(uow.session, q=needle, page=page)
    return await repo.group_memberships(uow.session, groups), cursor


async def get_group(
    uow: UnitOfWork, *, principal: Principal, settings: RegistrySettings, group_id: uuid.UUID
) -> GroupMembership:
    check_staff(principal, settings.country)
    group = await repo.group_by_id(uow.session, group_id)
    if group is None:
        raise NotFound(f"No manufacturing group {group_id}.")
    [membership] = await repo.group_memberships(uow.session, [group])
    return membership


async def create_group(
    uow: UnitOfWork, *, principal: Principal, settings: RegistrySettings, name: str
) -> GroupMembership:
    """A group before any factory names it (409 with its id when a group of that name exists)."""
    check_staff(principal, settings.country)
    try:
        group = new_group(name, now=datetime.now(UTC))
    except GroupRuleError as exc:
        raise _invalid("#/body/name", str(exc)) from exc
    if not await repo.insert_group(uow.session, group):
        existing = await repo.group_by_key(uow.session, group.key) or await repo.group_by_id(uow.session, group.id)
        found = existing or group
        raise Conflict(f"The group {found.name!r} exists already.", group_id=str(found.id))
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="manufacturing_group.created",
        entity_type="manufacturing_group",
        entity_id=str(group.id),
        details={"name": group.name},
    )
    await uow.commit()
    return GroupMembership(group=group, member_count=0, members_by_country={}, exited_count=0)
