"""Each service's role can use its own schema and nothing else: "owns its schema" is enforced by Postgres."""

from __future__ import annotations

import asyncpg
import pytest
from alembic.script import ScriptDirectory

from devstack.pytest_plugin import TestPlatform
from devstack.testkit.database import connect_as
from servicekit.migrations import alembic_config


async def test_registry_role_cannot_read_assessments_tables(test_platform: TestPlatform) -> None:
    conn = await connect_as(test_platform, "registry")
    try:
        assert await conn.fetchval("SELECT count(*) FROM registry.audit_event") >= 0
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="schema assessments"):
            await conn.fetch("SELECT * FROM assessments.audit_event")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("INSERT INTO assessments.audit_event (id) VALUES (gen_random_uuid())")
    finally:
        await conn.close()


async def test_every_role_is_confined_to_its_own_schema(test_platform: TestPlatform) -> None:
    names = list(test_platform.services)
    for service in names:
        conn = await connect_as(test_platform, service)
        try:
            assert await conn.fetchval("SHOW search_path") == service
            assert await conn.fetchval("SELECT current_user") == f"bw_{service}"
            for other in names:
                if other != service:
                    assert not await conn.fetchval("SELECT has_schema_privilege($1, 'USAGE')", other), (service, other)
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("CREATE TABLE public.sneaky (id int)")
        finally:
            await conn.close()


async def test_service_roles_are_not_privileged(test_platform: TestPlatform) -> None:
    conn = await connect_as(test_platform, "registry")
    try:
        row = await conn.fetchrow(
            "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
        )
        assert tuple(row) == (False, False, False)
    finally:
        await conn.close()


async def test_migration_history_lives_in_each_schema(test_platform: TestPlatform) -> None:
    for service, definition in test_platform.services.items():
        head = ScriptDirectory.from_config(
            alembic_config(definition, test_platform.settings(service))
        ).get_current_head()
        conn = await connect_as(test_platform, service)
        try:
            assert await conn.fetchval(f"SELECT version_num FROM {service}.alembic_version") == head
        finally:
            await conn.close()
