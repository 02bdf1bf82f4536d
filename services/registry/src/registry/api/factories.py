"""Factories over HTTP. (The full registry API, with matching, merging and lists, comes with its own issue.)"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field

from registry.domain.factory import Factory
from registry.service import factories
from servicekit.auth import CurrentPrincipal, Principal, Role, require
from servicekit.database import Database
from servicekit.errors import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/factories", tags=["factories"], responses=PROBLEM_RESPONSES)

StaffPrincipal = Annotated[Principal, Depends(require(Role.STAFF))]


class FactoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=300, description="Legal name.")
    country: str = Field(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2.")
    address: str | None = Field(default=None, max_length=1000)


class FactoryRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=300)


class FactoryPublic(BaseModel):
    id: uuid.UUID
    name: str
    country: str
    address: str | None
    version: int
    registered_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, factory: Factory) -> FactoryPublic:
        return cls(**factory.__dict__)


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


@router.post("", status_code=201, summary="Register a factory")
async def create_factory(body: FactoryCreate, request: Request, principal: StaffPrincipal) -> FactoryPublic:
    async with _database(request).unit_of_work() as uow:
        factory = await factories.register_factory(
            uow, principal=principal, name=body.name, country=body.country, address=body.address
        )
    return FactoryPublic.of(factory)


@router.get("/{factory_id}", summary="One factory")
async def get_factory(factory_id: uuid.UUID, request: Request, principal: CurrentPrincipal) -> FactoryPublic:
    async with _database(request).unit_of_work() as uow:
        return FactoryPublic.of(await factories.get_factory(uow, principal=principal, factory_id=factory_id))


@router.patch("/{factory_id}", summary="Rename a factory")
async def rename_factory(
    factory_id: uuid.UUID,
    body: FactoryRename,
    request: Request,
    principal: StaffPrincipal,
    if_match: Annotated[str | None, Header(description="Version the change is based on (optimistic locking).")] = None,
) -> FactoryPublic:
    expected = int(if_match.strip('"W/')) if if_match and if_match.strip('"W/').isdigit() else None
    async with _database(request).unit_of_work() as uow:
        factory = await factories.rename_factory(
            uow, principal=principal, factory_id=factory_id, name=body.name, expected_version=expected
        )
    return FactoryPublic.of(factory)
