"""The HTTP edge every service shares: what a route may ask for, as `Annotated` dependencies.

A route reads like
`async def record_findings(assessment_id: UUID, body: FindingBatch, uow: UnitOfWorkDep, staff: StaffPrincipal)`:
the unit of work is open for the route and rolled back unless the use case commits; the principal has been
verified and holds the role (object-level checks stay in the use case). Input models derive from
`StrictInput`, so a field the client may not set is refused, not ignored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends
from pydantic import BaseModel, ConfigDict
from starlette.requests import HTTPConnection

from servicekit.auth.dependencies import CurrentPrincipal, require
from servicekit.auth.principal import Principal, Role
from servicekit.database import Database, UnitOfWork, database_of
from servicekit.settings import ServiceSettings


class StrictInput(BaseModel):
    """Base of every request body: unknown fields are an error (no mass assignment by a typo or on purpose)."""

    model_config = ConfigDict(extra="forbid")


async def _unit_of_work(connection: HTTPConnection) -> AsyncIterator[UnitOfWork]:
    async with database_of(connection).unit_of_work() as uow:
        yield uow


async def _database(connection: HTTPConnection) -> Database:  # async: a sync dependency runs in a thread
    return database_of(connection)


async def _settings(connection: HTTPConnection) -> ServiceSettings:
    settings: ServiceSettings = connection.app.state.settings
    return settings


# One transaction per request, closed as soon as the route returns (before the response is written), so the
# connection goes back to the pool while the body is serialised and sent.
UnitOfWorkDep = Annotated[UnitOfWork, Depends(_unit_of_work, scope="function")]
# The database itself, for hot reads that need no transaction (`Database.read_one`) and for work that opens
# several units of work of its own.
DatabaseDep = Annotated[Database, Depends(_database)]
# The service's settings; a route that needs its own settings class narrows it with `settings_of`.
SettingsDep = Annotated[ServiceSettings, Depends(_settings)]


S = TypeVar("S", bound=ServiceSettings)


def settings_of(connection: HTTPConnection, kind: type[S]) -> S:
    """The running service's settings as its own class (`settings_of(request, RegistrySettings)`)."""
    settings = connection.app.state.settings
    if not isinstance(settings, kind):
        raise TypeError(f"app settings are {type(settings).__name__}, not {kind.__name__}")
    return settings


def principal_with(*roles: Role) -> Any:
    """The dependency for a caller holding one of `roles` (admin always does): `Annotated[Principal, ...]`."""
    return Depends(require(*roles))


AnyPrincipal = CurrentPrincipal
StaffPrincipal = Annotated[Principal, Depends(require(Role.STAFF))]
FactoryPrincipal = Annotated[Principal, Depends(require(Role.FACTORY))]
BuyerPrincipal = Annotated[Principal, Depends(require(Role.BUYER))]
ServicePrincipal = Annotated[Principal, Depends(require(Role.SERVICE))]
AdminPrincipal = Annotated[Principal, Depends(require(Role.ADMIN))]
# Anyone who reads a programme's records through the API; what each may see is decided per object.
ReaderPrincipal = Annotated[Principal, Depends(require(Role.STAFF, Role.FACTORY, Role.BUYER, Role.SERVICE))]

__all__ = [
    "AdminPrincipal",
    "AnyPrincipal",
    "BuyerPrincipal",
    "DatabaseDep",
    "FactoryPrincipal",
    "ReaderPrincipal",
    "ServicePrincipal",
    "SettingsDep",
    "StaffPrincipal",
    "StrictInput",
    "UnitOfWorkDep",
    "principal_with",
    "settings_of",
]
