"""Alembic per service: the version table lives in the service's own schema.

A service's `migrations/env.py` is two lines that call `run_env()`; the
platform runs `upgrade(definition, settings)` as the service's own role, so
every table it creates belongs to that role and lives in that schema.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from servicekit.definition import ServiceDefinition
from servicekit.settings import ServiceSettings

VERSION_TABLE = "alembic_version"


def alembic_config(definition: ServiceDefinition, settings: ServiceSettings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(definition.migrations_dir))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["settings"] = settings
    cfg.attributes["definition"] = definition
    return cfg


def upgrade(definition: ServiceDefinition, settings: ServiceSettings, revision: str = "head") -> None:
    """Bring the service's schema to `revision`; safe to call from inside or outside an event loop."""
    _run_outside_loop(lambda: command.upgrade(alembic_config(definition, settings), revision))


def downgrade(definition: ServiceDefinition, settings: ServiceSettings, revision: str) -> None:
    _run_outside_loop(lambda: command.downgrade(alembic_config(definition, settings), revision))


def _run_outside_loop(fn: Any) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        fn()
        return
    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    worker = threading.Thread(target=target)
    worker.start()
    worker.join()
    if errors:
        raise errors[0]


def run_env() -> None:
    """Body of every service's `env.py` (online mode only: migrations run against a live database)."""
    settings: ServiceSettings = context.config.attributes["settings"]
    schema = settings.db_schema

    def configure_and_run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=None,
            version_table_schema=schema,
            version_table=VERSION_TABLE,
            include_schemas=False,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(
            settings.service_database_url(),
            poolclass=pool.NullPool,
            connect_args={"server_settings": {"search_path": schema}},
        )
        try:
            async with engine.connect() as connection:
                await connection.run_sync(configure_and_run)
        finally:
            await engine.dispose()

    asyncio.run(run())
