"""Create the database, one login role and one schema per service, as the admin user.

Each role owns its schema and nothing else; no role gets USAGE on another
service's schema, so "a service owns its schema" is enforced by Postgres.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg
from sqlalchemy.engine import URL

from servicekit.settings import ServiceSettings, libpq_dsn


def _dsn(url: URL, database: str | None = None) -> str:
    return libpq_dsn(url if database is None else url.set(database=database))


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe SQL identifier {name!r}")
    return f'"{name}"'


async def create_database(admin_url: URL) -> bool:
    """Create the URL's database if missing; True when it was created."""
    name = admin_url.database
    assert name, "DATABASE_URL must name a database"
    conn = await asyncpg.connect(_dsn(admin_url, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        try:
            await conn.execute(f"CREATE DATABASE {_ident(name)}")
        except asyncpg.DuplicateDatabaseError:
            return False
        return True
    finally:
        await conn.close()


async def drop_database(admin_url: URL) -> None:
    name = admin_url.database
    assert name
    conn = await asyncpg.connect(_dsn(admin_url, "postgres"))
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)")
    finally:
        await conn.close()


async def provision(admin_url: URL, services: Iterable[ServiceSettings]) -> None:
    """Idempotent: roles, schemas, privileges and search paths for every service."""
    database = admin_url.database
    assert database
    conn = await asyncpg.connect(_dsn(admin_url))
    try:
        # Nobody but the owner creates objects in `public` (the default before PG 15 allowed everyone).
        await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        for settings in services:
            role, schema = _ident(settings.role), _ident(settings.db_schema)
            password = settings.db_password.get_secret_value() if settings.db_password else None
            # Roles are cluster-wide and parallel runs may race to create one.
            await conn.execute(
                f"""DO $$ BEGIN
                      CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
                    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"""
            )
            if password is not None:
                await conn.execute(f"ALTER ROLE {role} PASSWORD {_literal(password)}")
            await conn.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {_ident(database)} TO {role}")
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {role}")
            await conn.execute(f"ALTER SCHEMA {schema} OWNER TO {role}")
            await conn.execute(f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")
            await conn.execute(f"ALTER ROLE {role} IN DATABASE {_ident(database)} SET search_path = {schema}")
            for extension in settings.db_extensions:
                # Created by the admin (a service role cannot), inside the service's own schema.
                await conn.execute(f"CREATE EXTENSION IF NOT EXISTS {_ident(extension)} WITH SCHEMA {schema}")
    finally:
        await conn.close()


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def server_answers(admin_url: URL, timeout: float = 2) -> bool:
    try:
        conn = await asyncpg.connect(_dsn(admin_url, "postgres"), timeout=timeout)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True
