"""Fixtures for servicekit's own tests: a throwaway service built on the shared runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, ClassVar

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict

from devstack.pytest_plugin import TestPlatform, serve_in_process
from servicekit.app import create_service_app
from servicekit.audit import record_audit
from servicekit.auth import Principal, Role, require
from servicekit.definition import ServiceDefinition
from servicekit.edge import StaffPrincipal, StrictInput, UnitOfWorkDep, principal_with_scope
from servicekit.settings import ServiceSettings


class SampleSettings(ServiceSettings):
    """Borrows the registry schema and role, which the session fixture has provisioned and migrated."""

    model_config = SettingsConfigDict(extra="ignore", env_prefix="SAMPLE_")
    service_name: ClassVar[str] = "registry"
    default_port: ClassVar[int] = 8999


class WorkforceIn(BaseModel):
    total: int = Field(ge=0)
    women: int = Field(ge=0)


sample_router = APIRouter(prefix="/v1/sample")


@sample_router.post("/workforce", status_code=201)
async def post_workforce(
    body: WorkforceIn, principal: Annotated[Principal, Depends(require(Role.STAFF))]
) -> WorkforceIn:
    return body


@sample_router.get("/scoped")
async def get_scoped(
    principal: Annotated[Principal, Depends(require(Role.SERVICE, scopes=("registry:read",)))],
) -> dict[str, str]:
    return {"subject": principal.subject}


class NoteIn(StrictInput):
    entity_id: str
    commit: bool = True
    fail_after_write: bool = False


@sample_router.post("/notes", status_code=201)
async def post_note(body: NoteIn, uow: UnitOfWorkDep, staff: StaffPrincipal) -> NoteIn:
    """Writes one audit row through the request's unit of work; kept only if the route commits."""
    await record_audit(
        uow.session, schema="registry", actor=staff, action="note", entity_type="note", entity_id=body.entity_id
    )
    if body.fail_after_write:
        raise RuntimeError("failed half-way")
    if body.commit:
        await uow.commit()
    return body


class NamedIn(StrictInput):
    names: list[dict[str, str]]


@sample_router.post("/names")
async def post_names(body: NamedIn, staff: StaffPrincipal) -> NamedIn:
    return body


@sample_router.get("/echo")
async def get_echo(q: str = "") -> dict[str, str]:
    return {"q": q}


@sample_router.post("/uploads", max_body_size=64 * 1024)
async def post_upload(request: Request, staff: StaffPrincipal) -> dict[str, int]:
    """Streams its body like the registry's CSV upload, with a cap of its own above the service default."""
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return {"bytes": size}


@sample_router.get("/alerts-feed")
async def get_alerts_feed(
    principal: Annotated[Principal, principal_with_scope(Role.BUYER, Role.SERVICE, service_scope="zt:receive:*")],
) -> dict[str, str]:
    return {"subject": principal.subject}


@sample_router.get("/boom")
async def get_boom() -> None:
    raise RuntimeError("secret internals must not leak")


def build_sample_app(settings: SampleSettings) -> FastAPI:
    return create_service_app(SAMPLE, settings, routers=[sample_router])


SAMPLE = ServiceDefinition(
    name="sample",
    title="Sample",
    summary="A service used only by servicekit's tests.",
    settings_cls=SampleSettings,
    create_app=build_sample_app,
    migrations_dir=Path(__file__).parent,
)


def sample_settings(platform: TestPlatform, **overrides: object) -> SampleSettings:
    values = platform.settings("registry").model_dump()
    values.update(overrides)
    return SampleSettings(**values)


SampleAppFactory = Callable[..., FastAPI]


@pytest.fixture
def make_sample_app(test_platform: TestPlatform) -> SampleAppFactory:
    """Build the sample app against this session's platform, with settings overridden as given."""

    def make(**overrides: object) -> FastAPI:
        return build_sample_app(sample_settings(test_platform, **overrides))

    return make


@pytest.fixture
async def sample_client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_process(build_sample_app(sample_settings(test_platform))) as client:
        yield client
