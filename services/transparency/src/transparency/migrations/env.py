"""Alembic environment: the shared runner, as this service's role, version table in its schema."""

from servicekit.migrations import run_env

run_env()
